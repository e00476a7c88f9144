import { useEffect } from "react";

import { ErrorBox, Loading } from "./components/common";
import { StatusIndicator } from "./components/StatusIndicator";
import { Layout } from "./components/Layout";
import { useI18n } from "./i18n";
import { Analytics } from "./pages/Analytics";
import { Campaigns } from "./pages/Campaigns";
import { Conversation } from "./pages/Conversation";
import { Inbox, NO_FILTERS, useInbox } from "./pages/Inbox";
import { Login } from "./pages/Login";
import { Playground } from "./pages/Playground";
import { Settings } from "./pages/Settings";
import { Telemetry } from "./pages/Telemetry";
import { matchRoute, navigate, usePath, type Route } from "./router";
import { useApi } from "./useApi";

function useUnreadTotal(): number {
  const inbox = useInbox(NO_FILTERS);
  return inbox.data?.items.reduce((n, c) => n + c.unread_count, 0) ?? 0;
}

function Page({ route }: { route: Route }) {
  const { t } = useI18n();
  const { can } = useApi();
  switch (route.name) {
    case "inbox":
      return <Inbox />;
    case "conversation":
      return <Conversation id={route.id} />;
    case "analytics":
      return <Analytics />;
    case "campaigns":
      return <Campaigns />;
    case "telemetry":
      return can("admin") ? <Telemetry /> : <p>{t("settings.readOnly")}</p>;
    case "settings":
      return <Settings />;
    case "playground":
      return can("agent") ? <Playground /> : <p>{t("settings.readOnly")}</p>;
    default:
      return <Inbox />;
  }
}

function SignedIn({ route }: { route: Route }) {
  const unread = useUnreadTotal();
  return (
    <Layout route={route} unread={unread}>
      <Page route={route} />
    </Layout>
  );
}

export function App() {
  const path = usePath();
  const route = matchRoute(path);
  const { session, me, meError, recheck } = useApi();
  const { t } = useI18n();

  useEffect(() => {
    if (!session && route.name !== "login") navigate("/login", true);
    if (session && route.name === "login") {
      const next = new URLSearchParams(window.location.search).get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/inbox", true);
    }
  }, [session, route.name]);

  useEffect(() => {
    document.title = `${t("app.title")} · ${route.name === "conversation" ? t("nav.inbox") : route.name === "login" ? t("login.submit") : t(`nav.${route.name === "notFound" ? "inbox" : route.name}` as "nav.inbox")}`;
  }, [route.name, t]);

  if (!session) return <Login />;
  if (!me) {
    return (
      <main id="main" className="login-card">
        <StatusIndicator />
        {meError ? <ErrorBox error={meError} onRetry={recheck} /> : <Loading />}
      </main>
    );
  }
  return <SignedIn route={route} />;
}
