import { useState } from "react";

import type { LogEntry, Page } from "../api/types";
import { Async, ErrorBox, formatTime } from "../components/common";
import { LOCALES, useI18n } from "../i18n";
import { useAction, useApi, useResource } from "../useApi";

interface Filters {
  actor: string;
  action: string;
  level: "" | LogEntry["level"];
  since: string;
  until: string;
}

const EMPTY: Filters = { actor: "", action: "", level: "", since: "", until: "" };

function toQuery(f: Filters, cursor?: string | null) {
  return {
    actor: f.actor.trim(),
    action: f.action.trim(),
    level: f.level,
    since: f.since ? new Date(f.since).toISOString() : "",
    until: f.until ? new Date(f.until).toISOString() : "",
    cursor: cursor ?? undefined,
    limit: 50,
  };
}

export function Telemetry() {
  const { t, lang } = useI18n();
  const { client } = useApi();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  // Pages after the first; `cursor` is undefined until one was loaded (null: no more pages).
  const [extra, setExtra] = useState<{ items: LogEntry[]; cursor?: string | null }>({ items: [] });
  const res = useResource(
    (c, signal) => c.get<Page<LogEntry>>("/api/v1/telemetry/logs", { query: toQuery(filters), signal }),
    [JSON.stringify(filters)],
  );
  const cursor = extra.cursor !== undefined ? extra.cursor : (res.data?.next_cursor ?? null);
  const more = useAction(async () => {
    const page = await client.get<Page<LogEntry>>("/api/v1/telemetry/logs", { query: toQuery(filters, cursor) });
    setExtra((x) => ({ items: [...x.items, ...page.items], cursor: page.next_cursor }));
  });
  const field = (key: keyof Filters) => ({
    value: draft[key],
    onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [key]: e.target.value }),
  });
  return (
    <section aria-labelledby="telemetry-title">
      <h1 id="telemetry-title">{t("telemetry.title")}</h1>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setExtra({ items: [] });
          setFilters(draft);
        }}
      >
        <label>
          {t("telemetry.actor")}
          <input {...field("actor")} />
        </label>
        <label>
          {t("telemetry.action")}
          <input {...field("action")} placeholder="conversation.*" />
        </label>
        <label>
          {t("telemetry.level")}
          <select {...field("level")}>
            <option value="">{t("common.all")}</option>
            {(["debug", "info", "warning", "error"] as const).map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("telemetry.since")}
          <input type="datetime-local" {...field("since")} />
        </label>
        <label>
          {t("telemetry.until")}
          <input type="datetime-local" {...field("until")} />
        </label>
        <button type="submit">{t("common.search")}</button>
      </form>
      <Async data={res.data} error={res.error} loading={res.loading} reload={res.reload}>
        {(page) => {
          const rows = [...page.items, ...extra.items];
          return rows.length === 0 ? (
            <p className="empty">{t("common.none")}</p>
          ) : (
            <div className="table-wrap">
              <table className="log" data-testid="telemetry-table">
                <thead>
                  <tr>
                    <th scope="col">{t("telemetry.at")}</th>
                    <th scope="col">{t("telemetry.levelCol")}</th>
                    <th scope="col">{t("telemetry.actor")}</th>
                    <th scope="col">{t("telemetry.actionCol")}</th>
                    <th scope="col">{t("telemetry.target")}</th>
                    <th scope="col">{t("telemetry.details")}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.id} className={`level-${r.level}`}>
                      <td>
                        <time dateTime={r.at}>{formatTime(r.at, LOCALES[lang])}</time>
                      </td>
                      <td>{r.level}</td>
                      <td>{r.actor}</td>
                      <td>
                        <code>{r.action}</code>
                      </td>
                      <td>{r.target_type ? `${r.target_type}:${r.target_id ?? ""}` : ""}</td>
                      <td>
                        <code className="payload">{r.payload == null ? "" : JSON.stringify(r.payload)}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {cursor && (
                <button type="button" className="secondary" disabled={more.pending} onClick={() => void more.run()}>
                  {more.pending ? t("common.loading") : t("common.loadMore")}
                </button>
              )}
              <ErrorBox error={more.error} />
            </div>
          );
        }}
      </Async>
    </section>
  );
}
