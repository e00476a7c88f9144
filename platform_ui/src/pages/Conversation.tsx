import { useState, type FormEvent } from "react";

import type { AgentRun, ConsentEvent, ConsentInfo, ConversationDetail, Message } from "../api/types";
import { Async, ErrorBox, formatTime } from "../components/common";
import { CartPanel } from "../components/CartPanel";
import { ThinkingLog } from "../components/Thinking";
import { Ticks } from "../components/Ticks";
import { LOCALES, useI18n, type Key } from "../i18n";
import { Link } from "../router";
import { useAction, useApi, useDebounced, useEvents, useResource } from "../useApi";

const WINDOW_MS = 24 * 60 * 60 * 1000;

/** WhatsApp's customer-care window: open for 24 h after the customer's last message. */
export function windowOpen(conv: Pick<ConversationDetail, "channel" | "messages">, now = Date.now()): boolean {
  if (conv.channel !== "whatsapp") return true;
  const lastInbound = [...conv.messages].reverse().find((m) => m.direction === "inbound");
  if (!lastInbound) return false;
  return now - new Date(lastInbound.created_at).getTime() < WINDOW_MS;
}

function eventConversationId(data: Record<string, unknown>): string | undefined {
  const nested = (data.message ?? data.conversation) as { conversation_id?: string; id?: string } | undefined;
  if (data.conversation_id) return String(data.conversation_id);
  if (data.message && nested?.conversation_id) return nested.conversation_id;
  if (data.conversation && nested?.id) return nested.id;
  return undefined;
}

/** One conversation, live: reloads whenever an event names it. */
export function useConversation(id: string | null) {
  const res = useResource(
    id ? (client, signal) => client.get<ConversationDetail>("/api/v1/conversations/{conversation_id}", { params: { conversation_id: id }, signal }) : null,
    [id],
  );
  const reload = useDebounced(res.reload, 200);
  useEvents((e) => {
    if (id && eventConversationId(e.data) === id) reload();
  });
  return res;
}

/** Lets the Playground answer a list message as the customer would (choosing a row). */
export type ChooseRow = (row: { id: string; title: string }) => void;

function Interactive({ m, onChoose }: { m: Message; onChoose?: ChooseRow }) {
  const x = m.interactive;
  if (!x) return null;
  return (
    <>
      {x.list && (
        <ul className="plain list-rows" data-testid="list-rows">
          {x.list.rows.map((r) => (
            <li key={r.id}>
              {onChoose ? (
                <button type="button" className="secondary" data-testid="list-row" onClick={() => onChoose(r)}>
                  {r.title}
                </button>
              ) : (
                <span>{r.title}</span>
              )}
              {r.description && <small className="muted"> {r.description}</small>}
            </li>
          ))}
        </ul>
      )}
      {x.cta_url && (
        <a className="button cta" data-testid="cta-url" href={x.cta_url.url} target="_blank" rel="noreferrer">
          {x.cta_url.display_text}
        </a>
      )}
    </>
  );
}

function MessageBody({ m, onChoose }: { m: Message; onChoose?: ChooseRow }) {
  const { t } = useI18n();
  if (m.type !== "text" && m.type !== "template" && m.type !== "interactive") {
    return (
      <div className="media" data-testid="media">
        <span aria-hidden="true">▣</span> {t("conv.media", { type: m.type })}
        {m.text && <p>{m.text}</p>}
      </div>
    );
  }
  return (
    <>
      <p className="text">{m.text}</p>
      <Interactive m={m} onChoose={onChoose} />
    </>
  );
}

export function MessageList({ conv, onChoose }: { conv: ConversationDetail; onChoose?: ChooseRow }) {
  const { t, lang } = useI18n();
  const runs = new Map<string, AgentRun>(conv.agent_runs.map((r) => [r.id, r]));
  if (conv.messages.length === 0) return <p className="empty">{t("conv.noMessages")}</p>;
  return (
    <ol className="messages" data-testid="messages" aria-live="polite">
      {conv.messages.map((m) => {
        // The log sits beside the reply it produced (the customer's message may name the run too).
        const run = m.direction === "outbound" && m.sender === "ai" && m.agent_run_id ? runs.get(m.agent_run_id) : undefined;
        return (
          <li key={m.id} className={`msg-row ${m.direction} sender-${m.sender}`} data-testid="message" data-sender={m.sender}>
            <div className="bubble">
              <span className="sender">{t(`conv.sender.${m.sender}` as "conv.sender.ai")}</span>
              {m.proactive && (
                <span className="chip proactive" data-testid="proactive">
                  {t("conv.proactive", { kind: t(`notif.${m.proactive}` as Key) })}
                </span>
              )}
              <MessageBody m={m} onChoose={onChoose} />
              <span className="msg-foot">
                <time dateTime={m.created_at}>{formatTime(m.created_at, LOCALES[lang])}</time>
                {m.direction === "outbound" && <Ticks status={m.status} />}
              </span>
            </div>
            {run && <ThinkingLog run={run} />}
          </li>
        );
      })}
    </ol>
  );
}

