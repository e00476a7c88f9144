// Campaigns: create one (approved template, variables, audience with a live preview, schedule),
// start / pause / resume / cancel it, watch its progress live over the event stream, and read its
// report with the delivery funnel.
import { useState } from "react";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import type { TemplateInfo } from "../api/types";
import { Async, ErrorBox, formatTime } from "../components/common";
import { LOCALES, useI18n, type Key } from "../i18n";
import { useAction, useApi, useDebounced, useEvents, useResource } from "../useApi";

export interface CampaignCounts {
  total: number;
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  replied: number;
  failed: number;
  opted_out: number;
  skipped: number;
  cancelled: number;
}

export interface Campaign {
  id: string;
  name: string;
  template: string;
  language: string;
  status: "draft" | "scheduled" | "running" | "paused" | "done" | "cancelled";
  schedule_at: string | null;
  paused_reason: string | null;
  plan: { audience?: number; days?: number; spread?: boolean; messages_per_second?: number } | null;
  coupon?: { percent: string; code?: string; valid_until?: string } | null;
  counts: CampaignCounts | null;
}

export interface CampaignReport {
  counts: CampaignCounts;
  failed_by_code: Record<string, number>;
  skipped_by_reason: Record<string, number>;
  revenue: string;
  orders: number;
  paid_orders: number;
  currency: string | null;
  revenue_note: string;
}

const FIELDS = ["customer.first_name", "customer.name", "store.name"] as const;
const COUPON_FIELDS = ["coupon.code", "coupon.percent"] as const;

export function money(v: string | number, currency: string | null): string {
  const symbol = currency === "BRL" ? "R$" : currency === "USD" ? "US$" : "$";
  return `${symbol} ${Number(v).toFixed(2)}`;
}

export function progress(c: CampaignCounts | null): number {
  if (!c || c.total === 0) return 0;
  return Math.round(((c.total - c.queued) / c.total) * 100);
}

