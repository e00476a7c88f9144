import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

import { config, orchestratorUrl } from "./config";

type Readiness =
  | { kind: "loading" }
  | { kind: "answered"; httpStatus: number; status: string }
  | { kind: "unreachable"; reason: string };

function useReadiness(): Readiness {
  const [state, setState] = useState<Readiness>({ kind: "loading" });
  useEffect(() => {
    const controller = new AbortController();
    fetch(orchestratorUrl("/health/ready"), { signal: controller.signal, cache: "no-store" })
      .then(async (res) => {
        const body: unknown = await res.json().catch(() => null);
        const status =
          body !== null && typeof body === "object" && "status" in body && typeof body.status === "string"
            ? body.status
            : "unknown";
        setState({ kind: "answered", httpStatus: res.status, status });
      })
      .catch((err: unknown) => {
        if (!controller.signal.aborted) {
          setState({ kind: "unreachable", reason: err instanceof Error ? err.message : String(err) });
        }
      });
    return () => controller.abort();
  }, []);
  return state;
}

function App() {
  const readiness = useReadiness();
  return (
    <main style={{ fontFamily: "system-ui, sans-serif", maxWidth: "40rem", margin: "3rem auto" }}>
      <h1>Nexus</h1>
      <p>The dashboard is on its way. This page checks that the deployment is wired up.</p>
      <dl>
        <dt>API base</dt>
        <dd>
          <code>{config.apiBaseUrl || "(same origin)"}</code>
        </dd>
        <dt>Version</dt>
        <dd>
          <code>{config.appVersion}</code>
        </dd>
        <dt>Orchestrator</dt>
        <dd data-testid="readiness">
          {readiness.kind === "loading" && "checking…"}
          {readiness.kind === "answered" && `${readiness.status} (HTTP ${readiness.httpStatus})`}
          {readiness.kind === "unreachable" && `unreachable: ${readiness.reason}`}
        </dd>
      </dl>
    </main>
  );
}

const root = document.getElementById("root");
if (root === null) throw new Error("#root is missing from index.html");
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
