"""Endpoints the orchestrator calls (all behind X-Internal-Token, added by create_service_app).

The store's access token travels per request in `X-Tiendanube-Token` (the orchestrator decrypts it
in memory); it is never logged or echoed. Bodies are Tienda Nube's own JSON, passed through, so the
orchestrator's mapping code reads the documented wire format.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from nexus_common.errors import BadRequest
from pydantic import BaseModel, Field

from .client import Page, TiendanubeAPI, UpstreamError

router = APIRouter(prefix="/v1")
MAX_PER_PAGE = 200


def get_api(
    request: Request,
    lane: Annotated[Literal["foreground", "background"], Header(alias="X-Nexus-Lane")] = "foreground",
) -> TiendanubeAPI:
    """The client, in the caller's lane: `background` (bulk work such as cart recovery) yields
    each store's bucket to `foreground` requests (an order update, an assistant's lookup)."""
    api: TiendanubeAPI = request.app.state.api
    return api.background_lane() if lane == "background" else api


Api = Annotated[TiendanubeAPI, Depends(get_api)]
Token = Annotated[str, Header(alias="X-Tiendanube-Token", min_length=8, max_length=512)]


class CodeExchange(BaseModel):
    code: str = Field(min_length=1, max_length=512)


class WebhookIn(BaseModel):
    event: str = Field(min_length=3, max_length=80)
    url: str = Field(min_length=8, max_length=2000)


class EnsureWebhooks(BaseModel):
    url: str = Field(min_length=8, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=50)


@router.post("/oauth/token")
async def exchange_code(body: CodeExchange, api: Api) -> dict[str, Any]:
    """Exchange an install's authorization code for the store's permanent access token."""
    return await api.exchange_code(body.code)


@router.get("/stores/{store_id}/store")
async def store_info(store_id: int, token: Token, api: Api) -> Any:
    """The store's name, domain, currency, country and languages."""
    return await api.call(store_id, token, "GET", "store")


@router.get("/stores/{store_id}/products")
async def products_page(
    store_id: int,
    token: Token,
    api: Api,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = MAX_PER_PAGE,
) -> dict[str, Any]:
    """One page of products (Tienda Nube JSON) plus `next_page` from the Link header (null at the end)."""
    p = await api.page(store_id, token, "products", page=page, per_page=per_page)
    return {
        "items": p.items,
        "page": p.page,
        "per_page": p.per_page,
        "total": p.total,
        "next_page": p.next_page,
    }


@router.get("/stores/{store_id}/products/{product_id}")
async def product(store_id: int, product_id: int, token: Token, api: Api) -> Any:
    """One product; 404 when it no longer exists."""
    return await api.call(store_id, token, "GET", f"products/{product_id}")


class OrderSearch(BaseModel):
    """Exactly one filter. In a body, not the URL, so phones and e-mails stay out of access logs."""

    number: str | None = Field(default=None, max_length=20, pattern=r"^\d+$")
    customer_id: int | None = Field(default=None, ge=1)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    page: int = Field(default=1, ge=1, le=1000)
    per_page: int = Field(default=50, ge=1, le=MAX_PER_PAGE)


@router.post("/stores/{store_id}/orders/search")
async def orders(store_id: int, body: OrderSearch, token: Token, api: Api) -> dict[str, Any]:
    """Orders by number, by Tienda Nube customer id, or by phone or e-mail (newest first).

    Phone and e-mail use the platform's free-text search, which is broad: the caller must still
    check each order's contact against the customer (the orchestrator does).
    """
    given = [x for x in (body.number, body.customer_id, body.email, body.phone) if x is not None]
    if len(given) != 1:
        raise BadRequest("give exactly one of number, customer_id, email, phone")
    filters: dict[str, Any] = {}
    if body.number is not None:
        filters["q"] = body.number
    elif body.customer_id is not None:
        filters["customer_ids"] = str(body.customer_id)
    elif body.email is not None:
        filters["q"] = body.email.strip()
    elif body.phone is not None:
        digits = re.sub(r"\D", "", body.phone)
        if len(digits) < 8:
            raise BadRequest("phone needs at least 8 digits")
        # The subscriber number's last 8 digits are common to every way a store writes it
        # (+54 9 11 ..., 011 15 ..., 11 ...); the caller filters exact matches.
        filters["q"] = digits[-8:]
    p = await api.page(store_id, token, "orders", page=body.page, per_page=body.per_page, **filters)
    return _page_body(p)


