// The conversation's cart beside it: staff see what the customer (or the assistant) put in it,
// change quantities, add products from the catalog and send the checkout link. Prices shown come
// from the catalog; the store prices the checkout itself.

import { useState } from "react";

import { ApiError } from "../api/client";
import type { CartLine, CheckoutLink, ConversationDetail, ProductHit, SalesPanel } from "../api/types";
import { useI18n } from "../i18n";
import { useAction, useApi, useDebounced, useEvents, useResource } from "../useApi";
import { ErrorBox } from "./common";

function money(v: string | null | undefined, currency: string | null | undefined): string {
  if (v == null) return "—";
  return `${currency === "BRL" ? "R$" : currency === "USD" ? "US$" : "$"} ${v}`;
}

function RefusedLines({ error, cart }: { error: Error | null; cart: CartLine[] }) {
  const { t } = useI18n();
  if (!(error instanceof ApiError) || error.code !== "checkout_refused") return <ErrorBox error={error} />;
  const lines = ((error.details as { lines?: { variant_id: number; reason: string }[] }) ?? {}).lines ?? [];
  return (
    <div className="error" role="alert" data-testid="checkout-refused">
      <strong>{t("cart.refused")}</strong>
      <ul className="plain">
        {lines.map((l) => (
          <li key={l.variant_id}>
            {cart.find((c) => c.variant_id === l.variant_id)?.name ?? l.variant_id}: {t(`cart.reason.${l.reason}` as "cart.reason.deleted")}
          </li>
        ))}
      </ul>
    </div>
  );
}

function AddProduct({ onAdd }: { onAdd: (variantId: number) => void }) {
  const { t } = useI18n();
  const [q, setQ] = useState("");
  const [query, setQuery] = useState("");
  const hits = useResource(
    query
      ? (client, signal) => client.get<{ items: ProductHit[] }>("/api/v1/products/search", { query: { q: query, limit: 5 }, signal })
      : null,
    [query],
  );
  return (
    <div className="cart-add">
      <form onSubmit={(e) => (e.preventDefault(), setQuery(q.trim()))}>
        <input aria-label={t("cart.search")} placeholder={t("cart.search")} data-testid="cart-search" value={q} onChange={(e) => setQ(e.target.value)} />
        <button type="submit" className="secondary">
          {t("cart.find")}
        </button>
      </form>
      {hits.data && (
        <ul className="plain" data-testid="cart-hits">
          {hits.data.items.flatMap((p) =>
            p.variants
              .filter((v) => v.stock == null || v.stock > 0)
              .slice(0, 6)
              .map((v) => (
                <li key={v.id}>
                  <button type="button" className="link" onClick={() => onAdd(v.id)}>
                    + {p.name} {v.values.length > 0 && `(${v.values.join(" / ")})`} · {money(v.price, p.currency)}
                  </button>
                </li>
              )),
          )}
        </ul>
      )}
    </div>
  );
}

