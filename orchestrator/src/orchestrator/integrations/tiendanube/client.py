"""The orchestrator's client of tiendanube_service (the only way it reaches Tienda Nube).

The store's access token is passed per call in `X-Tiendanube-Token`; it is decrypted by the
caller just before and never logged.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from nexus_common.errors import NexusError
from nexus_common.http import make_client

from ...config import Settings

TOKEN_HEADER = "X-Tiendanube-Token"  # noqa: S105 - a header name
LANE_HEADER = "X-Nexus-Lane"  # tiendanube_service's bucket lane: foreground (default) or background

PRODUCT_EVENTS = ("product/created", "product/updated", "product/deleted")
ORDER_EVENTS = (
    "order/created",
    "order/updated",
    "order/paid",
    "order/packed",
    "order/fulfilled",
    "order/cancelled",
)
WEBHOOK_EVENTS = (*PRODUCT_EVENTS, *ORDER_EVENTS, "app/uninstalled")


class TiendanubeError(NexusError):
    """tiendanube_service (or Tienda Nube behind it) refused or failed."""

    status_code, code, message = 502, "tiendanube_error", "Tienda Nube request failed"

    @property
    def retryable(self) -> bool:
        return self.status_code >= 500 and self.code in (
            "upstream_unavailable",
            "upstream_rate_limited",
            "unavailable",
        )


class TiendanubeNotFound(TiendanubeError):
    status_code, code, message = 404, "not_found", "Not found in Tienda Nube"


class ServiceClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def _call(self, method: str, path: str, *, token: str | None = None, **kw: Any) -> Any:
        headers = {TOKEN_HEADER: token} if token else None
        try:
            resp = await self.http.request(method, path, headers=headers, **kw)
        except httpx.TransportError:
            raise TiendanubeError(
                "tiendanube_service unreachable", code="unavailable", status_code=503
            ) from None
        if resp.status_code < 400:
            return resp.json()
        try:
            err = resp.json().get("error", {})
        except ValueError:
            err = {}
        code = str(err.get("code") or "tiendanube_error")
        message = str(err.get("message") or f"tiendanube_service answered {resp.status_code}")
        if resp.status_code == 404:
            raise TiendanubeNotFound(message)
        status = resp.status_code if resp.status_code in (400, 422, 503) else 502
        raise TiendanubeError(message, code=code, status_code=status, details=err.get("details"))

    async def exchange_code(self, code: str) -> dict[str, Any]:
        return await self._call("POST", "/v1/oauth/token", json={"code": code})

    async def store(self, store_id: int, token: str) -> dict[str, Any]:
        return await self._call("GET", f"/v1/stores/{store_id}/store", token=token)

    async def products_page(
        self, store_id: int, token: str, page: int, per_page: int = 200
    ) -> dict[str, Any]:
        return await self._call(
            "GET", f"/v1/stores/{store_id}/products", token=token, params={"page": page, "per_page": per_page}
        )

    async def product(self, store_id: int, token: str, product_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/v1/stores/{store_id}/products/{product_id}", token=token)

    async def search_orders(self, store_id: int, token: str, **query: Any) -> list[dict[str, Any]]:
        body = await self._call("POST", f"/v1/stores/{store_id}/orders/search", token=token, json=query)
        return list(body.get("items") or [])

    async def order(self, store_id: int, token: str, order_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/v1/stores/{store_id}/orders/{order_id}", token=token)

    async def create_draft_order(self, store_id: int, token: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", f"/v1/stores/{store_id}/draft_orders", token=token, json=body)

    async def create_coupon(self, store_id: int, token: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call("POST", f"/v1/stores/{store_id}/coupons", token=token, json=body)

    async def customer(self, store_id: int, token: str, customer_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/v1/stores/{store_id}/customers/{customer_id}", token=token)

    async def customers_by_email(self, store_id: int, token: str, email: str) -> list[dict[str, Any]]:
        body = await self._call(
            "POST", f"/v1/stores/{store_id}/customers/search", token=token, json={"email": email}
        )
        return list(body.get("items") or [])

    async def checkouts_page(
        self, store_id: int, token: str, page: int, *, created_at_min: str | None = None, per_page: int = 200
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if created_at_min:
            params["created_at_min"] = created_at_min
        return await self._call("GET", f"/v1/stores/{store_id}/checkouts", token=token, params=params)

    async def checkout(self, store_id: int, token: str, checkout_id: int) -> dict[str, Any]:
        return await self._call("GET", f"/v1/stores/{store_id}/checkouts/{checkout_id}", token=token)

    async def ensure_webhooks(
        self, store_id: int, token: str, url: str, events: tuple[str, ...] = WEBHOOK_EVENTS
    ) -> dict[str, Any]:
        return await self._call(
            "PUT", f"/v1/stores/{store_id}/webhooks", token=token, json={"url": url, "events": list(events)}
        )


@contextlib.asynccontextmanager
async def service_client(
    settings: Settings, *, request_timeout: float = 120.0, background: bool = False
) -> AsyncIterator[ServiceClient]:
    """`background`: bulk work (cart recovery) whose requests let the store's time-sensitive
    ones (order updates, the assistant's lookups) take the bucket's next slot first."""
    # Generous timeout: a paced page may wait for the store's rate-limit bucket to drain.
    http = make_client(
        str(settings.tiendanube_service_url).rstrip("/"),
        timeout=request_timeout,
        internal_token=settings.internal_api_token.get_secret_value(),
        headers={LANE_HEADER: "background"} if background else None,
    )
    try:
        yield ServiceClient(http)
    finally:
        await http.aclose()


def webhook_url(settings: Settings) -> str:
    return f"{settings.api_base_url.rstrip('/')}/webhooks/tiendanube"
