import { useState } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

import type { AnalyticsOverview, NotificationAnalytics } from "../api/types";
import { Async } from "../components/common";
import { RevenueSection } from "../components/Revenue";
import { LOCALES, useI18n, type Key } from "../i18n";
import { useResource } from "../useApi";

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function defaultRange(now = new Date()): { from: string; to: string } {
  const from = new Date(now.getTime() - 29 * 24 * 3600 * 1000);
  return { from: isoDay(from), to: isoDay(now) };
}

function pct(v: number | null): string {
  return v == null ? "—" : `${(v * 100).toFixed(1)} %`;
}

function seconds(v: number | null): string {
  if (v == null) return "—";
  return v < 90 ? `${v.toFixed(1)} s` : `${(v / 60).toFixed(1)} min`;
}

function Stat({ id, label, value }: { id: string; label: Key; value: string | number }) {
  const { t, lang } = useI18n();
  return (
    <div className="stat">
      <dt>{t(label)}</dt>
      <dd data-testid={`stat-${id}`}>{typeof value === "number" ? value.toLocaleString(LOCALES[lang]) : value}</dd>
    </div>
  );
}

function Table({ title, rows }: { title: Key; rows: { label: string; count: number }[] }) {
  const { t } = useI18n();
  return (
    <div className="card">
      <h2>{t(title)}</h2>
      {rows.length === 0 ? (
        <p className="muted">{t("common.none")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t(title)}</th>
              <th scope="col" className="num">
                {t("analytics.count")}
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.label}>
                <td>{r.label}</td>
                <td className="num">{r.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function AnalyticsView({ data }: { data: AnalyticsOverview }) {
  const { t } = useI18n();
  const x = data.totals;
  return (
    <>
      <dl className="stats" data-testid="analytics-totals">
        <Stat id="conversations" label="analytics.conversations" value={x.conversations} />
        <Stat id="messages_in" label="analytics.messagesIn" value={x.messages_in} />
        <Stat id="messages_out" label="analytics.messagesOut" value={x.messages_out} />
        <Stat id="answered_by_ai" label="analytics.byAi" value={x.answered_by_ai} />
        <Stat id="answered_by_human" label="analytics.byHuman" value={x.answered_by_human} />
        <Stat id="handoffs" label="analytics.handoffs" value={x.handoffs} />
        <Stat id="handoff_rate" label="analytics.handoffRate" value={pct(x.handoff_rate)} />
        <Stat id="median_frt" label="analytics.frt" value={seconds(x.median_first_response_seconds)} />
        <Stat id="fallback_rate" label="analytics.fallbackRate" value={pct(x.fallback_rate)} />
      </dl>
      <div className="charts">
        <div className="card chart" data-testid="chart-per-day">
          <h2>{t("analytics.perDay")}</h2>
          <ResponsiveContainer width="100%" height={260}>
            <LineChart data={data.days} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="date" tickFormatter={(d: string) => d.slice(5)} />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Line type="monotone" dataKey="messages_in" name={t("analytics.messagesIn")} stroke="#2563eb" dot={false} isAnimationActive={false} />
              <Line type="monotone" dataKey="messages_out" name={t("analytics.messagesOut")} stroke="#059669" dot={false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
        <div className="card chart" data-testid="chart-share">
          <h2>{t("analytics.share")}</h2>
          <ResponsiveContainer width="100%" height={260}>
            <BarChart data={data.days} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="date" tickFormatter={(d: string) => d.slice(5)} />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Bar dataKey="answered_by_ai" stackId="a" name={t("analytics.byAi")} fill="#7c3aed" isAnimationActive={false} />
              <Bar dataKey="answered_by_human" stackId="a" name={t("analytics.byHuman")} fill="#ea580c" isAnimationActive={false} />
              <Bar dataKey="handoffs" name={t("analytics.handoffs")} fill="#dc2626" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      </div>
      <div className="tables">
        <Table title="analytics.reasons" rows={data.handoff_reasons.map((r) => ({ label: r.reason, count: r.count }))} />
        <Table title="analytics.searches" rows={data.top_searches.map((r) => ({ label: r.query, count: r.count }))} />
        <Table title="analytics.unanswered" rows={data.unanswered_questions.map((r) => ({ label: r.question, count: r.count }))} />
      </div>
    </>
  );
}

/** What Nexus sent first (order updates, cart recovery) and what recovery brought back. */
export function NotificationCards({ data }: { data: NotificationAnalytics }) {
  const { lang } = useI18n();
  const revenue = Object.entries(data.recovery.revenue)
    .map(([cur, amount]) => Number(amount).toLocaleString(LOCALES[lang], { style: cur ? "currency" : "decimal", currency: cur || undefined }))
    .join(" + ");
  return (
    <dl className="stats" data-testid="notification-totals">
      <Stat id="notif_sent" label="analytics.notifSent" value={data.notifications.sent} />
      <Stat id="notif_delivered" label="analytics.notifDelivered" value={data.notifications.delivered} />
      <Stat id="notif_read" label="analytics.notifRead" value={data.notifications.read} />
      <Stat id="recovered" label="analytics.recovered" value={data.recovery.recovered} />
      <Stat id="recovered_revenue" label="analytics.recoveredRevenue" value={revenue || "—"} />
    </dl>
  );
}

export function Analytics() {
  const { t } = useI18n();
  const [draft, setDraft] = useState(defaultRange);
  const [range, setRange] = useState(draft);
  const res = useResource(
    (client, signal) => client.get<AnalyticsOverview>("/api/v1/analytics/overview", { query: range, signal }),
    [range.from, range.to],
  );
  const notif = useResource(
    (client, signal) => client.get<NotificationAnalytics>("/api/v1/analytics/notifications", { query: range, signal }),
    [range.from, range.to],
  );
  return (
    <section aria-labelledby="analytics-title">
      <h1 id="analytics-title">{t("analytics.title")}</h1>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setRange(draft);
        }}
      >
        <label>
          {t("analytics.from")}
          <input type="date" data-testid="range-from" value={draft.from} max={draft.to} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </label>
        <label>
          {t("analytics.to")}
          <input type="date" data-testid="range-to" value={draft.to} min={draft.from} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </label>
        <button type="submit">{t("analytics.apply")}</button>
      </form>
      <RevenueSection range={range} />
      <Async data={res.data} error={res.error} loading={res.loading} reload={res.reload}>
        {(data) => <AnalyticsView data={data} />}
      </Async>
      {notif.data && <NotificationCards data={notif.data} />}
    </section>
  );
}
