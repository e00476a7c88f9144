// Settings → Coupons: the owner's policy. Off by default; the server enforces it whatever the
// assistant is asked.

import { useState } from "react";

import type { CouponPolicy } from "../api/types";
import { useI18n } from "../i18n";
import { useAction, useApi, useResource } from "../useApi";
import { Async, ErrorBox } from "./common";

function PolicyForm({ initial }: { initial: CouponPolicy }) {
  const { t } = useI18n();
  const { client, can } = useApi();
  const [p, setP] = useState(initial);
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    setP(await client.put<CouponPolicy>("/api/v1/settings/coupons", { body: p }));
    setSaved(true);
  });
  const owner = can("owner");
  const num = (k: "max_percent" | "min_purchase" | "valid_hours" | "daily_cap", label: string, step = "1") => (
    <label>
      {label}
      <input type="number" min={0} step={step} readOnly={!owner} data-testid={`coupon-${k}`} value={String(p[k])} onChange={(e) => setP({ ...p, [k]: k === "valid_hours" || k === "daily_cap" ? Number(e.target.value) : e.target.value })} />
    </label>
  );
  return (
    <form onSubmit={(e) => (e.preventDefault(), void save.run())}>
      <label className="check">
        <input type="checkbox" disabled={!owner} data-testid="coupon-enabled" checked={p.enabled} onChange={(e) => setP({ ...p, enabled: e.target.checked })} />
        {t("coupons.enabled")}
      </label>
      {num("max_percent", t("coupons.maxPercent"), "0.01")}
      {num("min_purchase", t("coupons.minPurchase"), "0.01")}
      {num("valid_hours", t("coupons.validHours"))}
      {num("daily_cap", t("coupons.dailyCap"))}
      <label className="check">
        <input type="checkbox" disabled={!owner} checked={p.on_request} onChange={(e) => setP({ ...p, on_request: e.target.checked })} />
        {t("coupons.onRequest")}
      </label>
      <label className="check">
        <input type="checkbox" disabled={!owner} checked={p.on_recovery} onChange={(e) => setP({ ...p, on_recovery: e.target.checked })} />
        {t("coupons.onRecovery")}
      </label>
      <label className="check">
        <input type="checkbox" disabled={!owner} data-testid="coupon-on-campaign" checked={p.on_campaign ?? false} onChange={(e) => setP({ ...p, on_campaign: e.target.checked })} />
        {t("coupons.onCampaign")}
      </label>
      <p className="muted">{t("coupons.note")}</p>
      {owner && (
        <div className="row">
          <button type="submit" disabled={save.pending}>
            {t("common.save")}
          </button>
          {saved && !save.pending && !save.error && <span role="status">{t("common.saved")}</span>}
          <ErrorBox error={save.error} />
        </div>
      )}
    </form>
  );
}

export function CouponSettings() {
  const { t } = useI18n();
  const res = useResource((c, signal) => c.get<CouponPolicy>("/api/v1/settings/coupons", { signal }), []);
  return (
    <section className="card" aria-labelledby="coupons-title" data-testid="settings-coupons">
      <h2 id="coupons-title">{t("coupons.title")}</h2>
      <Async data={res.data} error={res.error} loading={res.loading} reload={res.reload}>
        {(p) => <PolicyForm initial={p} />}
      </Async>
    </section>
  );
}
