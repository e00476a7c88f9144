import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiClient, ApiError, type Session } from "../api/client";
import { candidateBases, readConfig } from "../config";
import { atLeast, discoverBase } from "../useApi";
import { DISCOVERED, fakeServer } from "./helpers";

afterEach(() => localStorage.clear());

describe("runtime config", () => {
  it("reads API_BASE_URL and APP_VERSION from window.__NEXUS_CONFIG__, trailing slashes dropped", () => {
    expect(readConfig({ apiBaseUrl: "https://nexus.example.com/", appVersion: "1.2.3" })).toEqual({
      apiBaseUrl: "https://nexus.example.com",
      appVersion: "1.2.3",
    });
    expect(readConfig(undefined)).toEqual({ apiBaseUrl: "", appVersion: "unknown" });
    expect(readConfig({ apiBaseUrl: 42 as unknown as string })).toEqual({ apiBaseUrl: "", appVersion: "unknown" });
  });

  it("tries the configured base, then the same origin, then the development defaults", () => {
    const bases = candidateBases({ apiBaseUrl: "https://api.example.com", appVersion: "x" });
    expect(bases.map((b) => b.source)).toEqual(["config", "same-origin", "dev-default"]);
    expect(bases[0].health).toBe("https://api.example.com/api/health/ready");
    expect(bases[1].health).toBe("/api/health/ready");
    expect(bases[2].health).toBe("http://127.0.0.1:8000/health/ready");
    expect(bases[2].events).toBe("http://127.0.0.1:3000");
    expect(candidateBases({ apiBaseUrl: "", appVersion: "x" })[0].source).toBe("same-origin");
  });
});

describe("discoverBase", () => {
  it("skips a base that does not answer and one that answers HTML (a static server)", async () => {
    const fetchImpl = vi.fn(async (url: RequestInfo | URL) => {
      const u = String(url);
      if (u.startsWith("https://down.example.com")) throw new TypeError("Failed to fetch");
      if (u === "/api/health/ready") return new Response("<!doctype html>", { status: 200 });
      return new Response(JSON.stringify({ status: "ok" }), { status: 200 });
    });
    const d = await discoverBase({ apiBaseUrl: "https://down.example.com", appVersion: "x" }, fetchImpl as typeof fetch);
    expect(d.base.source).toBe("dev-default");
    expect(d.health).toBe("ok");
    expect(fetchImpl).toHaveBeenCalledTimes(3);
  });

  it("takes a 503 with the orchestrator's JSON body as the right base, degraded", async () => {
    const fetchImpl = async () => new Response(JSON.stringify({ status: "unavailable", checks: {} }), { status: 503 });
    const d = await discoverBase({ apiBaseUrl: "", appVersion: "x" }, fetchImpl as typeof fetch);
    expect(d.base.source).toBe("same-origin");
    expect(d.health).toBe("degraded");
    expect(d.error).toContain("503");
  });

  it("reports unreachable, with the reason, when nothing answers", async () => {
    const fetchImpl = async () => {
      throw new TypeError("connection refused");
    };
    const d = await discoverBase({ apiBaseUrl: "", appVersion: "x" }, fetchImpl as typeof fetch);
    expect(d.health).toBe("unreachable");
    expect(d.base.source).toBe("same-origin");
    expect(d.error).toContain("connection refused");
  });
});

