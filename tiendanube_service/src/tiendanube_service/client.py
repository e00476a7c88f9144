"""The only code that talks to Tienda Nube: auth header, User-Agent, rate limits, retries.

`TiendanubeAPI.request` paces every call through the store's leaky bucket (see ratelimit.py),
retries a 429 after the bucket has drained enough (never counting it as a failure) and retries
5xx and network errors with exponential backoff and full jitter. Access tokens arrive per call
from the orchestrator and are never logged.
"""

from __future__ import annotations

import asyncio
import copy
import random
import re
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from nexus_common.errors import NexusError

from .ratelimit import RateLimiter, StoreBucket, Ticket

log = structlog.get_logger("tiendanube.client")

LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
PAGE_PARAM = re.compile(r"[?&]page=(\d+)")


class UpstreamError(NexusError):
    """Tienda Nube answered with an error we pass on (status mapped for the orchestrator)."""

    status_code, code, message = 502, "upstream_error", "Tienda Nube returned an error"


@dataclass
class Page:
    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int | None
    next_page: int | None


class TiendanubeAPI:
    def __init__(
        self,
        api_url: str,
        auth_url: str,
        *,
        user_agent: str,
        client_id: str | None,
        client_secret: str | None,
        limiter: RateLimiter,
        timeout: float = 20.0,
        max_5xx_retries: int = 4,
        max_429_retries: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.auth_url = auth_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.limiter = limiter
        self.background = False  # requests yield to foreground ones in each store's bucket
        self._background_view: TiendanubeAPI | None = None
        self.max_5xx_retries = max_5xx_retries
        self.max_429_retries = max_429_retries
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=5.0),
            headers={"User-Agent": user_agent},
            transport=transport,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    def background_lane(self) -> TiendanubeAPI:
        """This client (same connections, same limiter) for background work: bulk reads such as
        a cart-recovery batch, whose requests let a waiting foreground request go first."""
        if self.background:
            return self
        if self._background_view is None:
            view = copy.copy(self)
            view.background = True
            self._background_view = view
        return self._background_view

    # ----- transport with pacing and retries -----
    async def request(
        self,
        store_id: int,
        token: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        retry_5xx: bool = True,
    ) -> httpx.Response:
        """Paced by the store's bucket; 429 is always retried (the platform did nothing). A 5xx
        is retried only when `retry_5xx`: a POST that creates something (a draft order, a
        coupon) may have been applied before the error, so its caller decides."""
        bucket = self.limiter.bucket(store_id)
        url = f"{self.api_url}/{store_id}/{path.lstrip('/')}"
        headers = {"Authentication": f"bearer {token}"}
        if json is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        failures = throttles = 0
        while True:
            if not bucket.known:
                # First contact with this store: one request in flight until we know its limit.
                async with bucket.probe:
                    if not bucket.known:
                        sent = await self._send(bucket, method, url, headers, params, json)
                    else:
                        sent = None
                if sent is None:
                    continue
            else:
                sent = await self._send(bucket, method, url, headers, params, json)
            resp, ticket = sent
            if isinstance(resp, Exception) or resp.status_code >= 500:
                if not isinstance(resp, Exception):
                    bucket.observe(ticket, resp.headers)
                failures += 1
                if failures > (self.max_5xx_retries if retry_5xx else 0):
                    if isinstance(resp, Exception):
                        raise UpstreamError(
                            "Tienda Nube unreachable", code="upstream_unavailable", status_code=503
                        )
                    return resp
                delay = random.uniform(0, min(8.0, 0.25 * 2**failures))  # noqa: S311 - jitter
                log.warning(
                    "tiendanube.retry",
                    store_id=store_id,
                    path=path,
                    status=getattr(resp, "status_code", None),
                    error=type(resp).__name__ if isinstance(resp, Exception) else None,
                    delay=round(delay, 3),
                )
                await asyncio.sleep(delay)
                continue
            if resp.status_code == 429:
                throttles += 1
                bucket.observe(ticket, resp.headers, throttled=True)
                log.warning("tiendanube.throttled", store_id=store_id, path=path, attempt=throttles)
                if throttles > self.max_429_retries:
                    raise UpstreamError(
                        "Tienda Nube rate limit", code="upstream_rate_limited", status_code=503
                    )
                continue  # acquire() waits until the bucket has drained enough
            bucket.observe(ticket, resp.headers)
            return resp

    async def _send(
        self,
        bucket: StoreBucket,
        method: str,
        url: str,
        headers: dict[str, str],
        params: dict[str, Any] | None,
        json: Any,
    ) -> tuple[httpx.Response | Exception, Ticket]:
        ticket = await bucket.acquire(background=self.background)
        try:
            resp = await self.http.request(method, url, headers=headers, params=params, json=json)
        except httpx.TransportError as exc:
            bucket.release()
            return exc, ticket
        except BaseException:
            bucket.release()
            raise
        return resp, ticket

    async def call(self, store_id: int, token: str, method: str, path: str, **kw: Any) -> Any:
        """A request whose error statuses become UpstreamError (404 stays 404)."""
        resp = await self.request(store_id, token, method, path, **kw)
        if resp.status_code < 400:
            return resp.json() if resp.content else {}
        raise _error_for(resp)

    # ----- resources -----
    async def page(
        self, store_id: int, token: str, resource: str, *, page: int, per_page: int, **filters: Any
    ) -> Page:
        params = {"page": page, "per_page": per_page, **{k: v for k, v in filters.items() if v is not None}}
        resp = await self.request(store_id, token, "GET", resource, params=params)
        if resp.status_code == 404 and page > 1:
            # Past the last page (the platform answers 404 there): an empty page, not an error.
            return Page([], page, per_page, None, None)
        if resp.status_code >= 400:
            raise _error_for(resp)
        total = resp.headers.get("x-total-count")
        next_page = None
        if m := LINK_NEXT.search(resp.headers.get("link", "")):
            if pm := PAGE_PARAM.search(m.group(1)):
                next_page = int(pm.group(1))
        items = resp.json()
        if not isinstance(items, list):
            raise UpstreamError("Tienda Nube returned an unexpected page body")
        return Page(items, page, per_page, int(total) if total and total.isdigit() else None, next_page)

    async def exchange_code(self, code: str) -> dict[str, Any]:
        if not self.client_id or not self.client_secret:
            raise NexusError(
                "TIENDANUBE_CLIENT_ID / TIENDANUBE_CLIENT_SECRET are not set",
                code="not_configured",
                status_code=503,
            )
        body = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "grant_type": "authorization_code",
            "code": code,
        }
        try:
            resp = await self.http.post(self.auth_url, json=body)
        except httpx.TransportError:
            raise UpstreamError(
                "Tienda Nube unreachable", code="upstream_unavailable", status_code=503
            ) from None
        try:
            data = resp.json()
        except ValueError:
            data = {}
        # The platform's error status is undocumented; the SDK checks the body, so do we.
        if resp.status_code >= 400 or "error" in data or not data.get("access_token"):
            if resp.status_code >= 500:
                raise UpstreamError("Tienda Nube unavailable", code="upstream_unavailable", status_code=503)
            raise UpstreamError(
                str(data.get("error_description") or "The authorization code was refused"),
                code="invalid_grant",
                status_code=400,
            )
        return {
            "access_token": data["access_token"],
            "store_id": int(data["user_id"]),
            "scope": data.get("scope", ""),
        }


def _error_for(resp: httpx.Response) -> UpstreamError:
    status = resp.status_code
    try:
        body = resp.json()
    except ValueError:
        body = {}
    description = body.get("description") if isinstance(body, dict) else None
    details = {"upstream_status": status}
    if status == 404:
        return UpstreamError("Not found in Tienda Nube", code="not_found", status_code=404, details=details)
    if status == 401:
        return UpstreamError(
            "Tienda Nube refused the access token",
            code="upstream_unauthorized",
            status_code=502,
            details=details,
        )
    if status == 402:
        return UpstreamError(
            "The store's Tienda Nube subscription is unpaid",
            code="payment_required",
            status_code=502,
            details=details,
        )
    if status == 422:
        return UpstreamError(
            "Tienda Nube rejected the request",
            code="upstream_rejected",
            status_code=422,
            details=body or details,
        )
    if status >= 500:
        return UpstreamError(
            "Tienda Nube unavailable", code="upstream_unavailable", status_code=503, details=details
        )
    return UpstreamError(
        str(description or "Tienda Nube returned an error"),
        code="upstream_error",
        status_code=502,
        details=details,
    )
