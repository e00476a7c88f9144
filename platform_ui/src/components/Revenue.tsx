// Revenue attributed to conversations: cards and a per-day chart, by source.

import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import type { Revenue, SaleSource } from "../api/types";
import { LOCALES, useI18n } from "../i18n";
import { useResource } from "../useApi";
import { Async } from "./common";

const SOURCES: SaleSource[] = ["ai", "staff", "recovery", "campaign"];

export function RevenueView({ data }: { data: Revenue }) {
  const { t, lang } = useI18n();
  const fmt = (v: string | number) => {
    const n = Number(v);
    return data.currency ? n.toLocaleString(LOCALES[lang], { style: "currency", currency: data.currency }) : n.toLocaleString(LOCALES[lang]);
  };
  const days = data.by_day.map((d) => ({ ...d, revenue: Number(d.revenue) }));
  return (
    <div className="card" data-testid="revenue">
      <h2>{t("revenue.title")}</h2>
      <dl className="stats">
        <div className="stat">
          <dt>{t("revenue.total")}</dt>
          <dd data-testid="revenue-total">{fmt(data.revenue)}</dd>
        </div>
        <div className="stat">
          <dt>{t("revenue.orders")}</dt>
          <dd data-testid="revenue-orders">{data.orders}</dd>
        </div>
        <div className="stat">
          <dt>{t("revenue.conversion")}</dt>
          <dd>{(data.conversion_rate * 100).toFixed(1)} %</dd>
        </div>
        <div className="stat">
          <dt>{t("revenue.aov")}</dt>
          <dd>{fmt(data.average_order_value)}</dd>
        </div>
        {SOURCES.map((s) => (
          <div className="stat" key={s}>
            <dt>{t(`revenue.source.${s}`)}</dt>
            <dd data-testid={`revenue-${s}`}>
              {fmt(data.by_source[s]?.revenue ?? 0)} · {data.by_source[s]?.orders ?? 0}
            </dd>
          </div>
        ))}
      </dl>
      <div className="chart" data-testid="chart-revenue">
        <ResponsiveContainer width="100%" height={220}>
          <BarChart data={days} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" tickFormatter={(d: string) => d.slice(5)} />
            <YAxis />
            <Tooltip />
            <Bar dataKey="revenue" name={t("revenue.total")} fill="#059669" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}

export function RevenueSection({ range }: { range: { from: string; to: string } }) {
  const res = useResource(
    (client, signal) => client.get<Revenue>("/api/v1/analytics/revenue", { query: range, signal }),
    [range.from, range.to],
  );
  return (
    <Async data={res.data} error={res.error} loading={res.loading} reload={res.reload}>
      {(data) => <RevenueView data={data} />}
    </Async>
  );
}