export function CartPanel({ conv }: { conv: ConversationDetail }) {
  const { t } = useI18n();
  const { client, can } = useApi();
  const res = useResource(
    (c, signal) => c.get<SalesPanel>("/api/v1/conversations/{conversation_id}/cart", { params: { conversation_id: conv.id }, signal }),
    [conv.id],
  );
  const reload = useDebounced(res.reload, 200);
  useEvents((e) => {
    // An order the conversation produced (or its payment/cancellation) shows up without a reload.
    if ((e.type === "cart.updated" || e.type === "order.attributed") && e.data.conversation_id === conv.id) reload();
  });
  const [contact, setContact] = useState({ name: "", lastname: "", email: "" });
  const [sent, setSent] = useState<CheckoutLink | null>(null);
  const save = useAction(async (items: { variant_id: number; quantity: number }[]) => {
    await client.put("/api/v1/conversations/{conversation_id}/cart", { params: { conversation_id: conv.id }, body: { items } });
    res.reload();
  });
  const checkout = useAction(async () => {
    const filled = Object.fromEntries(Object.entries(contact).filter(([, v]) => v.trim()));
    const body = Object.keys(filled).length ? { contact: filled } : {};
    setSent(await client.post<CheckoutLink>("/api/v1/conversations/{conversation_id}/checkout", { params: { conversation_id: conv.id }, body }));
    res.reload();
  });
  const cart = res.data;
  const lines = cart?.items ?? [];
  const set = (variantId: number, quantity: number) => {
    const items = lines.map((l) => ({ variant_id: l.variant_id, quantity: l.variant_id === variantId ? quantity : l.quantity }));
    if (!lines.some((l) => l.variant_id === variantId)) items.push({ variant_id: variantId, quantity });
    void save.run(items.filter((i) => i.quantity > 0));
  };
  const missing = checkout.error instanceof ApiError && checkout.error.code === "contact_missing";
  const editable = can("agent");
  return (
    <aside className="cart card" aria-labelledby="cart-title" data-testid="cart-panel">
      <h2 id="cart-title">{t("cart.title")}</h2>
      {lines.length === 0 ? (
        <p className="muted">{t("cart.empty")}</p>
      ) : (
        <table data-testid="cart-lines">
          <tbody>
            {lines.map((l) => (
              <tr key={l.variant_id} className={l.available ? "" : "unavailable"}>
                <td>
                  {l.name ?? l.variant_id}
                  {l.variant && <small className="muted"> {l.variant}</small>}
                </td>
                <td className="num">
                  {editable ? (
                    <input type="number" min={0} max={100} aria-label={t("cart.quantity")} value={l.quantity} onChange={(e) => set(l.variant_id, Number(e.target.value))} />
                  ) : (
                    l.quantity
                  )}
                </td>
                <td className="num">{money(l.subtotal, cart?.currency)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={2}>
                {t("cart.subtotal")}
              </th>
              <td className="num" data-testid="cart-subtotal">
                {money(cart?.subtotal, cart?.currency)}
              </td>
            </tr>
          </tfoot>
        </table>
      )}
      {editable && <AddProduct onAdd={(vid) => set(vid, (lines.find((l) => l.variant_id === vid)?.quantity ?? 0) + 1)} />}
      <ErrorBox error={save.error} />
      {editable && lines.length > 0 && (
        <form className="checkout" onSubmit={(e) => (e.preventDefault(), void checkout.run())}>
          {missing && (
            <fieldset>
              <legend>{t("cart.contact")}</legend>
              {(["name", "lastname", "email"] as const).map((k) => (
                <input key={k} type={k === "email" ? "email" : "text"} placeholder={t(`cart.${k}` as "cart.name")} aria-label={t(`cart.${k}` as "cart.name")} value={contact[k]} onChange={(e) => setContact({ ...contact, [k]: e.target.value })} />
              ))}
            </fieldset>
          )}
          <button type="submit" data-testid="send-checkout" disabled={checkout.pending}>
            {t("cart.sendLink")}
          </button>
          {!missing && <RefusedLines error={checkout.error} cart={lines} />}
        </form>
      )}
      {sent && (
        <p role="status" data-testid="checkout-sent">
          {t("cart.linkSent")} {money(sent.total, sent.currency)}
        </p>
      )}
      {cart && cart.checkouts.length > 0 && (
        <>
          <h3>{t("cart.links")}</h3>
          <ul className="plain" data-testid="checkout-links">
            {cart.checkouts.map((c) => (
              <li key={c.draft_order_id}>
                <a href={c.checkout_url} target="_blank" rel="noreferrer">
                  #{c.draft_order_id}
                </a>{" "}
                · {money(c.total, c.currency)} · {t(`revenue.source.${c.source ?? "ai"}` as "revenue.source.ai")}
              </li>
            ))}
          </ul>
        </>
      )}
      {cart && cart.orders.length > 0 && (
        <>
          <h3>{t("cart.orders")}</h3>
          <ul className="plain" data-testid="produced-orders">
            {cart.orders.map((o) => (
              <li key={o.order_id}>
                #{o.number ?? o.order_id} · {money(o.total, o.currency)} · {o.payment_status}
              </li>
            ))}
          </ul>
        </>
      )}
    </aside>
  );
}
