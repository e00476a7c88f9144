"""In-memory state of the fake Tienda Nube: stores, tokens, catalog, orders, customers, webhooks.

Everything a test wants to script lives here (rate limit, failures, counters), so a test holds the
`FakeTiendanube` object and the HTTP app only reads and writes it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class Bucket:
    """The platform's leaky bucket: `capacity` requests, leaking `leak_per_s` per second."""

    capacity: int
    leak_per_s: float
    level: float = 0.0
    at: float = field(default_factory=time.monotonic)

    def _leak(self, now: float) -> None:
        self.level = max(0.0, self.level - (now - self.at) * self.leak_per_s)
        self.at = now

    def take(self) -> bool:
        now = time.monotonic()
        self._leak(now)
        if self.level + 1.0 <= self.capacity + 1e-9:
            self.level += 1.0
            return True
        return False

    def headers(self) -> dict[str, str]:
        self._leak(time.monotonic())
        remaining = max(0, int(self.capacity - self.level))
        reset_ms = int(self.level / self.leak_per_s * 1000 + 0.999) if self.leak_per_s > 0 else 0
        return {
            "x-rate-limit-limit": str(self.capacity),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset_ms),
        }


@dataclass
class Store:
    id: int
    name: str
    url: str
    currency: str = "ARS"
    country: str = "AR"
    languages: tuple[str, ...] = ("es",)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    draft_orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    coupons: dict[int, dict[str, Any]] = field(default_factory=dict)
    checkouts: dict[int, dict[str, Any]] = field(default_factory=dict)  # abandoned checkouts

    @property
    def main_language(self) -> str:
        return self.languages[0]

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": {lang: self.name for lang in self.languages},
            "original_domain": self.url.removeprefix("https://"),
            "url_with_protocol": self.url,
            "main_currency": self.currency,
            "country": self.country,
            "languages": {lang: {"currency": self.currency, "active": True} for lang in self.languages},
            "main_language": self.main_language,
            "email": f"hola@{self.url.removeprefix('https://')}",
        }


@dataclass
class ListingChange:
    """A change to a store's catalog made while a client pages through its products (tests).

    `change` runs when the first request for a products page past `after_page` arrives. The pages
    up to `after_page` that had not been answered yet are answered (once each) from the list as it
    was before: as if the platform had answered them before the change, whatever order a client
    with several requests in flight sends them in. Deterministic, so a test knows which products
    shift across a page boundary."""

    after_page: int
    change: Callable[[Store], None]
    served: set[int] = field(default_factory=set)  # pages answered before the change
    before: list[dict[str, Any]] | None = None  # the list before the change, once it ran


@dataclass
class Failure:
    path_contains: str
    status: int
    times: int


