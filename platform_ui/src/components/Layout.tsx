import { useState, type ReactNode } from "react";

import { LANG_NAMES, LANGS, useI18n, type Key, type Lang } from "../i18n";
import { Link, type Route } from "../router";
import { useApi } from "../useApi";
import type { Role } from "../api/types";
import { StatusIndicator } from "./StatusIndicator";

const NAV: { name: Route["name"]; href: string; label: Key; least: Role }[] = [
  { name: "inbox", href: "/inbox", label: "nav.inbox", least: "viewer" },
  { name: "analytics", href: "/analytics", label: "nav.analytics", least: "viewer" },
  { name: "campaigns", href: "/campaigns", label: "nav.campaigns", least: "viewer" },
  { name: "telemetry", href: "/telemetry", label: "nav.telemetry", least: "admin" },
  { name: "settings", href: "/settings", label: "nav.settings", least: "viewer" },
  { name: "playground", href: "/playground", label: "nav.playground", least: "agent" },
];

export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <label className="lang">
      <span className="sr-only">{t("lang.label")}</span>
      <select
        aria-label={t("lang.label")}
        data-testid="lang-switch"
        value={lang}
        onChange={(e) => setLang(e.target.value as Lang)}
      >
        {LANGS.map((l) => (
          <option key={l} value={l} lang={l}>
            {LANG_NAMES[l]}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Layout({ route, children, unread }: { route: Route; children: ReactNode; unread: number }) {
  const { t } = useI18n();
  const { me, logout, can } = useApi();
  const [open, setOpen] = useState(false);
  const current = route.name === "conversation" ? "inbox" : route.name;
  return (
    <div className="shell">
      <a className="skip" href="#main">
        {t("app.skip")}
      </a>
      <header className="topbar">
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={open}
          aria-controls="nav"
          onClick={() => setOpen((o) => !o)}
        >
          {t("nav.menu")}
        </button>
        <span className="brand">{t("app.title")}</span>
        <StatusIndicator />
        <div className="topbar-right">
          <LanguageSwitch />
          {me && (
            <span className="who" data-testid="who">
              {me.user?.email ?? "super-admin"} · {t(`role.${me.role}`)}
            </span>
          )}
          <button type="button" className="secondary" onClick={() => void logout()}>
            {t("nav.logout")}
          </button>
        </div>
      </header>
      <nav id="nav" className={open ? "nav open" : "nav"} aria-label={t("nav.menu")}>
        <ul>
          {NAV.filter((n) => can(n.least)).map((n) => (
            <li key={n.name}>
              <Link
                href={n.href}
                aria-current={current === n.name ? "page" : undefined}
                onClick={() => setOpen(false)}
              >
                {t(n.label)}
                {n.name === "inbox" && unread > 0 && (
                  <span className="badge" data-testid="unread-total" aria-label={t("inbox.unread", { n: unread })}>
                    {unread}
                  </span>
                )}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
