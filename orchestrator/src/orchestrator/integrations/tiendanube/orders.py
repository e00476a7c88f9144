"""The customer's orders, for the agent's order tool: only orders that are provably theirs.

An order belongs to the customer writing when its contact (or customer) phone matches one of the
customer's phones (normalised to E.164, WhatsApp digit variants folded) or its e-mail matches the
customer's e-mail. An order number alone proves nothing: a number that is not theirs answers as
if it did not exist. Lookups are cached in Redis for two minutes; any order webhook of the store
invalidates them (a per-tenant generation counter).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ... import runtime
from ...models import ChannelIdentity, Customer, Tenant
from ...phones import match_keys
from . import catalog
from .client import service_client
from .mapping import money, parse_ts

log = structlog.get_logger("orchestrator.tiendanube.orders")

CACHE_TTL_S = 120
MAX_ORDERS = 10
SHIPPING_STATUS = {
    "unshipped": "unshipped",
    "unfulfilled": "unshipped",
    "unpacked": "unpacked",
    "packed": "packed",
    "shipped": "shipped",
    "fulfilled": "shipped",
    "delivered": "delivered",
}


class OrderItem(BaseModel):
    name: str
    quantity: int
    price: Decimal | None = None
    sku: str | None = None


class OrderSummary(BaseModel):
    number: str
    status: str
    payment_status: str
    shipping_status: str
    tracking_number: str | None = None
    tracking_url: str | None = None
    items: list[OrderItem]
    total: Decimal | None = None
    currency: str | None = None
    created_at: datetime | None = None


def summarize(raw: dict[str, Any]) -> OrderSummary:
    items = []
    for line in raw.get("products") or []:
        if not isinstance(line, dict):
            continue
        try:
            qty = int(float(str(line.get("quantity") or 1)))  # "quantity" is sometimes a string
        except ValueError:
            qty = 1
        items.append(
            OrderItem(
                name=str(line.get("name") or ""),
                quantity=qty,
                price=money(line.get("price")),
                sku=line.get("sku"),
            )
        )
    shipping = str(raw.get("shipping_status") or "unknown")
    return OrderSummary(
        number=str(raw.get("number")),
        status=str(raw.get("status") or "unknown"),
        payment_status=str(raw.get("payment_status") or "unknown"),
        shipping_status=SHIPPING_STATUS.get(shipping, shipping),
        tracking_number=raw.get("shipping_tracking_number"),
        tracking_url=raw.get("shipping_tracking_url"),
        items=items,
        total=money(raw.get("total")),
        currency=raw.get("currency"),
        created_at=parse_ts(raw.get("created_at")),
    )


def belongs_to(raw: dict[str, Any], phone_keys: set[str], email: str | None, region: str) -> bool:
    cust: dict[str, Any] = found if isinstance(found := raw.get("customer"), dict) else {}
    if email:
        emails = {str(e).strip().lower() for e in (raw.get("contact_email"), cust.get("email")) if e}
        if email in emails:
            return True
    if phone_keys:
        keys = match_keys(raw.get("contact_phone"), cust.get("phone"), default_region=region)
        if keys & phone_keys:
            return True
    return False


async def find_customer_orders(
    session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID, order_number: str | None = None
) -> list[OrderSummary]:
    """The customer's orders (newest first, at most 10), or the one with `order_number` if it is theirs.

    Raises TiendanubeError when the store cannot be reached (the agent says it cannot check now).
    """
    rt = runtime.current()
    customer = await session.scalar(
        select(Customer).where(Customer.id == customer_id, Customer.tenant_id == tenant_id)
    )
    if customer is None:
        return []
    access = await catalog.store_access(session, rt.settings.crypto, tenant_id)
    if access is None:
        return []
    tenant_settings = await _tenant_region(session, tenant_id)
    wa_ids = (
        await session.scalars(
            select(ChannelIdentity.external_id).where(
                ChannelIdentity.customer_id == customer_id, ChannelIdentity.channel == "whatsapp"
            )
        )
    ).all()
    phone_keys = match_keys(customer.phone_number, *wa_ids, default_region=tenant_settings)
    email = customer.email.strip().lower() if customer.email and "@" in customer.email else None
    if not phone_keys and not email:
        return []  # nothing to prove who they are
    number = order_number.strip().lstrip("#") if order_number else None
    if number is not None and not number.isdigit():
        return []

    if number is None and (cached := await _cache_get(tenant_id, customer_id)) is not None:
        return cached

    queries: list[dict[str, Any]] = []
    if number is not None:
        queries.append({"number": number})
    else:
        # The E.164 spelling is what stores most often keep; the service searches by its last digits.
        queries += [{"phone": k} for k in sorted(phone_keys)]
        if email:
            queries.append({"email": email})
    found: dict[Any, dict[str, Any]] = {}
    async with service_client(rt.settings, request_timeout=30.0) as client:
        for q in queries:
            for raw in await client.search_orders(access.store_id, access.token, **q):
                if isinstance(raw, dict) and belongs_to(raw, phone_keys, email, tenant_settings):
                    if number is None or str(raw.get("number")) == number:
                        found[raw.get("id")] = raw
    summaries = sorted(
        (summarize(r) for r in found.values()),
        key=lambda o: o.created_at.timestamp() if o.created_at else 0.0,
        reverse=True,
    )[:MAX_ORDERS]
    if number is None:
        await _cache_put(tenant_id, customer_id, summaries)
    log.info("orders.lookup", tenant_id=str(tenant_id), by_number=number is not None, found=len(summaries))
    return summaries


async def _tenant_region(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    settings = await session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    return str((settings.get("tiendanube") or {}).get("country") or "AR")


# ----- cache (Redis accelerates; never required) -----
def _key(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> str:
    return f"nexus:tn:orders:{tenant_id}:{customer_id}"


def _gen_key(tenant_id: uuid.UUID) -> str:
    return f"nexus:tn:ordersgen:{tenant_id}"


def _redis() -> Any:
    try:
        return runtime.current().redis
    except RuntimeError:
        return None


async def _cache_get(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> list[OrderSummary] | None:
    redis = _redis()
    if redis is None:
        return None
    try:
        raw, gen = await redis.mget(_key(tenant_id, customer_id), _gen_key(tenant_id))
    except Exception:  # noqa: BLE001 - Redis down: ask Tienda Nube
        return None
    if not raw:
        return None
    data = json.loads(raw)
    if str(data.get("gen")) != str(int(gen or 0)):
        return None
    return [OrderSummary.model_validate(o) for o in data["orders"]]


async def _cache_put(tenant_id: uuid.UUID, customer_id: uuid.UUID, orders: list[OrderSummary]) -> None:
    redis = _redis()
    if redis is None:
        return
    try:
        gen = int(await redis.get(_gen_key(tenant_id)) or 0)
        body = json.dumps({"gen": gen, "orders": [o.model_dump(mode="json") for o in orders]})
        await redis.set(_key(tenant_id, customer_id), body, ex=CACHE_TTL_S)
    except Exception as exc:  # noqa: BLE001
        log.warning("orders.cache_failed", error=type(exc).__name__)


async def invalidate_tenant_cache(tenant_id: uuid.UUID) -> None:
    redis = _redis()
    if redis is None:
        return
    try:
        await redis.incr(_gen_key(tenant_id))
    except Exception as exc:  # noqa: BLE001
        log.warning("orders.cache_failed", error=type(exc).__name__)


async def forget_customer(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> None:
    """Privacy erasure: drop the customer's cached orders."""
    redis = _redis()
    if redis is None:
        return
    try:
        await redis.delete(_key(tenant_id, customer_id))
    except Exception as exc:  # noqa: BLE001
        log.warning("orders.cache_failed", error=type(exc).__name__)
