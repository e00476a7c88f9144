// A small client-side router on the History API: nginx answers index.html for every path, so any
// dashboard URL can be reloaded or shared.

import { createElement, useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from "react";

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  if (to === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  for (const l of listeners) l();
}

export function usePath(): string {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const update = () => setPath(window.location.pathname);
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return path;
}

export type Route =
  | { name: "login" }
  | { name: "inbox" }
  | { name: "conversation"; id: string }
  | { name: "analytics" }
  | { name: "telemetry" }
  | { name: "settings" }
  | { name: "playground" }
  | { name: "campaigns" }
  | { name: "notFound" };

export function matchRoute(path: string): Route {
  const p = path.replace(/\/+$/, "") || "/";
  if (p === "/" || p === "/inbox") return { name: "inbox" };
  const conv = /^\/inbox\/([0-9a-fA-F-]{36})$/.exec(p);
  if (conv) return { name: "conversation", id: conv[1] };
  for (const name of ["login", "analytics", "telemetry", "settings", "playground", "campaigns"] as const) {
    if (p === `/${name}`) return { name };
  }
  return { name: "notFound" };
}

/** An <a> that navigates without a page load (modified clicks open a tab as usual). */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    props.onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.href);
  };
  return createElement("a", { ...props, onClick });
}
