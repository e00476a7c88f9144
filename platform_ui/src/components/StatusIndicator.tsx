import { config } from "../config";
import { useI18n } from "../i18n";
import { useApi } from "../useApi";

/** Which API base the dashboard uses, whether it answers, and whether live updates flow. */
export function StatusIndicator() {
  const { discovery, live, recheck, session } = useApi();
  const { t } = useI18n();
  const { base, health, error } = discovery;
  const title = [
    `${t("status.base")}: ${base.label} (${t(`status.source.${base.source}`)})`,
    `${t("status.version")}: ${config.appVersion}`,
    error ?? "",
  ]
    .filter(Boolean)
    .join("\n");
  return (
    <div className={`status status-${health}`} data-testid="status-indicator" title={title}>
      <span className="dot" aria-hidden="true" />
      <span role="status" aria-live="polite">
        {t(`status.${health}`)}
        {session && health !== "unreachable" && health !== "checking" && (
          <span className={`live live-${live}`} data-testid="live-state">
            {" · "}
            {t(`status.${live}`)}
          </span>
        )}
      </span>
      <span className="status-base">
        <code data-testid="api-base" data-source={base.source}>
          {base.source === "same-origin" ? t("status.source.same-origin") : base.label}
        </code>
      </span>
      {health === "unreachable" && (
        <>
          <span className="sr-only">{error}</span>
          <button type="button" className="link" onClick={recheck}>
            {t("status.retry")}
          </button>
        </>
      )}
    </div>
  );
}
