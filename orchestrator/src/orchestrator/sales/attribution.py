"""Revenue attribution: which conversation produced an order (last touch wins).

On `order/created`, `order/paid`, `order/updated` and `order/cancelled` the order is read from
Tienda Nube and linked, in this order of evidence, to:
1. the Nexus checkout whose draft order it is (a confirmed draft keeps its id) → that checkout's
   source (`ai` or `staff`);
2. a Nexus coupon it used → the coupon's conversation (`recovery` for a recovery coupon, else `ai`);
   a campaign's coupon → that campaign (`campaign`, whoever used the code);
3. the same customer (phone or e-mail) sent a campaign message in the 7 days before the order →
   the latest such campaign (`campaign`). This comes before the AI window: replies to a campaign
   land in the customer's conversation and the AI answers them, so that conversation is the
   campaign's doing;
4. the same customer with a conversation the AI answered in the 7 days before the order → the
   latest such conversation (`ai`).
The row is upserted by (tenant, order id): redelivered or reordered webhooks converge.

Every order event also upserts the order's minimal facts (`customer_orders`: customer, time,
status, products) that order-based audiences filter on, from the same read of the order.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .. import order_events
from ..events.publisher import publish
from ..integrations.tiendanube.catalog import store_access
from ..integrations.tiendanube.client import TiendanubeNotFound, service_client
from ..integrations.tiendanube.mapping import money, parse_ts
from ..models import (
    AgentRun,
    Campaign,
    CampaignRecipient,
    ChatConversation,
    Checkout,
    Coupon,
    Customer,
    CustomerOrder,
    OrderAttribution,
)
from ..phones import match_keys

log = structlog.get_logger("orchestrator.sales.attribution")

WINDOW = timedelta(days=7)
# Tienda Nube stamps orders to the second: an AI answer in the same second as the order
# (microseconds later than the truncated stamp) still came before it.
STAMP_RESOLUTION = timedelta(seconds=1)
TOPICS = ("order/created", "order/paid", "order/updated", "order/cancelled")
AI_OUTCOMES = ("answered", "fallback", "handoff")


@order_events.register("revenue_attribution")
async def on_order_event(ev: order_events.OrderEvent) -> str:
    """Registered with `order_events`: the Tienda Nube webhook dispatch runs it per order event."""
    if ev.topic not in TOPICS:
        return "ignored"
    async with ev.maker() as session:
        access = await store_access(session, ev.settings.crypto, ev.tenant_id)
    if access is None:
        return "no_store"
    try:
        async with service_client(ev.settings, request_timeout=30.0) as tn:
            order = await tn.order(access.store_id, access.token, ev.order_id)
    except TiendanubeNotFound:
        return "order_gone"
    async with ev.maker() as session, session.begin():
        await store_facts(session, ev.tenant_id, order)
        return await attribute(session, ev.tenant_id, order)


def _who(order: dict[str, Any]) -> list[Any]:
    """Conditions on `Customer` naming the order's buyer (phone or e-mail); empty if unknown."""
    raw_customer = order.get("customer")
    cust: dict[str, Any] = raw_customer if isinstance(raw_customer, dict) else {}
    emails = {str(e).strip().lower() for e in (order.get("contact_email"), cust.get("email")) if e}
    phones = match_keys(order.get("contact_phone"), cust.get("phone"), order.get("billing_phone"))
    who: list[Any] = []
    if emails:
        who.append(func.lower(Customer.email).in_(emails))
    if phones:
        who.append(Customer.phone_number.in_(phones))
    return who


async def store_facts(session: AsyncSession, tenant_id: uuid.UUID, order: dict[str, Any]) -> None:
    """Upsert the order's minimal facts for audiences (see models.customer_order)."""
    who = _who(order)
    customer_id = None
    if who:
        customer_id = await session.scalar(
            select(Customer.id)
            .where(Customer.tenant_id == tenant_id, or_(*who))
            .order_by(Customer.created_at)
            .limit(1)
        )
    product_ids: list[int] = []
    for line in order.get("products") or []:
        if isinstance(line, dict):
            with contextlib.suppress(TypeError, ValueError):
                pid = int(line.get("product_id"))  # type: ignore[arg-type]
                if pid not in product_ids:
                    product_ids.append(pid)
    values = {
        "tenant_id": tenant_id,
        "order_id": int(order["id"]),
        "customer_id": customer_id,
        "status": str(order.get("status") or "")[:30] or None,
        "payment_status": str(order.get("payment_status") or "")[:30] or None,
        "total": money(order.get("total")),
        "currency": str(order.get("currency") or "")[:3] or None,
        "product_ids": product_ids,
        "ordered_at": parse_ts(order.get("created_at")) or datetime.now(UTC),
    }
    update = {k: v for k, v in values.items() if k not in ("tenant_id", "order_id")}
    update["updated_at"] = func.now()
    await session.execute(
        insert(CustomerOrder)
        .values(**values)
        .on_conflict_do_update(constraint="uq_customer_orders_tenant_id_order_id", set_=update)
    )


