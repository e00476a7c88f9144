"""Order-status notifications: `order/paid|packed|fulfilled|cancelled` → fetch the order → match
(or create) the customer by phone → the mapped template in the customer's language, once per order
and event (the ledger key `order:<id>:<event>`), through the outbox.

Also credits a cart recovery: an order by a customer who got a recovery message in the last 7
days marks that message as recovered, with the order's total.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .. import order_events
from ..config import Settings
from ..consent import service as consent
from ..integrations.tiendanube import catalog
from ..integrations.tiendanube.client import TiendanubeNotFound, service_client
from ..integrations.tiendanube.mapping import money
from ..models import Customer, ProactiveMessage, Tenant
from ..phones import to_e164
from . import proactive, texts
from . import settings as notification_settings

log = structlog.get_logger("orchestrator.notifications.orders")

EVENT_KINDS = {
    "order/paid": "order_paid",
    "order/packed": "order_packed",
    "order/fulfilled": "order_fulfilled",
    "order/cancelled": "order_cancelled",
}
RECOVERY_WINDOW = timedelta(days=7)
ORDERED_EVENTS = ("order/created", "order/paid")


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def order_phone(order: dict[str, Any], region: str) -> str | None:
    """contact_phone, else customer.phone, else billing_phone (F4), normalised."""
    cust = _obj(order.get("customer"))
    shipping = _obj(order.get("shipping_address"))
    for raw in (
        order.get("contact_phone"),
        cust.get("phone"),
        order.get("billing_phone"),
        shipping.get("phone"),
    ):
        if isinstance(raw, str) and (e164 := to_e164(raw, region)):
            return e164
    return None


def tracking_url(order: dict[str, Any]) -> str:
    url = order.get("shipping_tracking_url")
    if isinstance(url, str) and url.startswith("http"):
        return url
    for fo in order.get("fulfillment_orders") or []:
        info = fo.get("tracking_info") if isinstance(fo, dict) else None
        if isinstance(info, dict) and isinstance(info.get("url"), str) and info["url"].startswith("http"):
            return str(info["url"])
    return ""


def display_total(order: dict[str, Any]) -> str:
    amount = money(order.get("total"))
    return f"{order.get('currency') or ''} {amount}".strip() if amount is not None else ""


async def match_customer(
    session: AsyncSession, tenant_id: uuid.UUID, phone: str, order: dict[str, Any]
) -> Customer:
    """The store's buyer as a Nexus customer: by phone (one person across channels), created when
    new, completed with what the order knows."""
    cust = _obj(order.get("customer"))
    customer = await session.scalar(
        select(Customer)
        .where(Customer.tenant_id == tenant_id, Customer.phone_number == phone)
        .order_by(Customer.created_at)
        .limit(1)
        .with_for_update()
    )
    name = cust.get("name") or order.get("contact_name")
    email = cust.get("email") or order.get("contact_email")
    if customer is None:
        customer = Customer(tenant_id=tenant_id, phone_number=phone)
        session.add(customer)
    if not customer.name and isinstance(name, str):
        customer.name = name[:200]
    if not customer.email and isinstance(email, str) and "@" in email:
        customer.email = email[:320]
    if customer.tiendanube_customer_id is None and isinstance(cust.get("id"), int):
        customer.tiendanube_customer_id = cust["id"]
    lang = order.get("language")
    if not customer.locale and isinstance(lang, str) and lang[:2] in ("es", "pt", "en"):
        customer.locale = lang[:2]
    await session.flush()
    return customer


async def credit_recovery(
    session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID, order: dict[str, Any]
) -> bool:
    """An order within 7 days of a recovery message to the same customer: that recovery worked."""
    oid = order.get("id")
    if not isinstance(oid, int):
        return False
    latest = await session.scalar(
        select(ProactiveMessage.id)
        .where(
            ProactiveMessage.tenant_id == tenant_id,
            ProactiveMessage.customer_id == customer_id,
            ProactiveMessage.kind == "cart_recovery",
            ProactiveMessage.state == "queued",
            ProactiveMessage.created_at > datetime.now(UTC) - RECOVERY_WINDOW,
        )
        .order_by(ProactiveMessage.created_at.desc())
        .limit(1)
    )
    if latest is None:
        return False
    res = await session.execute(
        update(ProactiveMessage)
        .where(ProactiveMessage.id == latest, ProactiveMessage.recovered_order_id.is_(None))
        .values(
            recovered_order_id=oid, recovered_amount=money(order.get("total")), recovered_at=datetime.now(UTC)
        )
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


async def on_order_event(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tenant_id: uuid.UUID,
    topic: str,
    order_id: int,
) -> str:
    """The notification step of an order webhook. Returns what happened (for logs and tests)."""
    kind = EVENT_KINDS.get(topic)
    if kind is None and topic not in ORDERED_EVENTS:
        return "not_notified"
    async with maker() as session:
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            return "no_tenant"
        conf = notification_settings.of(tenant)
        event_conf = getattr(conf, kind) if kind else None
        wanted = event_conf is not None and event_conf.enabled
        key = f"order:{order_id}:{kind}"
        if wanted and await proactive.already_done(session, tenant_id, key):
            wanted = False  # a redelivery: nothing to fetch, nothing to send
        if not wanted and topic not in ORDERED_EVENTS:
            return "disabled" if event_conf is not None and not event_conf.enabled else "duplicate"
        access = await catalog.store_access(session, settings.crypto, tenant_id)
        region = str(((tenant.settings or {}).get("tiendanube") or {}).get("country") or "AR")
        store_name = tenant.name
    if access is None:
        return "store_not_connected"
    async with service_client(settings, request_timeout=60.0) as client:
        try:
            order = await client.order(access.store_id, access.token, order_id)
        except TiendanubeNotFound:
            return "order_not_found"
        marketing: bool | None = None
        cust = _obj(order.get("customer"))
        if wanted and isinstance(cust.get("id"), int):
            try:
                marketing = bool(
                    (await client.customer(access.store_id, access.token, cust["id"])).get(
                        "accepts_marketing"
                    )
                )
            except TiendanubeNotFound:
                marketing = None
    phone = order_phone(order, region)
    if phone is None:
        return "no_phone"
    async with maker() as session, session.begin():
        customer = await match_customer(session, tenant_id, phone, order)
        if marketing:
            await consent.record(
                session, tenant_id, customer.id, "opted_in", "checkout", only_if_unknown=True
            )
        credited = (
            await credit_recovery(session, tenant_id, customer.id, order)
            if topic in ORDERED_EVENTS
            else False
        )
        if not wanted or kind is None or event_conf is None:
            return "recovery_credited" if credited else "no_notification"
        language = event_conf.language or await proactive.customer_language(
            session, customer, order.get("language")
        )
        name = texts.first_name(customer.name)
        number = str(order.get("number") or order_id)
        total = display_total(order)
        url = tracking_url(order)
        result = await proactive.queue_proactive(
            session,
            proactive.Outreach(
                tenant_id=tenant_id,
                kind=kind,
                dedupe_key=key,
                customer=customer,
                consent_kind="utility",
                template=event_conf.template,
                language=language,
                variables=[name, number, total, url],
                window_text=texts.render(
                    kind, language, name=name, number=number, total=total, url=url, store=store_name
                ),
                reference=str(order_id),
                amount=money(order.get("total")),
                currency=str(order.get("currency") or "")[:3] or None,
            ),
        )
    log.info("notifications.order", tenant_id=str(tenant_id), kind=kind, result=result)
    return result


@order_events.register("notify")
async def notify_step(ev: order_events.OrderEvent) -> str:
    return await on_order_event(ev.maker, ev.settings, ev.tenant_id, ev.topic, ev.order_id)
