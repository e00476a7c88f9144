import type { ReactNode } from "react";

import { ApiError } from "../api/client";
import { useI18n } from "../i18n";

export function Loading({ label }: { label?: string }) {
  const { t } = useI18n();
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label ?? t("common.loading")}
    </div>
  );
}

export function ErrorBox({ error, onRetry }: { error: Error | null; onRetry?: () => void }) {
  const { t } = useI18n();
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <strong>{t("common.error")}:</strong> {error.message}
      {error instanceof ApiError && error.requestId && (
        <small>
          {" "}
          ({t("common.requestId")}: <code>{error.requestId}</code>)
        </small>
      )}
      {onRetry && (
        <button type="button" className="link" onClick={onRetry}>
          {t("common.retry")}
        </button>
      )}
    </div>
  );
}

/** Loading / error / content for one resource. */
export function Async<T>({
  data,
  error,
  loading,
  reload,
  children,
}: {
  data: T | undefined;
  error: Error | null;
  loading: boolean;
  reload?: () => void;
  children: (data: T) => ReactNode;
}) {
  if (data === undefined) {
    if (error) return <ErrorBox error={error} onRetry={reload} />;
    if (loading) return <Loading />;
    return null;
  }
  return (
    <>
      {error && <ErrorBox error={error} onRetry={reload} />}
      {children(data)}
    </>
  );
}

export function formatTime(iso: string | null | undefined, locale: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const sameDay = d.toDateString() === new Date().toDateString();
  return sameDay
    ? d.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString(locale, { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit" });
}