@router.get("/stores/{store_id}/orders/{order_id}")
async def order(store_id: int, order_id: int, token: Token, api: Api) -> Any:
    return await api.call(store_id, token, "GET", f"orders/{order_id}")


class DraftProduct(BaseModel):
    variant_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=1000)


class DraftOrderIn(BaseModel):
    """What Tienda Nube requires on a draft order (EXTERNAL_APIS F1); the orchestrator fills it."""

    contact_name: str = Field(min_length=1, max_length=200)
    contact_lastname: str = Field(min_length=1, max_length=200)
    contact_email: str = Field(min_length=3, max_length=320)
    contact_phone: str | None = Field(default=None, max_length=40)
    payment_status: Literal["unpaid"] = "unpaid"
    products: list[DraftProduct] = Field(min_length=1, max_length=100)
    discount: str | None = Field(default=None, pattern=r"^\d{1,12}(\.\d{1,2})?$")
    discount_type: Literal["percentage", "absolute"] | None = None
    note: str | None = Field(default=None, max_length=500)


class CouponIn(BaseModel):
    code: str = Field(pattern=r"^[A-Za-z0-9]{4,40}$")  # unique, alphanumeric only (F3)
    type: Literal["percentage", "absolute"]
    value: str = Field(pattern=r"^\d{1,12}(\.\d{1,2})?$")
    max_uses: int | None = Field(default=1, ge=1)
    min_price: float | None = Field(default=None, ge=0)
    start_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    end_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    first_consumer_purchase: bool = False
    combines_with_other_discounts: bool = False


@router.post("/stores/{store_id}/draft_orders", status_code=201)
async def create_draft_order(store_id: int, body: DraftOrderIn, token: Token, api: Api) -> Any:
    """Create a draft order; Tienda Nube prices it from its live catalog and answers `checkout_url`."""
    return await api.call(
        store_id, token, "POST", "draft_orders", json=body.model_dump(exclude_none=True), retry_5xx=False
    )


@router.get("/stores/{store_id}/draft_orders/{draft_id}")
async def draft_order(store_id: int, draft_id: int, token: Token, api: Api) -> Any:
    return await api.call(store_id, token, "GET", f"draft_orders/{draft_id}")


@router.post("/stores/{store_id}/coupons", status_code=201)
async def create_coupon(store_id: int, body: CouponIn, token: Token, api: Api) -> Any:
    """Create a coupon. A duplicate code is Tienda Nube's 422 (passed on as 422)."""
    return await api.call(
        store_id, token, "POST", "coupons", json=body.model_dump(exclude_none=True), retry_5xx=False
    )