class FakeTiendanube:
    """One fake platform (many stores). Thread-safe: the HTTP app runs in its own thread."""

    def __init__(
        self,
        *,
        client_id: str = "4321",
        client_secret: str = "fake-app-secret-0123456789",  # noqa: S107 - a fake
        rate_limit: bool = True,
        bucket_capacity: int = 40,
        leak_per_s: float = 2.0,
        accept_authorization_header: bool = True,
        strict_webhook_urls: bool = False,
        max_per_page: int = 200,
        default_per_page: int = 30,
        products_order: str = "id",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.rate_limit = rate_limit
        self.bucket_capacity = bucket_capacity
        self.leak_per_s = leak_per_s
        self.accept_authorization_header = accept_authorization_header
        self.strict_webhook_urls = strict_webhook_urls
        self.max_per_page = max_per_page
        self.default_per_page = default_per_page
        # The order of GET /products without `sort_by` is not documented (EXTERNAL_APIS.md E):
        # "id" (oldest first) or "newest" (created_at descending: a product created during a
        # listing shifts every later page).
        self.products_order = products_order
        self.listing_changes: dict[int, ListingChange] = {}
        self.stores: dict[int, Store] = {}
        self.tokens: dict[str, int] = {}  # access token -> store id
        self.codes: dict[str, tuple[int, float]] = {}  # auth code -> (store id, expires at)
        self.code_ttl_s = 300.0
        self.buckets: dict[tuple[int, str], Bucket] = {}
        self.failures: list[Failure] = []
        self.holds: list[tuple[str, float, bool]] = []  # (path contains, seconds, before count)
        self.held: list[str] = []  # paths whose answer is being (or was) held, counted already
        self.lock = threading.RLock()
        self.stats: dict[str, int] = {"requests": 0, "throttled": 0}
        self.throttled_agents: list[str] = []  # User-Agent of each 429 answered
        self.request_log: list[tuple[str, str]] = []  # (method, path?query)
        self.request_times: dict[int, list[float]] = {}  # store id → monotonic time of each request
        self._next_id = 10_000_000
        # Abandoned checkouts (EXTERNAL_APIS.md F2). Unconfirmed behaviours, chosen by the test:
        # whether `created_at_min` filters (undocumented), whether a converted checkout leaves the
        # list ("vanish") or stays with `completed_at` set ("complete"), and whether the order
        # keeps the checkout's id.
        self.checkouts_honour_created_at_min = True
        self.converted_checkouts = "complete"
        self.order_keeps_checkout_id = False

    # ----- set-up helpers (tests, demo) -----
    def next_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def add_store(self, store: Store) -> Store:
        with self.lock:
            self.stores[store.id] = store
        return store

    def issue_code(self, store_id: int) -> str:
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = (store_id, time.monotonic() + self.code_ttl_s)
        return code

    def token_for(self, store_id: int) -> str:
        """A valid token for a store without the OAuth dance (a store connected by hand)."""
        token = secrets.token_hex(20)
        with self.lock:
            self.tokens[token] = store_id
        return token

    def revoke_store_tokens(self, store_id: int) -> None:
        with self.lock:
            for tok in [t for t, s in self.tokens.items() if s == store_id]:
                del self.tokens[tok]

    def fail_next(self, path_contains: str, status: int = 500, times: int = 1) -> None:
        with self.lock:
            self.failures.append(Failure(path_contains, status, times))

    def hold_next(self, path_contains: str, seconds: float, *, before_count: bool = False) -> None:
        """Answer the next matching request `seconds` late. By default it is held *after* being
        counted in the bucket: its rate-limit headers are older than those of requests answered
        meanwhile (answers can arrive in another order than the platform counted them). With
        `before_count` it is held before: the platform counts it late (a request slow to arrive)."""
        with self.lock:
            self.holds.append((path_contains, seconds, before_count))

    def take_hold(self, path: str, *, before_count: bool) -> float | None:
        with self.lock:
            for i, (contains, seconds, before) in enumerate(self.holds):
                if contains in path and before == before_count:
                    del self.holds[i]
                    self.held.append(path)
                    return seconds
        return None

    def set_rate_limit(self, *, enabled: bool, capacity: int = 40, leak_per_s: float = 2.0) -> None:
        with self.lock:
            self.rate_limit = enabled
            self.bucket_capacity = capacity
            self.leak_per_s = leak_per_s
            self.buckets.clear()

    def reset_stats(self) -> None:
        with self.lock:
            self.stats = {"requests": 0, "throttled": 0}
            self.throttled_agents.clear()
            self.request_log.clear()
            self.request_times.clear()

    # ----- request-time helpers (the app) -----
    def exchange_code(self, code: str, client_id: str, client_secret: str) -> dict[str, Any]:
        with self.lock:
            if client_id != self.client_id or not hmac.compare_digest(client_secret, self.client_secret):
                return {"error": "invalid_client", "error_description": "Invalid client credentials"}
            entry = self.codes.pop(code, None)
            if entry is None or entry[1] < time.monotonic():
                return {"error": "invalid_grant", "error_description": "The authorization code has expired"}
            store_id = entry[0]
            # Issuing a new token invalidates the previous one.
            self.revoke_store_tokens(store_id)
            token = secrets.token_hex(20)
            self.tokens[token] = store_id
        return {
            "access_token": token,
            "token_type": "bearer",
            "scope": "read_content,read_products,read_orders,read_customers",
            "user_id": str(store_id),
        }

    def bucket(self, store_id: int, token: str) -> Bucket:
        # The platform counts per store and app; this fake serves one app, so per store.
        key = (store_id, "app")
        with self.lock:
            b = self.buckets.get(key)
            if b is None:
                b = self.buckets[key] = Bucket(self.bucket_capacity, self.leak_per_s)
            return b

    def take_failure(self, path: str) -> int | None:
        with self.lock:
            for f in self.failures:
                if f.path_contains in path and f.times > 0:
                    f.times -= 1
                    status = f.status
                    self.failures = [x for x in self.failures if x.times > 0]
                    return status
        return None

    # ----- webhooks -----
    def sign(self, body: bytes) -> str:
        return hmac.new(self.client_secret.encode(), body, hashlib.sha256).hexdigest()

    def signed(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return body, {
            "content-type": "application/json",
            "x-linkedstore-hmac-sha256": self.sign(body),
            "user-agent": "Tiendanube-Webhooks",
        }

    def webhook_urls(self, store_id: int, event: str) -> list[str]:
        with self.lock:
            store = self.stores[store_id]
            return [w["url"] for w in store.webhooks.values() if w["event"] == event]

    async def deliver(
        self,
        store_id: int,
        event: str,
        resource_id: int | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        url: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> list[int]:
        """POST a signed event to every URL registered for it (or to `url`); returns the statuses."""
        body_obj = payload or {"store_id": store_id, "event": event, "id": resource_id}
        if payload is None and event.startswith("customer/"):
            body_obj["event_launch_ts"] = int(time.time() * 1000)
        body, headers = self.signed(body_obj)
        targets = [url] if url else self.webhook_urls(store_id, event)
        statuses = []
        own = client is None
        c = client or httpx.AsyncClient(timeout=3.0)
        try:
            for target in targets:
                r = await c.post(target, content=body, headers=headers)
                statuses.append(r.status_code)
        finally:
            if own:
                await c.aclose()
        return statuses

    # ----- catalog mutations (tests) -----
    def update_product(self, store_id: int, product_id: int, **changes: Any) -> dict[str, Any]:
        with self.lock:
            p = self.stores[store_id].products[product_id]
            for k, v in changes.items():
                p[k] = v
            p["updated_at"] = now_iso_after(p.get("updated_at"))
            return p

    def delete_product(self, store_id: int, product_id: int) -> None:
        with self.lock:
            del self.stores[store_id].products[product_id]

    def change_during_listing(self, store_id: int, after_page: int, change: Callable[[Store], None]) -> None:
        """Script a catalog change in the middle of the next paging through the store's products
        (see `ListingChange`)."""
        with self.lock:
            self.listing_changes[store_id] = ListingChange(after_page, change)

    def listed_products(self, store: Store, page: int) -> list[dict[str, Any]]:
        """The products list a request for `page` sees (with a scripted change applied)."""
        with self.lock:
            pending = self.listing_changes.get(store.id)
            if pending is not None:
                if pending.before is None and page <= pending.after_page:
                    pending.served.add(page)
                elif pending.before is None:
                    pending.before = self._ordered(store)
                    pending.change(store)
                    if len(pending.served) >= pending.after_page:
                        del self.listing_changes[store.id]
                elif page <= pending.after_page and page not in pending.served:
                    pending.served.add(page)
                    before = pending.before
                    if len(pending.served) >= pending.after_page:
                        del self.listing_changes[store.id]
                    return before
            return self._ordered(store)

    def _ordered(self, store: Store) -> list[dict[str, Any]]:
        items = sorted(store.products.values(), key=lambda p: p["id"])
        if self.products_order == "newest":
            items.sort(key=lambda p: p["created_at"], reverse=True)  # stable: ties keep id order
        return items

    def new_product(self, store: Store, name: str) -> dict[str, Any]:
        """A product created now (tests): a copy of the store's first product with new ids."""
        with self.lock:
            template = store.products[min(store.products)]
            pid = self.next_id()
            stamp = now_iso_after(max(p["created_at"] for p in store.products.values()))
            product = {
                **template,
                "id": pid,
                "name": {store.main_language: name},
                "handle": {store.main_language: f"nuevo-{pid}"},
                "variants": [
                    {**v, "id": self.next_id(), "product_id": pid, "sku": f"NEW-{pid}-{i}"}
                    for i, v in enumerate(template["variants"])
                ],
                "images": [],
                "created_at": stamp,
                "updated_at": stamp,
            }
            store.products[pid] = product
            return product


def now_iso_after(previous: str | None) -> str:
    """A timestamp strictly later than `previous` (seconds resolution, like the API)."""
    now = now_iso()
    if previous and now <= previous[:19] + "+0000":
        ts = datetime.strptime(previous[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        return datetime.fromtimestamp(ts.timestamp() + 1, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    return now