describe("ApiClient", () => {
  function client(routes: Parameters<typeof fakeServer>[0], session: Session | null) {
    const server = fakeServer(routes);
    let current = session;
    const onSession = vi.fn((s: Session | null) => {
      current = s;
    });
    const c = new ApiClient({ base: DISCOVERED.base, getSession: () => current, onSession, fetchImpl: server.fetch });
    return { c, server, onSession, current: () => current };
  }
  const session = { accessToken: "old", refreshToken: "refresh-0123456789abcdefghij", expiresAt: "" };

  it("sends the bearer token and parses the API's error envelope", async () => {
    const { c, server } = client(
      { "GET /api/v1/tenant": () => ({ status: 409, body: { error: { code: "conflict", message: "nope" }, request_id: "req-123456" } }) },
      session,
    );
    const err = await c.get("/api/v1/tenant").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: "conflict", message: "nope", requestId: "req-123456" });
    expect(server.calls[0].auth).toBe("Bearer old");
  });

  it("refreshes once on 401 and retries with the new token", async () => {
    const { c, server, current } = client(
      {
        "GET /api/v1/auth/me": ({ headers }: { headers: Headers }) =>
          headers.get("Authorization") === "Bearer new" ? { body: { role: "owner" } } : { status: 401, body: {} },
        "POST /api/v1/auth/refresh": { access_token: "new", refresh_token: "r2-0123456789abcdefghij", expires_at: "2099" },
      },
      session,
    );
    await expect(c.get("/api/v1/auth/me")).resolves.toEqual({ role: "owner" });
    expect(current()?.accessToken).toBe("new");
    expect(server.calls.map((x) => x.path)).toEqual(["/api/v1/auth/me", "/api/v1/auth/refresh", "/api/v1/auth/me"]);
  });

  it("adopts the session another tab already refreshed instead of replaying the old token", async () => {
    const server = fakeServer({
      "GET /api/v1/auth/me": ({ headers }: { headers: Headers }) =>
        headers.get("Authorization") === "Bearer tab2" ? { body: { role: "owner" } } : { status: 401, body: {} },
      "POST /api/v1/auth/refresh": () => ({ status: 401, body: {} }),
    });
    let current: Session | null = session;
    const stored = { accessToken: "tab2", refreshToken: "r-tab2-0123456789abcdef", expiresAt: "2099" };
    const c = new ApiClient({
      base: DISCOVERED.base,
      getSession: () => current,
      onSession: (s) => {
        current = s;
      },
      storedSession: () => stored,
      fetchImpl: server.fetch,
    });
    await expect(c.get("/api/v1/auth/me")).resolves.toEqual({ role: "owner" });
    expect(current).toEqual(stored);
    expect(server.calls.map((x) => x.path)).toEqual(["/api/v1/auth/me", "/api/v1/auth/me"]);
  });

  it("signs out when the refresh is refused", async () => {
    const { c, onSession } = client(
      {
        "GET /api/v1/auth/me": () => ({ status: 401, body: {} }),
        "POST /api/v1/auth/refresh": () => ({ status: 401, body: {} }),
      },
      session,
    );
    await expect(c.get("/api/v1/auth/me")).rejects.toMatchObject({ status: 401 });
    expect(onSession).toHaveBeenCalledWith(null);
  });

  it("fills path parameters (encoded) and drops empty query values", async () => {
    const { c, server } = client({ "GET /api/v1/conversations/a%2Fb": { ok: true } }, session);
    await c.get("/api/v1/conversations/{conversation_id}", { params: { conversation_id: "a/b" }, query: { status: "", limit: 5 } });
    expect(server.calls[0].path).toBe("/api/v1/conversations/a%2Fb?limit=5");
  });

  it("turns a network failure into status 0", async () => {
    const c = new ApiClient({
      base: DISCOVERED.base,
      getSession: () => null,
      onSession: () => undefined,
      fetchImpl: (async () => {
        throw new TypeError("Failed to fetch");
      }) as typeof fetch,
    });
    await expect(c.get("/api/v1/tenant")).rejects.toMatchObject({ status: 0, code: "network_error" });
  });

  it("puts the token in the event stream URL (EventSource cannot send headers)", () => {
    const { c } = client({}, session);
    expect(c.eventsUrl(41)).toBe("/events/stream?access_token=old&last_event_id=41");
  });
});

describe("roles", () => {
  it("orders viewer < agent < admin < owner < super_admin", () => {
    expect(atLeast("viewer", "agent")).toBe(false);
    expect(atLeast("agent", "agent")).toBe(true);
    expect(atLeast("owner", "admin")).toBe(true);
    expect(atLeast("super_admin", "owner")).toBe(true);
    expect(atLeast(null, "viewer")).toBe(false);
  });
});