export function Funnel({ counts }: { counts: CampaignCounts }) {
  const { t } = useI18n();
  const data = (["total", "sent", "delivered", "read", "replied"] as const).map((k) => ({
    step: t(`campaigns.count.${k}` as Key),
    value: counts[k],
  }));
  return (
    <div style={{ width: "100%", height: 220 }} data-testid="campaign-funnel">
      <ResponsiveContainer>
        <BarChart data={data} layout="vertical" margin={{ left: 24 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis type="number" allowDecimals={false} />
          <YAxis type="category" dataKey="step" width={110} />
          <Tooltip />
          <Bar dataKey="value" fill="#2f6fed" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

function Report({ id, reloadKey }: { id: string; reloadKey: number }) {
  const { t } = useI18n();
  const report = useResource<CampaignReport>(
    (c, signal) => c.get("/api/v1/campaigns/{campaign_id}/report", { params: { campaign_id: id }, signal }),
    [id, reloadKey],
  );
  return (
    <Async {...report}>
      {(r) => (
        <div data-testid="campaign-report">
          <h3>{t("campaigns.report")}</h3>
          <dl className="stats">
            {(["total", "queued", "sent", "delivered", "read", "replied", "failed", "opted_out", "skipped"] as const).map((k) => (
              <div className="stat" key={k}>
                <dt>{t(`campaigns.count.${k}` as Key)}</dt>
                <dd data-testid={`campaign-count-${k}`}>{r.counts[k]}</dd>
              </div>
            ))}
          </dl>
          <Funnel counts={r.counts} />
          {Object.keys(r.failed_by_code).length > 0 && (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("campaigns.failedCode")}</th>
                  <th scope="col" className="num">
                    {t("campaigns.count.failed")}
                  </th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(r.failed_by_code).map(([code, n]) => (
                  <tr key={code}>
                    <td>{code}</td>
                    <td className="num">{n}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <dl className="stats">
            <div className="stat">
              <dt>{t("campaigns.revenue")}</dt>
              <dd data-testid="campaign-revenue">{money(r.revenue, r.currency)}</dd>
            </div>
            <div className="stat">
              <dt>{t("campaigns.orders")}</dt>
              <dd data-testid="campaign-orders">{r.orders}</dd>
            </div>
          </dl>
          <p className="muted">{t("campaigns.revenueNote")}</p>
        </div>
      )}
    </Async>
  );
}

function CampaignCard({ campaign, onChange }: { campaign: Campaign; onChange: () => void }) {
  const { t, lang } = useI18n();
  const { client, can } = useApi();
  const [spread, setSpread] = useState<string | null>(null);
  const act = useAction(async (what: "start" | "pause" | "resume" | "cancel", accept = false) => {
    try {
      await client.post(`/api/v1/campaigns/{campaign_id}/${what}` as "/api/v1/campaigns/{campaign_id}/start", {
        params: { campaign_id: campaign.id },
        body: what === "start" ? { accept_spread: accept } : undefined,
      });
      setSpread(null);
    } catch (err) {
      const e = err as { code?: string; details?: { plan?: { audience?: number; days?: number } } };
      if (e.code === "spread_over_days") {
        const plan = e.details?.plan ?? {};
        setSpread(t("campaigns.spreadNote", { n: plan.audience ?? 0, days: plan.days ?? 0 }));
        return;
      }
      throw err;
    }
    onChange();
  });
  const pct = progress(campaign.counts);
  return (
    <section className="card" data-testid="campaign-card" aria-labelledby={`c-${campaign.id}`}>
      <h2 id={`c-${campaign.id}`}>
        {campaign.name} <span className="muted">· {campaign.template} ({campaign.language})</span>
      </h2>
      <p>
        <strong data-testid="campaign-status">{t(`campaigns.status.${campaign.status}` as Key)}</strong>
        {campaign.schedule_at && ` · ${t("campaigns.scheduledFor")} ${formatTime(campaign.schedule_at, LOCALES[lang])}`}
        {campaign.paused_reason && ` · ${campaign.paused_reason}`}
      </p>
      {campaign.coupon && (
        <p className="muted" data-testid="campaign-coupon-info">
          {t("campaigns.coupon")}: {Number(campaign.coupon.percent)}% {campaign.coupon.code ?? ""}
        </p>
      )}
      {campaign.plan?.spread && (
        <p className="muted">{t("campaigns.spreadNote", { n: campaign.plan.audience ?? 0, days: campaign.plan.days ?? 0 })}</p>
      )}
      <progress max={100} value={pct} aria-label={t("campaigns.progress")} data-testid="campaign-progress" /> {pct} %
      {can("admin") && (
        <div className="row">
          {(campaign.status === "draft" || campaign.status === "scheduled") && (
            <button type="button" onClick={() => void act.run("start")} disabled={act.pending}>
              {t("campaigns.start")}
            </button>
          )}
          {(campaign.status === "running" || campaign.status === "scheduled") && (
            <button type="button" onClick={() => void act.run("pause")} disabled={act.pending}>
              {t("campaigns.pause")}
            </button>
          )}
          {campaign.status === "paused" && (
            <button type="button" onClick={() => void act.run("resume")} disabled={act.pending}>
              {t("campaigns.resume")}
            </button>
          )}
          {campaign.status !== "done" && campaign.status !== "cancelled" && (
            <button type="button" onClick={() => void act.run("cancel")} disabled={act.pending}>
              {t("campaigns.cancel")}
            </button>
          )}
        </div>
      )}
      {spread !== null && (
        <div className="card" role="alert">
          <p>{spread}</p>
          <button type="button" onClick={() => void act.run("start", true)}>
            {t("campaigns.acceptSpread")}
          </button>
        </div>
      )}
      <ErrorBox error={act.error} />
      {campaign.status !== "draft" && campaign.status !== "scheduled" && (
        <Report id={campaign.id} reloadKey={campaign.counts ? campaign.counts.total - campaign.counts.queued : 0} />
      )}
    </section>
  );
}

interface Preview {
  count: number;
  sample: { id: string; name: string | null; phone: string | null; language: string | null }[];
}

function NewCampaign({ onCreated }: { onCreated: () => void }) {
  const { t } = useI18n();
  const { client } = useApi();
  const templates = useResource<{ items: TemplateInfo[] }>((c, signal) => c.get("/api/v1/templates", { signal }), []);
  const approved = (templates.data?.items ?? []).filter((x) => x.status === "APPROVED");
  const [name, setName] = useState("");
  const [tpl, setTpl] = useState("");
  const [vars, setVars] = useState<string[]>([]);
  const [tags, setTags] = useState("");
  const [language, setLanguage] = useState("");
  const [activeDays, setActiveDays] = useState("");
  const [scheduleAt, setScheduleAt] = useState("");
  const [category, setCategory] = useState("");
  const [orderAfter, setOrderAfter] = useState("");
  const [orderBefore, setOrderBefore] = useState("");
  const [couponPercent, setCouponPercent] = useState("");
  const [preview, setPreview] = useState<Preview | null>(null);
  const chosen = approved.find((x) => `${x.name}|${x.language}` === tpl);
  const filter = () => {
    const f: Record<string, unknown> = {};
    const list = tags.split(",").map((s) => s.trim()).filter(Boolean);
    if (list.length) f.tags = list;
    if (language) f.language = language;
    if (activeDays) f.active_within_days = Number(activeDays);
    if (category.trim()) f.bought_categories = [category.trim()];
    if (orderAfter) f.last_order_after = orderAfter;
    if (orderBefore) f.last_order_before = orderBefore;
    return f;
  };
  const doPreview = useAction(async () => {
    setPreview(await client.post<Preview>("/api/v1/audiences/preview", { body: { filter: filter() } }));
  });
  const create = useAction(async () => {
    if (!chosen) return;
    await client.post("/api/v1/campaigns", {
      body: {
        name,
        template: chosen.name,
        language: chosen.language,
        variables: vars.slice(0, chosen.parameters),
        audience: { filter: filter() },
        schedule_at: scheduleAt || null,
        coupon: couponPercent ? { percent: couponPercent } : null,
      },
    });
    setName("");
    setPreview(null);
    onCreated();
  });
  return (
    <section className="card" aria-labelledby="new-campaign" data-testid="campaign-new">
      <h2 id="new-campaign">{t("campaigns.new")}</h2>
      <div className="actions">
        <label>
          {t("campaigns.name")}
          <input value={name} onChange={(e) => setName(e.target.value)} data-testid="campaign-name" />
        </label>
        <label>
          {t("campaigns.template")}
          <select
            value={tpl}
            data-testid="campaign-template"
            onChange={(e) => {
              setTpl(e.target.value);
              const found = approved.find((x) => `${x.name}|${x.language}` === e.target.value);
              setVars(["customer.first_name", "store.name", "customer.name"].slice(0, found?.parameters ?? 0));
            }}
          >
            <option value="">—</option>
            {approved.map((x) => (
              <option key={`${x.name}|${x.language}`} value={`${x.name}|${x.language}`}>
                {x.name} ({x.language})
              </option>
            ))}
          </select>
        </label>
        {chosen &&
          Array.from({ length: chosen.parameters }, (_, i) => (
            <label key={i}>
              {`{{${i + 1}}}`}
              <select
                value={vars[i] ?? ""}
                onChange={(e) => setVars((v) => Object.assign([...v], { [i]: e.target.value }))}
                data-testid={`campaign-var-${i + 1}`}
              >
                {[...FIELDS, ...(couponPercent ? COUPON_FIELDS : [])].map((f) => (
                  <option key={f} value={f}>
                    {t(`campaigns.field.${f}` as Key)}
                  </option>
                ))}
              </select>
            </label>
          ))}
      </div>
      {chosen?.body && <p className="muted">{chosen.body}</p>}
      <div className="actions">
        <label>
          {t("campaigns.tags")}
          <input value={tags} onChange={(e) => setTags(e.target.value)} data-testid="campaign-tags" />
        </label>
        <label>
          {t("campaigns.language")}
          <select value={language} onChange={(e) => setLanguage(e.target.value)}>
            <option value="">—</option>
            <option value="es">es</option>
            <option value="pt">pt</option>
            <option value="en">en</option>
          </select>
        </label>
        <label>
          {t("campaigns.activeDays")}
          <input type="number" min={1} value={activeDays} onChange={(e) => setActiveDays(e.target.value)} />
        </label>
        <label>
          {t("campaigns.boughtCategory")}
          <input value={category} onChange={(e) => setCategory(e.target.value)} data-testid="campaign-category" />
        </label>
        <label>
          {t("campaigns.lastOrderAfter")}
          <input type="date" value={orderAfter} onChange={(e) => setOrderAfter(e.target.value)} data-testid="campaign-order-after" />
        </label>
        <label>
          {t("campaigns.lastOrderBefore")}
          <input type="date" value={orderBefore} onChange={(e) => setOrderBefore(e.target.value)} data-testid="campaign-order-before" />
        </label>
        <button type="button" onClick={() => void doPreview.run()} data-testid="campaign-preview">
          {t("campaigns.preview")}
        </button>
      </div>
      {preview && (
        <div data-testid="campaign-audience">
          <p>{t("campaigns.audienceCount", { n: preview.count })}</p>
          <ul>
            {preview.sample.map((s) => (
              <li key={s.id}>
                {s.name ?? "—"} · {s.phone ?? "—"}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="actions">
        <label>
          {t("campaigns.schedule")}
          <input type="datetime-local" value={scheduleAt} onChange={(e) => setScheduleAt(e.target.value)} />
        </label>
        <label>
          {t("campaigns.couponPercent")}
          <input type="number" min={0} max={100} step="0.01" value={couponPercent} onChange={(e) => setCouponPercent(e.target.value)} data-testid="campaign-coupon" />
        </label>
        <button type="button" disabled={!name || !chosen || create.pending} onClick={() => void create.run()} data-testid="campaign-create">
          {t("campaigns.create")}
        </button>
      </div>
      <ErrorBox error={doPreview.error ?? create.error} />
    </section>
  );
}

export function Campaigns() {
  const { t } = useI18n();
  const { can } = useApi();
  const list = useResource<{ items: Campaign[] }>((c, signal) => c.get("/api/v1/campaigns", { signal }), []);
  const reload = useDebounced(list.reload, 300);
  useEvents((e) => {
    if (e.type === "campaign.updated") reload();
  });
  return (
    <section aria-labelledby="campaigns-title">
      <h1 id="campaigns-title">{t("campaigns.title")}</h1>
      {can("admin") && <NewCampaign onCreated={list.reload} />}
      <Async {...list}>
        {(d) =>
          d.items.length === 0 ? (
            <p className="muted">{t("campaigns.none")}</p>
          ) : (
            <>
              {d.items.map((c) => (
                <CampaignCard key={c.id} campaign={c} onChange={list.reload} />
              ))}
            </>
          )
        }
      </Async>
    </section>
  );
}
