// API discovery, the signed-in session, data loading and the live event stream, as React hooks.

import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from "react";

import { ApiClient, ApiError, type Session } from "./api/client";
import { EVENT_TYPES, type DashboardEvent, type Me, type Role, type TokenOut } from "./api/types";
import { candidateBases, config, type ApiBase, type NexusConfig } from "./config";

// --- discovery -------------------------------------------------------------------------------------

export type Health = "checking" | "ok" | "degraded" | "unreachable";

export interface Discovery {
  base: ApiBase;
  health: Health;
  /** The last failure, shown in the status indicator. */
  error: string | null;
}

/**
 * The first candidate whose readiness URL answers with a JSON body (any status: a 503 with the
 * orchestrator's body still proves the base is right). A static server answering index.html for
 * every path does not count. When none answers, the first candidate is kept and marked unreachable.
 */
export async function discoverBase(
  cfg: NexusConfig = config,
  fetchImpl: typeof fetch = window.fetch.bind(window),
  timeoutMs = 3000,
): Promise<Discovery> {
  const candidates = candidateBases(cfg);
  let lastError = "";
  for (const base of candidates) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    try {
      const res = await fetchImpl(base.health, { cache: "no-store", signal: ctl.signal });
      const body: unknown = await res.json().catch(() => null);
      if (body !== null && typeof body === "object" && "status" in body) {
        const ok = res.ok && (body as { status: unknown }).status !== "degraded";
        return {
          base,
          health: ok ? "ok" : "degraded",
          error: res.ok ? null : `HTTP ${res.status} from ${base.health}`,
        };
      }
      lastError = `${base.health}: not the Nexus API (HTTP ${res.status})`;
    } catch (err) {
      lastError = `${base.health}: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      clearTimeout(timer);
    }
  }
  return { base: candidates[0], health: "unreachable", error: lastError || "no API answered" };
}

// --- session storage -------------------------------------------------------------------------------

const SESSION_KEY = "nexus.session";

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return s.accessToken && s.refreshToken ? s : null;
  } catch {
    return null;
  }
}

function storeSession(s: Session | null): void {
  try {
    if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
    else localStorage.removeItem(SESSION_KEY);
  } catch {
    // private mode: the session lives in memory only
  }
}

// --- roles -------------------------------------------------------------------------------------------

const RANK: Record<Role, number> = { viewer: 0, agent: 1, admin: 2, owner: 3, super_admin: 4 };

/** Whether `role` is at least `least` (super-admin is above every tenant role). */
export function atLeast(role: Role | null | undefined, least: Role): boolean {
  return role != null && RANK[role] >= RANK[least];
}

// --- context -------------------------------------------------------------------------------------------

export interface ApiContextValue {
  discovery: Discovery;
  client: ApiClient;
  session: Session | null;
  me: Me | null;
  /** Why `me` could not be loaded (the API down right after sign-in); retried by `recheck`. */
  meError: Error | null;
  /** The event stream's state, for the status indicator. */
  live: "off" | "connecting" | "live" | "retrying";
  login: (email: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
  recheck: () => void;
  subscribe: (handler: (e: DashboardEvent) => void) => () => void;
  can: (least: Role) => boolean;
}

const ApiContext = createContext<ApiContextValue | null>(null);

export function useApi(): ApiContextValue {
  const ctx = useContext(ApiContext);
  if (!ctx) throw new Error("useApi() outside <ApiProvider>");
  return ctx;
}

interface ProviderProps {
  children: ReactNode;
  /** Tests pass a fixed discovery and fetch; the app discovers. */
  initialDiscovery?: Discovery;
  fetchImpl?: typeof fetch;
  eventSourceImpl?: typeof EventSource;
}

export function ApiProvider({ children, initialDiscovery, fetchImpl, eventSourceImpl }: ProviderProps) {
  const [discovery, setDiscovery] = useState<Discovery>(
    initialDiscovery ?? { base: candidateBases()[0], health: "checking", error: null },
  );
  const [session, setSessionState] = useState<Session | null>(() => loadSession());
  const [me, setMe] = useState<Me | null>(null);
  const [meError, setMeError] = useState<Error | null>(null);
  const [live, setLive] = useState<ApiContextValue["live"]>("off");
  const sessionRef = useRef(session);
  const handlers = useRef(new Set<(e: DashboardEvent) => void>());

  const setSession = useCallback((s: Session | null) => {
    sessionRef.current = s;
    storeSession(s);
    setSessionState(s);
    if (!s) setMe(null);
  }, []);

  const recheck = useCallback(() => {
    setDiscovery((d) => ({ ...d, health: "checking" }));
    void discoverBase(config, fetchImpl).then(setDiscovery);
  }, [fetchImpl]);

  useEffect(() => {
    if (!initialDiscovery) recheck();
  }, [initialDiscovery, recheck]);

  const client = useMemo(
    () =>
      new ApiClient({
        base: discovery.base,
        getSession: () => sessionRef.current,
        onSession: setSession,
        storedSession: loadSession,
        fetchImpl,
      }),
    [discovery.base, setSession, fetchImpl],
  );

  // Who is signed in (role, tenant): loaded once per session.
  const accessToken = session?.accessToken ?? null;
  const signedIn = session !== null;
  useEffect(() => {
    if (!signedIn || discovery.health === "checking") return;
    let cancelled = false;
    client
      .get<Me>("/api/v1/auth/me")
      .then((m) => {
        if (cancelled) return;
        setMe(m);
        setMeError(null);
      })
      .catch((err: unknown) => {
        if (cancelled) return;
        if (err instanceof ApiError && err.status === 401) setSession(null);
        else setMeError(err instanceof Error ? err : new Error(String(err)));
      });
    return () => {
      cancelled = true;
    };
  }, [client, signedIn, discovery.health, setSession]);

  // The event stream: one EventSource per token; reconnects resume after the last event seen.
  useEffect(() => {
    if (!accessToken || discovery.health === "checking" || discovery.health === "unreachable") return;
    const ES = eventSourceImpl ?? window.EventSource;
    if (!ES) return;
    let source: EventSource | null = null;
    let lastId: number | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let closed = false;
    let attempts = 0;
    const onEvent = (msg: MessageEvent<string>) => {
      let event: DashboardEvent;
      try {
        event = JSON.parse(msg.data) as DashboardEvent;
      } catch {
        return;
      }
      if (typeof event.id === "number") lastId = event.id;
      for (const h of handlers.current) h(event);
    };
    const open = () => {
      if (closed) return;
      setLive(attempts === 0 ? "connecting" : "retrying");
      source = new ES(client.eventsUrl(lastId));
      source.onopen = () => {
        attempts = 0;
        setLive("live");
      };
      source.onerror = () => {
        // The browser retries by itself while the stream is merely interrupted; a refused stream
        // (401 after a token rotation, 503) is closed and reopened here with a fresh URL.
        if (source && source.readyState === 2) {
          source.close();
          attempts += 1;
          setLive("retrying");
          retry = setTimeout(open, Math.min(30_000, 1000 * 2 ** Math.min(attempts, 5)));
        } else {
          setLive("retrying");
        }
      };
      for (const type of EVENT_TYPES) source.addEventListener(type, onEvent as EventListener);
    };
    open();
    return () => {
      closed = true;
      if (retry) clearTimeout(retry);
      source?.close();
      setLive("off");
    };
  }, [accessToken, client, discovery.health, eventSourceImpl]);

  const login = useCallback(
    async (email: string, password: string) => {
      const t = await client.post<TokenOut>("/api/v1/auth/login", { body: { email, password }, auth: false });
      setSession({ accessToken: t.access_token, refreshToken: t.refresh_token, expiresAt: t.expires_at });
    },
    [client, setSession],
  );

  const logout = useCallback(async () => {
    try {
      await client.post("/api/v1/auth/logout");
    } catch {
      // signed out locally either way
    }
    setSession(null);
  }, [client, setSession]);

  const subscribe = useCallback((handler: (e: DashboardEvent) => void) => {
    handlers.current.add(handler);
    return () => {
      handlers.current.delete(handler);
    };
  }, []);

  const can = useCallback((least: Role) => atLeast(me?.role, least), [me]);

  const value = useMemo<ApiContextValue>(
    () => ({ discovery, client, session, me, meError, live, login, logout, recheck, subscribe, can }),
    [discovery, client, session, me, meError, live, login, logout, recheck, subscribe, can],
  );
  return createElement(ApiContext.Provider, { value }, children);
}

// --- data hooks ----------------------------------------------------------------------------------------

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | Error | null;
  loading: boolean;
  reload: () => void;
  setData: (update: (prev: T | undefined) => T | undefined) => void;
}

/** Load `fetcher(client)` now and whenever `deps` change; `reload()` fetches again in place. */
export function useResource<T>(
  fetcher: ((client: ApiClient, signal: AbortSignal) => Promise<T>) | null,
  deps: unknown[],
): Resource<T> {
  const { client } = useApi();
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [loading, setLoading] = useState(fetcher !== null);
  const [tick, setTick] = useState(0);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;

  useEffect(() => {
    const f = fetcherRef.current;
    if (!f) {
      setLoading(false);
      return;
    }
    const ctl = new AbortController();
    setLoading(true);
    f(client, ctl.signal)
      .then((d) => {
        if (ctl.signal.aborted) return;
        setDataState(d);
        setError(null);
      })
      .catch((err: unknown) => {
        if (ctl.signal.aborted) return;
        setError(err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, tick, ...deps]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((update: (prev: T | undefined) => T | undefined) => setDataState(update), []);
  return { data, error, loading, reload, setData };
}

/** Call `handler` for every live event (the latest handler, without resubscribing). */
export function useEvents(handler: (e: DashboardEvent) => void): void {
  const { subscribe } = useApi();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => subscribe((e) => ref.current(e)), [subscribe]);
}

/** A function that runs `fn` once, `ms` after the last call (bursts of events → one reload). */
export function useDebounced(fn: () => void, ms: number): () => void {
  const ref = useRef(fn);
  ref.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return useCallback(() => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => ref.current(), ms);
  }, [ms]);
}

/** An async action with pending/error state, for buttons. */
export function useAction<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): { run: (...args: A) => Promise<R | undefined>; pending: boolean; error: Error | null; clear: () => void } {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const ref = useRef(fn);
  ref.current = fn;
  const run = useCallback(async (...args: A) => {
    setPending(true);
    setError(null);
    try {
      return await ref.current(...args);
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
      return undefined;
    } finally {
      setPending(false);
    }
  }, []);
  return { run, pending, error, clear: () => setError(null) };
}
