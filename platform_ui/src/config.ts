// Runtime configuration and API discovery.
//
// Nothing about where the API lives is baked into the bundle. In order:
//   1. `window.__NEXUS_CONFIG__.apiBaseUrl`, written by nginx's entrypoint at container start from
//      API_BASE_URL (loaded by index.html from /config.js, never cached);
//   2. this page's own origin: nginx publishes the orchestrator under /api/ and the BFF under
//      /events/ (DESIGN.md §1);
//   3. local development defaults: the orchestrator and the BFF on their own ports (make dev).
// The first candidate whose health endpoint answers with a JSON body wins (see useApi.ts).

export interface NexusConfig {
  /** Public URL where nginx serves /api/ (API_BASE_URL); empty means this page's own origin. */
  apiBaseUrl: string;
  appVersion: string;
}

declare global {
  interface Window {
    __NEXUS_CONFIG__?: Partial<NexusConfig>;
  }
}

export function readConfig(raw: Partial<NexusConfig> | undefined = window.__NEXUS_CONFIG__): NexusConfig {
  const value = raw ?? {};
  return {
    apiBaseUrl: typeof value.apiBaseUrl === "string" ? value.apiBaseUrl.trim().replace(/\/+$/, "") : "",
    appVersion: typeof value.appVersion === "string" && value.appVersion ? value.appVersion : "unknown",
  };
}

export const config: NexusConfig = readConfig();

export type BaseSource = "config" | "same-origin" | "dev-default";

/** Where the dashboard sends its requests. */
export interface ApiBase {
  source: BaseSource;
  /** Prefix for `/api/v1/...` paths. */
  api: string;
  /** Prefix for `/events/stream`. */
  events: string;
  /** The orchestrator's readiness URL as published at this base. */
  health: string;
  /** Shown in the status indicator. */
  label: string;
}

/** The development defaults: `make dev` ports, the orchestrator and BFF reached directly. */
export const DEV_DEFAULTS = { orchestrator: "http://127.0.0.1:8000", bff: "http://127.0.0.1:3000" };

/** Behind nginx (same origin or API_BASE_URL) /api/v1 passes unchanged and /api/X becomes /X. */
function behindNginx(prefix: string, source: BaseSource): ApiBase {
  return {
    source,
    api: prefix,
    events: prefix,
    health: `${prefix}/api/health/ready`,
    label: prefix || "same origin",
  };
}

/** The candidate bases in the order they are tried. */
export function candidateBases(cfg: NexusConfig = config): ApiBase[] {
  const out: ApiBase[] = [];
  if (cfg.apiBaseUrl) out.push(behindNginx(cfg.apiBaseUrl, "config"));
  out.push(behindNginx("", "same-origin"));
  out.push({
    source: "dev-default",
    api: DEV_DEFAULTS.orchestrator,
    events: DEV_DEFAULTS.bff,
    health: `${DEV_DEFAULTS.orchestrator}/health/ready`,
    label: DEV_DEFAULTS.orchestrator,
  });
  return out;
}