interface CustomerInfo {
  id: string;
  name: string | null;
  phone_number: string | null;
  email?: string | null;
  identities?: { channel: string; external_id: string }[];
  orders?: { number?: string | number; status?: string; total?: string; currency?: string; created_at?: string }[];
  orders_error?: string | null;
  consent?: { whatsapp: ConsentInfo };
  consent_history?: ConsentEvent[];
}

function ConsentBlock({ customerId, info, onChange }: { customerId: string; info: CustomerInfo; onChange: () => void }) {
  const { t, lang } = useI18n();
  const { client, can } = useApi();
  const set = useAction(async (state: "opted_in" | "opted_out") => {
    await client.put("/api/v1/customers/{customer_id}/consent", { params: { customer_id: customerId }, body: { state } });
    onChange();
  });
  const consent = info.consent?.whatsapp;
  if (!consent) return null;
  return (
    <>
      <h3>{t("conv.consent")}</h3>
      <p data-testid="consent-state" data-state={consent.state}>
        <span className={`chip consent-${consent.state}`}>{t(`conv.consent.${consent.state}` as Key)}</span>
        {consent.source && <span className="muted"> {t("conv.consentSource", { source: consent.source })}</span>}
      </p>
      {can("agent") && (
        <div className="row">
          {consent.state !== "opted_in" && (
            <button type="button" onClick={() => void set.run("opted_in")} disabled={set.pending}>
              {t("conv.optIn")}
            </button>
          )}
          {consent.state !== "opted_out" && (
            <button type="button" onClick={() => void set.run("opted_out")} disabled={set.pending}>
              {t("conv.optOut")}
            </button>
          )}
          <ErrorBox error={set.error} />
        </div>
      )}
      {info.consent_history && info.consent_history.length > 0 && (
        <details>
          <summary>{t("conv.consentHistory")}</summary>
          <ul className="plain" data-testid="consent-history">
            {info.consent_history.map((e) => (
              <li key={`${e.at}:${e.state}`}>
                <time dateTime={e.at}>{formatTime(e.at, LOCALES[lang])}</time> · {t(`conv.consent.${e.state}` as Key)} ·{" "}
                {e.source}
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}

function CustomerPanel({ conv }: { conv: ConversationDetail }) {
  const { t } = useI18n();
  const customerId = conv.customer?.id ?? null;
  const info = useResource(
    customerId
      ? (client, signal) => client.get<CustomerInfo>("/api/v1/customers/{customer_id}", { params: { customer_id: customerId }, signal })
      : null,
    [customerId],
  );
  const c = info.data;
  return (
    <aside className="customer" aria-labelledby="customer-title" data-testid="customer-panel">
      <h2 id="customer-title">{t("conv.customer")}</h2>
      <p className="customer-name">{conv.customer?.name ?? t("inbox.unknownCustomer")}</p>
      {conv.customer?.phone_number && <p className="muted">{conv.customer.phone_number}</p>}
      {c?.email && <p className="muted">{c.email}</p>}
      {info.loading && !c && <p className="muted">{t("common.loading")}</p>}
      {c?.identities && c.identities.length > 0 && (
        <>
          <h3>{t("conv.identities")}</h3>
          <ul className="plain" data-testid="identities">
            {c.identities.map((i) => (
              <li key={`${i.channel}:${i.external_id}`}>
                <span className={`chip chip-${i.channel}`}>{t(`channel.${i.channel}` as "channel.whatsapp")}</span> {i.external_id}
              </li>
            ))}
          </ul>
        </>
      )}
      {c && customerId && <ConsentBlock customerId={customerId} info={c} onChange={info.reload} />}
      <h3>{t("conv.orders")}</h3>
      {info.error || c?.orders_error ? (
        <p className="muted">{t("conv.ordersUnavailable")}</p>
      ) : c?.orders && c.orders.length > 0 ? (
        <ul className="plain orders" data-testid="orders">
          {c.orders.map((o, i) => (
            <li key={String(o.number ?? i)}>
              #{o.number} · {o.status} · {o.total} {o.currency}
            </li>
          ))}
        </ul>
      ) : (
        c && <p className="muted">{t("conv.noOrders")}</p>
      )}
    </aside>
  );
}

function ReplyBox({ conv, onSent }: { conv: ConversationDetail; onSent: () => void }) {
  const { t } = useI18n();
  const { client } = useApi();
  const [text, setText] = useState("");
  const send = useAction(async (body: string) => {
    await client.post("/api/v1/conversations/{conversation_id}/messages", {
      params: { conversation_id: conv.id },
      body: { text: body },
    });
    onSent();
  });
  const open = windowOpen(conv);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    await send.run(text.trim());
    setText((prev) => (send.error ? prev : ""));
  };
  return (
    <form className="reply" onSubmit={(e) => void submit(e)} aria-busy={send.pending}>
      <label htmlFor="reply-text">{t("conv.reply")}</label>
      {!open && (
        <p className="notice" id="reply-closed" data-testid="window-closed">
          {t("conv.windowClosed")}
        </p>
      )}
      <textarea
        id="reply-text"
        data-testid="reply-text"
        rows={3}
        disabled={!open || send.pending}
        aria-describedby={open ? "reply-note" : "reply-closed"}
        placeholder={t("conv.replyPlaceholder")}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void submit(e);
        }}
      />
      <div className="row">
        <small id="reply-note" className="muted">
          {t("conv.replyNote")}
        </small>
        {open ? (
          <button type="submit" data-testid="reply-send" disabled={send.pending || !text.trim()}>
            {t("conv.send")}
          </button>
        ) : (
          <button
            type="button"
            className="secondary"
            data-testid="send-template"
            disabled={send.pending}
            onClick={() => void send.run(t("conv.templateText"))}
          >
            {t("conv.sendTemplate")}
          </button>
        )}
      </div>
      <ErrorBox error={send.error} />
    </form>
  );
}

function Actions({ conv, onChange }: { conv: ConversationDetail; onChange: () => void }) {
  const { t } = useI18n();
  const { client, can } = useApi();
  const [to, setTo] = useState("");
  const [queued, setQueued] = useState(false);
  const act = useAction(async (what: "pause" | "resume") => {
    await client.post(`/api/v1/conversations/{conversation_id}/${what}`, { params: { conversation_id: conv.id } });
    onChange();
  });
  const transcript = useAction(async () => {
    await client.post("/api/v1/conversations/{conversation_id}/transcript", {
      params: { conversation_id: conv.id },
      body: { to },
    });
    setQueued(true);
  });
  if (!can("agent")) return null; // viewers see no buttons they cannot use
  return (
    <div className="actions">
      {conv.ai_paused ? (
        <button type="button" data-testid="resume-ai" disabled={act.pending} onClick={() => void act.run("resume")}>
          {t("conv.resume")}
        </button>
      ) : (
        <button type="button" data-testid="pause-ai" className="warn" disabled={act.pending} onClick={() => void act.run("pause")}>
          {t("conv.pause")}
        </button>
      )}
      <form
        className="transcript"
        onSubmit={(e) => {
          e.preventDefault();
          setQueued(false);
          void transcript.run();
        }}
      >
        <label>
          <span className="sr-only">{t("conv.transcriptTo")}</span>
          <input
            type="email"
            required
            placeholder={t("conv.transcriptTo")}
            aria-label={t("conv.transcriptTo")}
            value={to}
            onChange={(e) => setTo(e.target.value)}
          />
        </label>
        <button type="submit" className="secondary" disabled={transcript.pending}>
          {t("conv.transcript")}
        </button>
        {queued && <span role="status">{t("conv.transcriptQueued")}</span>}
      </form>
      <ErrorBox error={act.error ?? transcript.error} />
    </div>
  );
}

export function ConversationView({ id, compact = false, onChoose }: { id: string; compact?: boolean; onChoose?: ChooseRow }) {
  const { t } = useI18n();
  const { can } = useApi();
  const conv = useConversation(id);
  return (
    <Async data={conv.data} error={conv.error} loading={conv.loading} reload={conv.reload}>
      {(c) => (
        <div className={compact ? "conversation compact" : "conversation"}>
          <div className="conv-main">
            {!compact && (
              <header className="conv-header">
                <h1>{c.customer?.name || c.customer?.phone_number || t("inbox.unknownCustomer")}</h1>
                <span className={`chip chip-${c.channel}`}>{t(`channel.${c.channel}`)}</span>
                <span className={`chip status-${c.status}`} data-testid="conv-status">
                  {t(`conv.status.${c.status}`)}
                </span>
                <span className="muted" data-testid="ai-state">
                  {c.ai_paused ? t("conv.pausedBy", { who: c.paused_by ?? "?" }) : t("conv.aiActive")}
                </span>
              </header>
            )}
            {!compact && <Actions conv={c} onChange={conv.reload} />}
            <MessageList conv={c} onChoose={onChoose} />
            {!compact && can("agent") && <ReplyBox conv={c} onSent={conv.reload} />}
          </div>
          {!compact && (
            <div className="conv-side">
              <CustomerPanel conv={c} />
              <CartPanel conv={c} />
            </div>
          )}
        </div>
      )}
    </Async>
  );
}

export function Conversation({ id }: { id: string }) {
  const { t } = useI18n();
  return (
    <section>
      <Link href="/inbox" className="back">
        ← {t("conv.back")}
      </Link>
      <ConversationView id={id} />
    </section>
  );
}
