"""The fake Tienda Nube HTTP API (wire format of EXTERNAL_APIS.md §C).

Routes: `POST /apps/authorize/token` (JSON or form), `/{v1|YYYY-MM}/{store_id}/...` for store,
products, orders, customers, webhooks, draft orders and coupons (sales.py); plus `/__fake/*`
helpers for `make dev` and benchmarks (issue an auth code, deliver a signed webhook, pay a draft
order, read counters).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from . import checkouts, sales
from .state import FakeTiendanube, now_iso

VERSION_RE = re.compile(r"^(v1|\d{4}-\d{2})$")
WEBHOOK_EVENTS = {
    *(f"app/{e}" for e in ("uninstalled", "suspended", "resumed")),
    *(f"category/{e}" for e in ("created", "updated", "deleted")),
    *(f"customer/{e}" for e in ("created", "updated", "deleted")),
    *(
        f"order/{e}"
        for e in (
            "created",
            "updated",
            "paid",
            "packed",
            "fulfilled",
            "cancelled",
            "custom_fields_updated",
            "edited",
            "pending",
            "voided",
            "unpacked",
        )
    ),
    *(f"product/{e}" for e in ("created", "updated", "deleted")),
    "domain/updated",
    "subscription/updated",
}


def _err(status: int, message: str, description: str | None = None, headers: dict[str, str] | None = None):
    return JSONResponse(
        {"code": status, "message": message, "description": description}, status_code=status, headers=headers
    )


def _digits(s: str | None) -> str:
    return re.sub(r"\D", "", s or "")


def create_app(fake: FakeTiendanube) -> FastAPI:
    app = FastAPI(title="Fake Tienda Nube", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.fake = fake

    @app.post("/apps/authorize/token")
    async def token(request: Request) -> Response:
        raw = await request.body()
        ctype = request.headers.get("content-type", "")
        data: dict[str, Any]
        if "json" in ctype:
            try:
                data = json.loads(raw or b"{}")
            except ValueError:
                return JSONResponse({"error": "Problems parsing JSON"}, status_code=400)
        else:
            form = await request.form()
            data = {k: str(v) for k, v in form.items()}
        if data.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        result = fake.exchange_code(
            str(data.get("code", "")), str(data.get("client_id", "")), str(data.get("client_secret", ""))
        )
        return JSONResponse(result, status_code=400 if "error" in result else 200)

    # ----- helpers for make dev / benchmarks -----
    @app.post("/__fake/codes")
    async def issue_code(body: dict[str, Any]) -> dict[str, str]:
        return {"code": fake.issue_code(int(body["store_id"]))}

    @app.post("/__fake/deliver")
    async def deliver(body: dict[str, Any]) -> dict[str, Any]:
        statuses = await fake.deliver(int(body["store_id"]), str(body["event"]), body.get("id"))
        return {"statuses": statuses}

    @app.post("/__fake/draft_orders/{draft_id}/pay")
    async def pay(draft_id: int, body: dict[str, Any]) -> Response:
        """The buyer paid this draft order: it becomes an order and the order webhooks go out."""
        sid = int(body["store_id"])
        store = fake.stores.get(sid)
        if store is None or draft_id not in store.draft_orders:
            return _err(404, "Not Found", f"Invalid draft order {draft_id}")
        return JSONResponse(await sales.pay_draft_order(fake, sid, draft_id, body.get("coupon_code")))

    @app.post("/__fake/checkouts")
    async def new_checkout(body: dict[str, Any]) -> dict[str, Any]:
        """`{store_id, phone, name?, email?, total?, language?}`: a buyer abandons a checkout."""
        sid = int(body.pop("store_id"))
        return checkouts.add_checkout(fake, sid, **body)

    @app.post("/__fake/checkouts/{checkout_id}/convert")
    async def convert_checkout(checkout_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """`{store_id}`: the buyer completes it; returns the new (paid) order."""
        return checkouts.convert(fake, int(body["store_id"]), checkout_id)

    @app.get("/__fake/stats")
    async def stats() -> dict[str, Any]:
        return dict(fake.stats)

    # Control of a fake running in its own process (benchmarks: as in production, its JSON work
    # does not share the caller's interpreter).
    @app.post("/__fake/stats/reset")
    async def reset_stats() -> dict[str, Any]:
        fake.reset_stats()
        return dict(fake.stats)

    @app.post("/__fake/rate_limit")
    async def rate_limit(body: dict[str, Any]) -> dict[str, Any]:
        """`{enabled, capacity?, leak_per_s?}`; every bucket starts empty again."""
        fake.set_rate_limit(
            enabled=bool(body["enabled"]),
            capacity=int(body.get("capacity", 40)),
            leak_per_s=float(body.get("leak_per_s", 2.0)),
        )
        return {"enabled": fake.rate_limit}

    @app.post("/__fake/tokens")
    async def new_token(body: dict[str, Any]) -> dict[str, str]:
        """`{store_id}`: a valid access token without the OAuth dance."""
        return {"access_token": fake.token_for(int(body["store_id"]))}

    @app.get("/__fake/stores/{sid}/product_ids")
    async def product_ids(sid: int) -> list[int]:
        with fake.lock:
            return sorted(fake.stores[sid].products) if sid in fake.stores else []

    @app.patch("/__fake/stores/{sid}/products/{pid}")
    async def edit_product(sid: int, pid: int, body: dict[str, Any]) -> Response:
        """The merchant edits a product (fields replaced, `updated_at` moves on); no webhook."""
        with fake.lock:
            if sid not in fake.stores or pid not in fake.stores[sid].products:
                return _err(404, "Not Found")
            return JSONResponse(fake.update_product(sid, pid, **body))

    @app.delete("/__fake/stores/{sid}/products/{pid}")
    async def remove_product(sid: int, pid: int) -> Response:
        """The merchant deletes a product; no webhook (one that got lost)."""
        with fake.lock:
            if sid not in fake.stores or pid not in fake.stores[sid].products:
                return _err(404, "Not Found")
            fake.delete_product(sid, pid)
        return JSONResponse({})

    # ----- the store API -----
    @app.api_route("/{version}/{store_id}/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def api(version: str, store_id: str, path: str, request: Request) -> Response:
        if not VERSION_RE.match(version) or not store_id.isdigit():
            return _err(404, "Not Found")
        sid = int(store_id)
        with fake.lock:
            fake.stats["requests"] += 1
            fake.request_log.append((request.method, f"/{path}?{request.url.query}"))
            fake.request_times.setdefault(sid, []).append(time.monotonic())
        if not request.headers.get("user-agent"):
            return _err(400, "Bad Request", "User-Agent header is required")
        auth = request.headers.get("authentication") or (
            request.headers.get("authorization") if fake.accept_authorization_header else None
        )
        token = auth.split(" ", 1)[1].strip() if auth and " " in auth else ""
        with fake.lock:
            owner = fake.tokens.get(token)
        if owner != sid or sid not in fake.stores:
            return _err(401, "Unauthorized", "Invalid access token")
        rl_headers: dict[str, str] = {}
        if (late := fake.take_hold(f"/{path}?{request.url.query}", before_count=True)) is not None:
            await asyncio.sleep(late)
        if fake.rate_limit:
            bucket = fake.bucket(sid, token)
            with fake.lock:
                ok = bucket.take()
                rl_headers = bucket.headers()
            if not ok:
                with fake.lock:
                    fake.stats["throttled"] += 1
                    fake.throttled_agents.append(request.headers.get("user-agent", ""))
                return _err(429, "Too Many Requests", "Rate limit exceeded", rl_headers)
        if (hold := fake.take_hold(f"/{path}?{request.url.query}", before_count=False)) is not None:
            await asyncio.sleep(hold)
        if (status := fake.take_failure(f"/{path}")) is not None:
            return _err(status, "Scripted failure", "retry later", rl_headers)
        if request.method in ("POST", "PUT") and "application/json" not in request.headers.get(
            "content-type", ""
        ):
            return _err(415, "Unsupported Media Type", None, rl_headers)
        body: Any = None
        if request.method in ("POST", "PUT"):
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                return JSONResponse({"error": "Problems parsing JSON"}, status_code=400, headers=rl_headers)
        status, payload, extra = _route(fake, sid, request.method, path.strip("/"), request, body)
        headers = {**rl_headers, **extra}
        if status >= 400 and isinstance(payload, str):
            return _err(status, payload, None, headers)
        return JSONResponse(payload, status_code=status, headers=headers)

    return app


def _page(
    fake: FakeTiendanube, request: Request, items: list[dict[str, Any]], path: str
) -> tuple[int, Any, dict[str, str]]:
    try:
        page = int(request.query_params.get("page", "1"))
        per_page = int(request.query_params.get("per_page", str(fake.default_per_page)))
    except ValueError:
        return 400, {"code": 400, "message": "Bad Request", "description": "Invalid page"}, {}
    if page < 1 or per_page < 1 or per_page > fake.max_per_page:
        return 422, {"per_page": [f"must be between 1 and {fake.max_per_page}"]}, {}
    total = len(items)
    last = max(1, (total + per_page - 1) // per_page)
    if page > last:
        return 404, {"code": 404, "message": "Not Found", "description": f"Last page is {last}"}, {}
    chunk = items[(page - 1) * per_page : page * per_page]
    base = str(request.url).split("?")[0]
    params = {k: v for k, v in request.query_params.items() if k not in ("page", "per_page")}

    def link(p: int) -> str:
        return f"{base}?{urlencode({**params, 'page': p, 'per_page': per_page})}"

    rels = []
    if page < last:
        rels.append(f'<{link(page + 1)}>; rel="next"')
    if page > 1:
        rels.append(f'<{link(page - 1)}>; rel="prev"')
    rels += [f'<{link(1)}>; rel="first"', f'<{link(last)}>; rel="last"']
    return 200, chunk, {"X-Total-Count": str(total), "Link": ", ".join(rels)}


def _route(
    fake: FakeTiendanube, sid: int, method: str, path: str, request: Request, body: Any
) -> tuple[int, Any, dict[str, str]]:
    store = fake.stores[sid]
    parts = path.split("/") if path else []
    q = request.query_params
    with fake.lock:
        if (sold := sales.route(fake, store, method, parts, q, body)) is not None:
            return sold
        if parts == ["store"] and method == "GET":
            return 200, store.info(), {}
        if parts[:1] == ["products"]:
            if len(parts) == 1 and method == "GET":
                try:
                    listed = int(q.get("page", "1"))
                except ValueError:
                    listed = 1
                items = fake.listed_products(store, listed)
                if since := q.get("updated_at_min"):
                    items = [p for p in items if p["updated_at"] >= since]
                return _page(fake, request, items, path)
            if len(parts) == 3 and parts[1] == "sku" and method == "GET":
                for p in store.products.values():
                    if any(v.get("sku") == parts[2] for v in p["variants"]):
                        return 200, p, {}
                return 404, "Not Found", {}
            if len(parts) == 2 and parts[1].isdigit():
                pid = int(parts[1])
                if pid not in store.products:
                    return 404, "Not Found", {}
                if method == "GET":
                    return 200, store.products[pid], {}
                if method == "DELETE":
                    del store.products[pid]
                    return 200, {}, {}
        if parts[:1] == ["orders"]:
            if len(parts) == 1 and method == "GET":
                items = sorted(store.orders.values(), key=lambda o: -o["number"])
                if term := q.get("q"):
                    t = term.strip().lower()
                    td = _digits(t)
                    items = [
                        o
                        for o in items
                        if t == str(o["number"])
                        or t in (o.get("contact_email") or "").lower()
                        or t in (o.get("customer") or {}).get("name", "").lower()
                        or (len(td) >= 6 and td in _digits(o.get("contact_phone")))
                        or (len(td) >= 6 and td in _digits((o.get("customer") or {}).get("phone")))
                    ]
                if ids := q.get("customer_ids"):
                    wanted = {int(x) for x in ids.split(",") if x.strip().isdigit()}
                    items = [o for o in items if (o.get("customer") or {}).get("id") in wanted]
                return _page(fake, request, items, path)
            if len(parts) == 2 and parts[1].isdigit():
                o = store.orders.get(int(parts[1]))
                return (200, o, {}) if o else (404, "Not Found", {})
        if parts[:1] == ["customers"]:
            if len(parts) == 1 and method == "GET":
                items = sorted(store.customers.values(), key=lambda c: c["id"])
                if term := q.get("q"):
                    t = term.strip().lower()
                    td = _digits(t)
                    items = [
                        c
                        for c in items
                        if t in (c.get("email") or "").lower()
                        or t in (c.get("name") or "").lower()
                        or t == (c.get("identification") or "")
                        or (len(td) >= 6 and td in _digits(c.get("phone")))
                    ]
                return _page(fake, request, items, path)
            if len(parts) == 2 and parts[1].isdigit():
                c = store.customers.get(int(parts[1]))
                return (200, c, {}) if c else (404, "Not Found", {})
        if parts[:1] == ["checkouts"]:
            found = checkouts.route(fake, sid, method, parts, q)
            if found is not None:
                status, payload, extra = found
                return _page(fake, request, payload, path) if status == 200 and len(parts) == 1 else found
        if parts[:1] == ["webhooks"]:
            if len(parts) == 1 and method == "GET":
                return 200, sorted(store.webhooks.values(), key=lambda w: w["id"]), {}
            if len(parts) == 1 and method == "POST":
                return _create_webhook(fake, store.webhooks, body or {})
            if len(parts) == 2 and parts[1].isdigit():
                wid = int(parts[1])
                w = store.webhooks.get(wid)
                if w is None:
                    return 404, "Not Found", {}
                if method == "GET":
                    return 200, w, {}
                if method == "DELETE":
                    del store.webhooks[wid]
                    return 200, {}, {}
                if method == "PUT":
                    errors = _webhook_errors(fake, body or {}, partial=True)
                    if errors:
                        return 422, errors, {}
                    w.update({k: body[k] for k in ("event", "url") if k in body})
                    w["updated_at"] = now_iso()
                    return 200, w, {}
    return 404, "Not Found", {}


def _webhook_errors(
    fake: FakeTiendanube, body: dict[str, Any], partial: bool = False
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if "event" in body or not partial:
        if body.get("event") not in WEBHOOK_EVENTS:
            errors["event"] = ["Invalid event specified"]
    if "url" in body or not partial:
        url = str(body.get("url") or "")
        bad = not url.startswith(("http://", "https://"))
        if fake.strict_webhook_urls:
            bad = bad or not url.startswith("https://") or "localhost" in url or "tiendanube" in url
        if bad:
            errors["url"] = ["invalid url specified"]
    return errors


def _create_webhook(
    fake: FakeTiendanube, webhooks: dict[int, dict[str, Any]], body: dict[str, Any]
) -> tuple[int, Any, dict[str, str]]:
    errors = _webhook_errors(fake, body)
    if errors:
        return 422, errors, {}
    wid = fake.next_id()
    ts = now_iso()
    hook = {"id": wid, "event": body["event"], "url": body["url"], "created_at": ts, "updated_at": ts}
    webhooks[wid] = hook
    return 201, hook, {}