async def attribute(session: AsyncSession, tenant_id: uuid.UUID, order: dict[str, Any]) -> str:
    order_id = int(order["id"])
    ordered_at = parse_ts(order.get("created_at")) or datetime.now(UTC)
    match = await _match(session, tenant_id, order, ordered_at)
    if match is None:
        return "unattributed"
    conversation_id, source, matched_by, campaign_id = match
    values = {
        "tenant_id": tenant_id,
        "order_id": order_id,
        "order_number": str(order.get("number") or "")[:20] or None,
        "conversation_id": conversation_id,
        "campaign_id": campaign_id,
        "source": source,
        "matched_by": matched_by,
        "total": money(order.get("total")) or Decimal("0"),
        "currency": str(order.get("currency") or "")[:3] or None,
        "payment_status": str(order.get("payment_status") or "")[:30] or None,
        "ordered_at": ordered_at,
        "paid_at": parse_ts(order.get("paid_at")),
    }
    if str(order.get("status")) == "cancelled":
        values["payment_status"] = "cancelled"
    update = {k: v for k, v in values.items() if k not in ("tenant_id", "order_id")}
    update["updated_at"] = func.now()
    await session.execute(
        insert(OrderAttribution)
        .values(**values)
        .on_conflict_do_update(constraint="uq_order_attributions_tenant_id_order_id", set_=update)
    )
    if conversation_id is not None:  # a campaign coupon used by someone who never wrote has none
        await publish(
            session,
            tenant_id,
            "order.attributed",
            {
                "conversation_id": str(conversation_id),
                "order_id": order_id,
                "number": values["order_number"],
                "total": str(values["total"]),
                "currency": values["currency"],
                "payment_status": values["payment_status"],
                "source": source,
                "campaign_id": None if campaign_id is None else str(campaign_id),
            },
        )
    log.info("sales.order_attributed", order_id=order_id, source=source, matched_by=matched_by)
    return f"attributed:{matched_by}"


Match = tuple[uuid.UUID | None, str, str, uuid.UUID | None]  # conversation, source, matched_by, campaign


async def _match(
    session: AsyncSession, tenant_id: uuid.UUID, order: dict[str, Any], ordered_at: datetime
) -> Match | None:
    checkout = await session.scalar(
        select(Checkout).where(Checkout.tenant_id == tenant_id, Checkout.draft_order_id == int(order["id"]))
    )
    if checkout is not None:
        return checkout.conversation_id, checkout.source, "draft_order", None
    codes = [str(c.get("code")) for c in (order.get("coupon") or []) if isinstance(c, dict) and c.get("code")]
    if codes:
        coupon = await session.scalar(
            select(Coupon)
            .where(Coupon.tenant_id == tenant_id, Coupon.code.in_(codes))
            .order_by(Coupon.created_at.desc())
            .limit(1)
        )
        if coupon is not None:
            source = "recovery" if coupon.reason == "on_recovery" else "ai"
            return coupon.conversation_id, source, "coupon", None
    who = _who(order)
    if codes:
        campaign_id = await session.scalar(
            select(Campaign.id)
            .where(Campaign.tenant_id == tenant_id, Campaign.coupon["code"].astext.in_(codes))
            .order_by(Campaign.created_at.desc())
            .limit(1)
        )
        if campaign_id is not None:
            conv = await _buyer_conversation(session, tenant_id, who)
            return conv, "campaign", "campaign_coupon", campaign_id
    if not who:
        return None
    sent = (
        await session.execute(
            select(CampaignRecipient.campaign_id, CampaignRecipient.customer_id)
            .join(Customer, Customer.id == CampaignRecipient.customer_id)
            .where(
                CampaignRecipient.tenant_id == tenant_id,
                Customer.tenant_id == tenant_id,
                or_(*who),
                CampaignRecipient.sent_at < ordered_at + STAMP_RESOLUTION,
                CampaignRecipient.sent_at > ordered_at - WINDOW,
            )
            .order_by(CampaignRecipient.sent_at.desc())
            .limit(1)
        )
    ).first()
    if sent is not None:
        conv = await session.scalar(
            select(ChatConversation.id)
            .where(
                ChatConversation.tenant_id == tenant_id,
                ChatConversation.customer_id == sent.customer_id,
                ChatConversation.channel == "whatsapp",
            )
            .order_by(ChatConversation.created_at.desc())
            .limit(1)
        )
        return conv, "campaign", "campaign_window", sent.campaign_id
    conv_id = await session.scalar(
        select(ChatConversation.id)
        .join(Customer, Customer.id == ChatConversation.customer_id)
        .join(AgentRun, AgentRun.conversation_id == ChatConversation.id)
        .where(
            ChatConversation.tenant_id == tenant_id,
            Customer.tenant_id == tenant_id,
            or_(*who),
            AgentRun.outcome.in_(AI_OUTCOMES),
            and_(
                AgentRun.created_at < ordered_at + STAMP_RESOLUTION,
                AgentRun.created_at > ordered_at - WINDOW,
            ),
        )
        .order_by(AgentRun.created_at.desc())
        .limit(1)
    )
    return (conv_id, "ai", "customer_window", None) if conv_id is not None else None


