// Test helpers: a fake API server (a fetch function answering by method + path) and a fake
// EventSource the tests push events into.

import { render } from "@testing-library/react";
import type { ReactNode } from "react";

import type { Discovery } from "../useApi";
import { ApiProvider } from "../useApi";
import { I18nProvider, type Lang } from "../i18n";

export type Handler = (req: { method: string; url: URL; body: unknown; headers: Headers }) => { status?: number; body?: unknown } | undefined;

export interface FakeServer {
  fetch: typeof fetch;
  calls: { method: string; path: string; body: unknown; auth: string | null }[];
}

export function fakeServer(routes: Record<string, Handler | object>): FakeServer {
  const calls: FakeServer["calls"] = [];
  const fetchImpl = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), "http://dashboard.test");
    const method = (init.method ?? "GET").toUpperCase();
    const headers = new Headers(init.headers);
    const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
    calls.push({ method, path: url.pathname + url.search, body, auth: headers.get("Authorization") });
    const route = routes[`${method} ${url.pathname}`];
    if (route === undefined) {
      return new Response(JSON.stringify({ error: { code: "not_found", message: "no route" } }), { status: 404 });
    }
    const answer = typeof route === "function" ? (route as Handler)({ method, url, body, headers }) : { body: route };
    const status = answer?.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(answer?.body ?? {}), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  };
  return { fetch: fetchImpl as typeof fetch, calls };
}

export class FakeEventSource {
  static instances: FakeEventSource[] = [];
  readonly url: string;
  readyState = 0;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  private listeners = new Map<string, ((e: MessageEvent) => void)[]>();

  constructor(url: string) {
    this.url = url;
    FakeEventSource.instances.push(this);
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.();
    });
  }
  addEventListener(type: string, fn: (e: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.readyState = 2;
  }
  emit(type: string, data: Record<string, unknown>, id = 1) {
    const envelope = { id, tenant_id: "t", type, data, created_at: new Date().toISOString() };
    for (const fn of this.listeners.get(type) ?? []) fn(new MessageEvent(type, { data: JSON.stringify(envelope) }));
  }
  static latest(): FakeEventSource {
    const es = FakeEventSource.instances.at(-1);
    if (!es) throw new Error("no EventSource opened");
    return es;
  }
}

export const DISCOVERED: Discovery = {
  base: { source: "same-origin", api: "", events: "", health: "/api/health/ready", label: "same origin" },
  health: "ok",
  error: null,
};

export function signIn(role = "owner") {
  localStorage.setItem(
    "nexus.session",
    JSON.stringify({ accessToken: `token-${role}`, refreshToken: "refresh-token-0123456789abcdef", expiresAt: "2099-01-01T00:00:00Z" }),
  );
}

export function me(role: string) {
  return {
    kind: "user",
    role,
    tenant_id: "11111111-1111-1111-1111-111111111111",
    user: { id: "u1", tenant_id: "11111111-1111-1111-1111-111111111111", email: `${role}@demo.test`, name: null, role, is_active: true },
  };
}

export function renderWithApi(ui: ReactNode, server: FakeServer, lang: Lang = "en") {
  return render(
    <I18nProvider initial={lang}>
      <ApiProvider initialDiscovery={DISCOVERED} fetchImpl={server.fetch} eventSourceImpl={FakeEventSource as unknown as typeof EventSource}>
        {ui}
      </ApiProvider>
    </I18nProvider>,
  );
}
