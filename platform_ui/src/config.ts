// Runtime configuration written by nginx at container start (see nginx/docker-entrypoint.d/).

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

const raw = window.__NEXUS_CONFIG__ ?? {};

export const config: NexusConfig = {
  apiBaseUrl: typeof raw.apiBaseUrl === "string" ? raw.apiBaseUrl.replace(/\/+$/, "") : "",
  appVersion: typeof raw.appVersion === "string" ? raw.appVersion : "unknown",
};

/**
 * URL of an orchestrator path as nginx publishes it.
 *
 * The orchestrator serves `/api/v1/...` itself and everything else (`/health/...`, `/webhooks/...`,
 * `/oauth/...`, `/docs`) at its root; nginx passes `/api/v1/` through unchanged and strips `/api`
 * from the rest. So `/api/v1/conversations` stays as it is and `/health/ready` becomes
 * `/api/health/ready`.
 */
export function orchestratorUrl(path: string): string {
  const published = path.startsWith("/api/v1/") ? path : `/api${path}`;
  return `${config.apiBaseUrl}${published}`;
}
