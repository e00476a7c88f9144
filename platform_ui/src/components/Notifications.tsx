// Settings → Notifications and recovery: the number's WhatsApp templates (read from Meta), and for
// each message Nexus sends first (order paid, packed, shipped, cancelled; cart recovery) whether it
// is on, which approved template it uses and in which language; recovery's delay and cooldown.

import { useState, type FormEvent } from "react";

import type { NotificationSettings, TemplateInfo } from "../api/types";
import { Async, ErrorBox } from "./common";
import { useI18n, type Key } from "../i18n";
import { useAction, useApi, useResource } from "../useApi";

const EVENTS = ["order_paid", "order_packed", "order_fulfilled", "order_cancelled", "cart_recovery"] as const;
type EventName = (typeof EVENTS)[number];

function TemplatesTable({ items }: { items: TemplateInfo[] }) {
  const { t } = useI18n();
  if (items.length === 0) return <p className="muted">{t("notif.noTemplates")}</p>;
  return (
    <table data-testid="templates">
      <thead>
        <tr>
          <th scope="col">{t("notif.name")}</th>
          <th scope="col">{t("notif.language")}</th>
          <th scope="col">{t("notif.category")}</th>
          <th scope="col">{t("notif.status")}</th>
          <th scope="col" className="num">
            {t("notif.variables")}
          </th>
        </tr>
      </thead>
      <tbody>
        {items.map((tpl) => (
          <tr key={`${tpl.name}:${tpl.language}`} title={tpl.body ?? undefined}>
            <td>{tpl.name}</td>
            <td>{tpl.language}</td>
            <td>{tpl.category}</td>
            <td>
              <span className={`chip ${tpl.status === "APPROVED" ? "" : "warn"}`}>{tpl.status}</span>
            </td>
            <td className="num">{tpl.parameters}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function NotificationsForm({ initial, templates }: { initial: NotificationSettings; templates: TemplateInfo[] }) {
  const { t } = useI18n();
  const { client, can } = useApi();
  const [form, setForm] = useState<NotificationSettings>(initial);
  const [saved, setSaved] = useState(false);
  const editable = can("admin");
  const names = [...new Set(templates.filter((x) => x.status === "APPROVED").map((x) => x.name))].sort();
  const save = useAction(async () => {
    setForm(await client.put<NotificationSettings>("/api/v1/settings/notifications", { body: form }));
    setSaved(true);
  });
  const set = <E extends EventName>(event: E, patch: Partial<NotificationSettings[E]>) => {
    setSaved(false);
    setForm({ ...form, [event]: { ...form[event], ...patch } });
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void save.run();
  };
  return (
    <form onSubmit={onSubmit} data-testid="notification-settings">
      <table>
        <thead>
          <tr>
            <th scope="col">{t("notif.event")}</th>
            <th scope="col">{t("notif.enabled")}</th>
            <th scope="col">{t("notif.template")}</th>
            <th scope="col">{t("notif.language")}</th>
          </tr>
        </thead>
        <tbody>
          {EVENTS.map((event) => (
            <tr key={event} data-testid={`notif-${event}`}>
              <th scope="row">{t(`notif.${event}` as Key)}</th>
              <td>
                <input
                  type="checkbox"
                  aria-label={`${t(`notif.${event}` as Key)}: ${t("notif.enabled")}`}
                  checked={form[event].enabled}
                  disabled={!editable}
                  onChange={(e) => set(event, { enabled: e.target.checked })}
                />
              </td>
              <td>
                <select
                  aria-label={`${t(`notif.${event}` as Key)}: ${t("notif.template")}`}
                  value={form[event].template ?? ""}
                  disabled={!editable}
                  onChange={(e) => set(event, { template: e.target.value || null })}
                >
                  <option value="">{t("notif.none")}</option>
                  {[...new Set([...names, ...(form[event].template ? [form[event].template as string] : [])])].map((n) => (
                    <option key={n} value={n}>
                      {n}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                <input
                  aria-label={`${t(`notif.${event}` as Key)}: ${t("notif.language")}`}
                  value={form[event].language}
                  readOnly={!editable}
                  placeholder="es_AR"
                  maxLength={15}
                  onChange={(e) => set(event, { language: e.target.value })}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <label>
          {t("notif.delay")}
          <input
            type="number"
            min={10}
            max={10080}
            value={form.cart_recovery.delay_minutes}
            readOnly={!editable}
            onChange={(e) => set("cart_recovery", { delay_minutes: Number(e.target.value) })}
          />
        </label>
        <label>
          {t("notif.cooldown")}
          <input
            type="number"
            min={0}
            max={365}
            value={form.cart_recovery.cooldown_days}
            readOnly={!editable}
            onChange={(e) => set("cart_recovery", { cooldown_days: Number(e.target.value) })}
          />
        </label>
      </div>
      <p className="muted">{t("notif.variablesNote")}</p>
      {editable && (
        <div className="row">
          <button type="submit" disabled={save.pending}>
            {save.pending ? t("common.loading") : t("common.save")}
          </button>
          {saved && !save.pending && !save.error && <span role="status">{t("common.saved")}</span>}
          <ErrorBox error={save.error} />
        </div>
      )}
    </form>
  );
}

export function NotificationsSection() {
  const { t } = useI18n();
  const { client, can } = useApi();
  const templates = useResource((c, signal) => c.get<{ items: TemplateInfo[] }>("/api/v1/templates", { signal }), []);
  const settings = useResource(
    (c, signal) => c.get<NotificationSettings>("/api/v1/settings/notifications", { signal }),
    [],
  );
  const [synced, setSynced] = useState<number | null>(null);
  const sync = useAction(async () => {
    const out = await client.post<{ synced: number }>("/api/v1/templates/sync");
    setSynced(out.synced);
    templates.reload();
  });
  return (
    <section className="card" aria-labelledby="notifications-title" data-testid="settings-notifications">
      <h2 id="notifications-title">{t("notif.title")}</h2>
      <h3>{t("notif.templates")}</h3>
      <Async data={templates.data} error={templates.error} loading={templates.loading} reload={templates.reload}>
        {(d) => <TemplatesTable items={d.items} />}
      </Async>
      {can("admin") && (
        <div className="row">
          <button type="button" onClick={() => void sync.run()} disabled={sync.pending}>
            {sync.pending ? t("common.loading") : t("notif.sync")}
          </button>
          {synced !== null && <span role="status">{t("notif.synced", { n: synced })}</span>}
          <ErrorBox error={sync.error} />
        </div>
      )}
      <Async data={settings.data} error={settings.error} loading={settings.loading} reload={settings.reload}>
        {(s) => <NotificationsForm initial={s} templates={templates.data?.items ?? []} />}
      </Async>
    </section>
  );
}