@router.get("/stores/{store_id}/customers")
async def customers(
    store_id: int,
    token: Token,
    api: Api,
    q: Annotated[str | None, Query(max_length=320)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = MAX_PER_PAGE,
) -> dict[str, Any]:
    """A page of customers, optionally searched by name, e-mail or identification."""
    p = await api.page(store_id, token, "customers", page=page, per_page=per_page, q=q)
    return {
        "items": p.items,
        "page": p.page,
        "per_page": p.per_page,
        "total": p.total,
        "next_page": p.next_page,
    }


class CustomerSearch(BaseModel):
    """In a body, not the URL, so e-mails stay out of access logs."""

    email: str = Field(min_length=3, max_length=320)


@router.post("/stores/{store_id}/customers/search")
async def search_customers(store_id: int, body: CustomerSearch, token: Token, api: Api) -> dict[str, Any]:
    """Customers whose e-mail, name or identification matches (the platform's broad `q`)."""
    p = await api.page(store_id, token, "customers", page=1, per_page=50, q=body.email.strip())
    return _page_body(p)


@router.get("/stores/{store_id}/customers/{customer_id}")
async def customer(store_id: int, customer_id: int, token: Token, api: Api) -> Any:
    return await api.call(store_id, token, "GET", f"customers/{customer_id}")


@router.get("/stores/{store_id}/checkouts")
async def checkouts(
    store_id: int,
    token: Token,
    api: Api,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = MAX_PER_PAGE,
    created_at_min: Annotated[str | None, Query(max_length=40, pattern=r"^[0-9T:+.Z-]+$")] = None,
) -> dict[str, Any]:
    """A page of abandoned checkouts (oldest first). Tienda Nube answers an empty result with a
    404 ("Error finding result with the parameters entered"): that is an empty page here."""
    try:
        p = await api.page(
            store_id, token, "checkouts", page=page, per_page=per_page, created_at_min=created_at_min
        )
    except UpstreamError as exc:
        if exc.code != "not_found":
            raise
        p = Page([], page, per_page, 0, None)
    return _page_body(p)


@router.get("/stores/{store_id}/checkouts/{checkout_id}")
async def checkout(store_id: int, checkout_id: int, token: Token, api: Api) -> Any:
    """One checkout; 404 when it no longer exists (e.g. it became an order)."""
    return await api.call(store_id, token, "GET", f"checkouts/{checkout_id}")


@router.get("/stores/{store_id}/webhooks")
async def list_webhooks(store_id: int, token: Token, api: Api) -> Any:
    return await api.call(store_id, token, "GET", "webhooks")


@router.post("/stores/{store_id}/webhooks", status_code=201)
async def create_webhook(store_id: int, body: WebhookIn, token: Token, api: Api) -> Any:
    return await api.call(store_id, token, "POST", "webhooks", json=body.model_dump())


@router.delete("/stores/{store_id}/webhooks/{webhook_id}")
async def delete_webhook(store_id: int, webhook_id: int, token: Token, api: Api) -> Any:
    return await api.call(store_id, token, "DELETE", f"webhooks/{webhook_id}")


@router.put("/stores/{store_id}/webhooks")
async def ensure_webhooks(store_id: int, body: EnsureWebhooks, token: Token, api: Api) -> dict[str, Any]:
    """Make sure each event is registered exactly once, pointing at `url` (idempotent)."""
    existing = await api.call(store_id, token, "GET", "webhooks")
    if not isinstance(existing, list):
        raise UpstreamError("Tienda Nube returned an unexpected webhooks body")
    by_event: dict[str, list[dict[str, Any]]] = {}
    for w in existing:
        by_event.setdefault(str(w.get("event")), []).append(w)
    created = updated = kept = 0
    result = []
    for event in dict.fromkeys(body.events):
        hooks = by_event.get(event, [])
        ours = [w for w in hooks if w.get("url") == body.url]
        if ours:
            kept += 1
            result.append(ours[0])
            continue
        # A hook for the event pointing elsewhere is a previous deployment's address: move it.
        stale = [w for w in hooks if _same_path(str(w.get("url")), body.url)]
        if stale:
            w = await api.call(store_id, token, "PUT", f"webhooks/{stale[0]['id']}", json={"url": body.url})
            updated += 1
        else:
            w = await api.call(store_id, token, "POST", "webhooks", json={"event": event, "url": body.url})
            created += 1
        result.append(w)
    return {"created": created, "updated": updated, "kept": kept, "webhooks": result}


def _same_path(a: str, b: str) -> bool:
    return a.split("://", 1)[-1].split("/", 1)[-1] == b.split("://", 1)[-1].split("/", 1)[-1]


def _page_body(p: Page) -> dict[str, Any]:
    return {
        "items": p.items,
        "page": p.page,
        "per_page": p.per_page,
        "total": p.total,
        "next_page": p.next_page,
    }
