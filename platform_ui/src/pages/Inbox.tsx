import { useState } from "react";

import type { ApiClient } from "../api/client";
import type { Channel, ConversationStatus, ConversationSummary, DashboardEvent, Page } from "../api/types";
import { Async, formatTime } from "../components/common";
import { LOCALES, useI18n } from "../i18n";
import { Link } from "../router";
import { useApi, useDebounced, useEvents, useResource } from "../useApi";

export interface InboxFilters {
  status: "" | Exclude<ConversationStatus, "pending_human">;
  channel: "" | Channel;
  needsHuman: boolean;
  q: string;
}

export const NO_FILTERS: InboxFilters = { status: "", channel: "", needsHuman: false, q: "" };

function fetchPage(client: ApiClient, f: InboxFilters, signal: AbortSignal, cursor?: string | null) {
  return client.get<Page<ConversationSummary>>("/api/v1/conversations", {
    query: {
      status: f.needsHuman ? "pending_human" : f.status,
      channel: f.channel,
      q: f.q.trim(),
      cursor: cursor ?? undefined,
      limit: 50,
    },
    signal,
  });
}

/** Events that change what the inbox shows. */
export function touchesInbox(e: DashboardEvent): boolean {
  return e.type === "message.created" || e.type === "conversation.updated" || e.type === "handoff" || e.type === "message.status";
}

/** The inbox's first page, kept current by the event stream (never a manual refresh). */
export function useInbox(filters: InboxFilters) {
  const res = useResource((client, signal) => fetchPage(client, filters, signal), [JSON.stringify(filters)]);
  const refetch = useDebounced(res.reload, 250);
  useEvents((e) => {
    if (!touchesInbox(e)) return;
    // Patch what the event says at once, then reload the page for ordering and new rows.
    const conv = (e.data as { conversation?: Partial<ConversationSummary> & { id: string } }).conversation;
    if (conv) {
      res.setData((prev) =>
        prev ? { ...prev, items: prev.items.map((c) => (c.id === conv.id ? { ...c, ...conv } : c)) } : prev,
      );
    }
    refetch();
  });
  return res;
}

const CHANNELS: Channel[] = ["whatsapp", "instagram", "messenger"];

export function ConversationRow({ c }: { c: ConversationSummary }) {
  const { t, lang } = useI18n();
  const name = c.customer?.name || c.customer?.phone_number || t("inbox.unknownCustomer");
  return (
    <li className={c.unread_count > 0 ? "conv-row unread" : "conv-row"} data-testid="conversation-row" data-id={c.id}>
      <Link href={`/inbox/${c.id}`} className="conv-link">
        <span className="conv-name">{name}</span>
        <span className="conv-meta">
          <span className={`chip chip-${c.channel}`}>{t(`channel.${c.channel}`)}</span>
          <span className={`chip status-${c.status}`}>{t(`conv.status.${c.status}`)}</span>
          {c.ai_paused && <span className="chip paused">{t("inbox.paused")}</span>}
        </span>
        <time className="conv-time" dateTime={c.last_message_at ?? undefined}>
          {formatTime(c.last_message_at ?? c.created_at, LOCALES[lang])}
        </time>
        {c.unread_count > 0 && (
          <span className="badge" data-testid="unread" aria-label={t("inbox.unread", { n: c.unread_count })}>
            {c.unread_count}
          </span>
        )}
      </Link>
    </li>
  );
}

export function Inbox() {
  const { t } = useI18n();
  const [filters, setFilters] = useState<InboxFilters>(NO_FILTERS);
  const [q, setQ] = useState("");
  const inbox = useInbox(filters);
  // Pages after the first; `cursor` is undefined until one was loaded (null: no more pages).
  const [more, setMore] = useState<{ items: ConversationSummary[]; cursor?: string | null; pending: boolean }>({
    items: [],
    pending: false,
  });
  const set = (patch: Partial<InboxFilters>) => {
    setMore({ items: [], pending: false });
    setFilters((f) => ({ ...f, ...patch }));
  };
  const nextCursor = more.cursor !== undefined ? more.cursor : (inbox.data?.next_cursor ?? null);
  const { client } = useApi();

  const loadMore = async () => {
    if (!nextCursor) return;
    setMore((m) => ({ ...m, pending: true }));
    const page = await fetchPage(client, filters, new AbortController().signal, nextCursor).catch(() => null);
    setMore((m) => ({
      items: page ? [...m.items, ...page.items] : m.items,
      cursor: page ? page.next_cursor : m.cursor,
      pending: false,
    }));
  };

  return (
    <section aria-labelledby="inbox-title">
      <h1 id="inbox-title">{t("inbox.title")}</h1>
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          set({ q });
        }}
      >
        <label>
          {t("inbox.status")}
          <select
            value={filters.status}
            disabled={filters.needsHuman}
            onChange={(e) => set({ status: e.target.value as InboxFilters["status"] })}
          >
            <option value="">{t("common.all")}</option>
            <option value="open">{t("conv.status.open")}</option>
            <option value="resolved">{t("conv.status.resolved")}</option>
          </select>
        </label>
        <label>
          {t("inbox.channel")}
          <select value={filters.channel} onChange={(e) => set({ channel: e.target.value as InboxFilters["channel"] })}>
            <option value="">{t("common.all")}</option>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {t(`channel.${c}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={filters.needsHuman}
            onChange={(e) => set({ needsHuman: e.target.checked })}
          />
          {t("inbox.needsHuman")}
        </label>
        <label className="grow">
          {t("common.search")}
          <input type="search" placeholder={t("inbox.search")} value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <button type="submit">{t("common.search")}</button>
      </form>
      <Async data={inbox.data} error={inbox.error} loading={inbox.loading} reload={inbox.reload}>
        {(page) =>
          page.items.length === 0 ? (
            <p className="empty">{t("inbox.empty")}</p>
          ) : (
            <>
              <ul className="conv-list" data-testid="conversation-list" aria-busy={inbox.loading}>
                {[...page.items, ...more.items.filter((m) => !page.items.some((p) => p.id === m.id))].map((c) => (
                  <ConversationRow key={c.id} c={c} />
                ))}
              </ul>
              {nextCursor && (
                <button type="button" className="secondary" disabled={more.pending} onClick={() => void loadMore()}>
                  {more.pending ? t("common.loading") : t("common.loadMore")}
                </button>
              )}
            </>
          )
        }
      </Async>
    </section>
  );
}
