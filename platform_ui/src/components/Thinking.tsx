import type { AgentRun, ThinkingStep } from "../api/types";
import { useI18n } from "../i18n";

interface Product {
  id?: string;
  name?: string | null;
  score?: number | null;
}

function products(step: ThinkingStep): Product[] {
  const results = step.detail?.results;
  return Array.isArray(results) ? (results as Product[]) : [];
}

function summary(step: ThinkingStep): string {
  const d = step.detail ?? {};
  const parts: string[] = [];
  for (const key of ["query", "model", "provider", "reason", "to", "language", "ok"] as const) {
    if (d[key] !== undefined && d[key] !== null) parts.push(`${key}: ${String(d[key])}`);
  }
  if (Array.isArray(d.tool_calls) && d.tool_calls.length) parts.push(`tools: ${d.tool_calls.join(", ")}`);
  if (d.arguments && typeof d.arguments === "object") parts.push(JSON.stringify(d.arguments));
  return parts.join(" · ");
}

/** The AI's thinking log for one reply: steps, products retrieved, tools, model, latency, fallback. */
export function ThinkingLog({ run }: { run: AgentRun }) {
  const { t } = useI18n();
  // A step streamed live and stored again with the run's result must show once.
  const seen = new Set<string>();
  const steps = (run.steps ?? []).filter((s) => {
    const key = `${s.kind}|${s.name}|${s.at ?? ""}|${JSON.stringify(s.detail ?? {})}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return (
    <details className="thinking" open data-testid="thinking-log">
      <summary>
        {t("conv.thinking")}
        {run.fallback_used && <span className="chip warn">{t("conv.fallback")}</span>}
      </summary>
      <dl className="run-facts">
        <dt>{t("conv.provider")}</dt>
        <dd data-testid="run-provider">{run.provider ?? "—"}</dd>
        <dt>{t("conv.model")}</dt>
        <dd>{run.model ?? "—"}</dd>
        <dt>{t("conv.latency")}</dt>
        <dd>{run.latency_ms != null ? `${run.latency_ms} ms` : "—"}</dd>
      </dl>
      <ol className="steps" aria-label={t("conv.steps")}>
        {steps.map((s, i) => (
          <li key={i} className={`step step-${s.kind}`} data-testid="thinking-step">
            <span className="step-kind">{s.kind}</span> <strong>{s.name}</strong>
            {s.duration_ms != null && <span className="muted"> · {Math.round(s.duration_ms)} ms</span>}
            {summary(s) && <div className="muted small">{summary(s)}</div>}
            {products(s).length > 0 && (
              <ul className="products" aria-label={t("conv.products")}>
                {products(s).map((p, j) => (
                  <li key={p.id ?? j}>
                    {p.name ?? p.id}
                    {typeof p.score === "number" && <span className="muted"> ({p.score.toFixed(3)})</span>}
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
    </details>
  );
}