async def _buyer_conversation(
    session: AsyncSession, tenant_id: uuid.UUID, who: list[Any]
) -> uuid.UUID | None:
    if not who:
        return None
    return await session.scalar(
        select(ChatConversation.id)
        .join(Customer, Customer.id == ChatConversation.customer_id)
        .where(ChatConversation.tenant_id == tenant_id, Customer.tenant_id == tenant_id, or_(*who))
        .order_by(ChatConversation.last_message_at.desc().nulls_last())
        .limit(1)
    )


# ----- analytics -----
PAID = ("paid",)


async def revenue(
    session: AsyncSession, tenant_id: uuid.UUID, start: datetime, end: datetime
) -> dict[str, Any]:
    """Attributed revenue of paid orders in [start, end): totals, by source and by day."""
    base = and_(
        OrderAttribution.tenant_id == tenant_id,
        OrderAttribution.ordered_at >= start,
        OrderAttribution.ordered_at < end,
        OrderAttribution.payment_status.in_(PAID),
    )
    rows = (
        await session.execute(
            select(
                OrderAttribution.source,
                func.count(),
                func.coalesce(func.sum(OrderAttribution.total), 0),
                func.count(func.distinct(OrderAttribution.conversation_id)),
            )
            .where(base)
            .group_by(OrderAttribution.source)
        )
    ).all()
    by_source = {s: {"revenue": Decimal("0"), "orders": 0} for s in ("ai", "staff", "recovery", "campaign")}
    orders = 0
    total = Decimal("0")
    converted = 0
    for source, count, amount, convs in rows:
        by_source[source] = {"revenue": Decimal(amount), "orders": int(count)}
        orders += int(count)
        total += Decimal(amount)
        converted += int(convs)
    day = func.date_trunc("day", OrderAttribution.ordered_at)
    days = (
        await session.execute(
            select(day, func.count(), func.coalesce(func.sum(OrderAttribution.total), 0))
            .where(base)
            .group_by(day)
            .order_by(day)
        )
    ).all()
    conversations = await session.scalar(
        select(func.count(func.distinct(AgentRun.conversation_id))).where(
            AgentRun.tenant_id == tenant_id,
            AgentRun.created_at >= start,
            AgentRun.created_at < end,
            AgentRun.outcome.in_(AI_OUTCOMES),
        )
    )
    currency = await session.scalar(
        select(OrderAttribution.currency).where(base).order_by(OrderAttribution.ordered_at.desc()).limit(1)
    )
    return {
        "currency": currency,
        "revenue": total,
        "orders": orders,
        "conversion_rate": round(converted / conversations, 4) if conversations else 0.0,
        "average_order_value": (total / orders).quantize(Decimal("0.01")) if orders else Decimal("0"),
        "by_source": by_source,
        "by_day": [
            {
                "day": (d.date() if isinstance(d, datetime) else d).isoformat(),
                "revenue": Decimal(a),
                "orders": int(c),
            }
            for d, c, a in days
        ],
    }


async def conversation_orders(session: AsyncSession, conv: ChatConversation) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(
            select(OrderAttribution)
            .where(OrderAttribution.tenant_id == conv.tenant_id, OrderAttribution.conversation_id == conv.id)
            .order_by(OrderAttribution.ordered_at.desc())
            .limit(20)
        )
    ).all()
    return [
        {
            "order_id": r.order_id,
            "number": r.order_number,
            "total": r.total,
            "currency": r.currency,
            "payment_status": r.payment_status,
            "source": r.source,
            "matched_by": r.matched_by,
            "ordered_at": r.ordered_at,
        }
        for r in rows
    ]


def default_range(frm: date | None, to: date | None) -> tuple[datetime, datetime]:
    end_day = to or datetime.now(UTC).date()
    start_day = frm or end_day - timedelta(days=29)
    start = datetime(start_day.year, start_day.month, start_day.day, tzinfo=UTC)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=UTC) + timedelta(days=1)
    return start, end
