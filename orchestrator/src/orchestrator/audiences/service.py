"""Audiences: segments of a store's customers from what Nexus knows, as one SQL statement.

`customers_matching` turns a filter into a SELECT of (customer id, name, language, wa_id); the
preview counts and samples it, a campaign inserts its recipients from it in one statement.
Opted-out customers are excluded here, always, so no caller can forget it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from nexus_common.logging import mask_phone
from sqlalchemy import BigInteger, Select, and_, cast, exists, func, literal, literal_column, not_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import ChannelIdentity, ChatConversation, Customer, CustomerOrder, CustomerTag, Product
from . import reach
from .schemas import AudienceFilter, PreviewResponse, SampleCustomer

SAMPLE_SIZE = 10
# Orders that count for "bought" and "last order": any but cancelled or voided ones.
LIVE_ORDER = and_(
    CustomerOrder.customer_id == Customer.id,
    func.coalesce(CustomerOrder.status, "") != "cancelled",
    func.coalesce(CustomerOrder.payment_status, "").not_in(("voided", "refunded")),
)


def wa_id_expr() -> Any:
    """The customer's WhatsApp address: their phone's digits, else their WhatsApp identity."""
    identity = (
        select(ChannelIdentity.external_id)
        .where(ChannelIdentity.customer_id == Customer.id, ChannelIdentity.channel == "whatsapp")
        .order_by(ChannelIdentity.created_at)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(func.ltrim(Customer.phone_number, "+"), identity)


def customers_matching(tenant_id: uuid.UUID, flt: AudienceFilter, *, marketing: bool = False) -> Select[Any]:
    """SELECT id, name, locale, wa_id of the customers in the audience (never the opted-out ones).

    `marketing=True` (a campaign's recipients) also requires WhatsApp consent and a WhatsApp address."""
    wa_id = wa_id_expr().label("wa_id")
    conds: list[Any] = [Customer.tenant_id == tenant_id, not_(reach.opted_out(Customer.id))]
    if flt.channel == "whatsapp":
        conds.append(wa_id_expr().is_not(None))
    elif flt.channel is not None:
        conds.append(
            exists(
                select(ChannelIdentity.id).where(
                    ChannelIdentity.customer_id == Customer.id, ChannelIdentity.channel == flt.channel
                )
            )
        )
    if flt.language:
        lang = flt.language.replace("-", "_").lower()
        locale = func.lower(func.replace(Customer.locale, "-", "_"))
        conds.append(func.split_part(locale, "_", 1) == lang if len(lang) == 2 else locale == lang)
    if flt.opted_in is True:
        conds.append(reach.opted_in(Customer.id))
    elif flt.opted_in is False:
        conds.append(not_(reach.opted_in(Customer.id)))
    if flt.active_within_days is not None:
        since = datetime.now(UTC) - timedelta(days=flt.active_within_days)
        conds.append(
            exists(
                select(ChatConversation.id).where(
                    ChatConversation.customer_id == Customer.id, ChatConversation.last_inbound_at >= since
                )
            )
        )
    if flt.tags:
        tags = sorted({t.strip().lower() for t in flt.tags if t.strip()})
        conds.append(
            exists(
                select(CustomerTag.id).where(
                    CustomerTag.customer_id == Customer.id, CustomerTag.tag.in_(tags)
                )
            )
        )
    conds.extend(_order_conditions(flt))
    if flt.customer_ids is not None:
        conds.append(Customer.id.in_(flt.customer_ids))
    if marketing:
        conds.append(reach.marketing_allowed(Customer.id))
        conds.append(wa_id_expr().is_not(None))
    return select(Customer.id, Customer.name, Customer.locale, wa_id).where(and_(*conds))


def _order_conditions(flt: AudienceFilter) -> list[Any]:
    """Filters on the customer's orders, from the order facts Nexus keeps (`customer_orders`,
    written by every Tienda Nube order webhook). A customer with no order has no last order: the
    before/after filters leave them out."""
    conds: list[Any] = []
    if flt.bought_product_ids:
        ids = cast(sorted(set(flt.bought_product_ids)), ARRAY(BigInteger))
        conds.append(
            exists(select(CustomerOrder.id).where(LIVE_ORDER, CustomerOrder.product_ids.overlap(ids)))
        )
    if flt.bought_categories:
        names = sorted({c.strip().lower() for c in flt.bought_categories if c.strip()})
        conds.append(
            exists(
                select(CustomerOrder.id)
                .join(
                    Product,
                    and_(
                        Product.tenant_id == CustomerOrder.tenant_id,
                        Product.external_id == func.any(CustomerOrder.product_ids),
                    ),
                )
                .where(
                    LIVE_ORDER,
                    exists(
                        select(literal(1))
                        .select_from(
                            func.unnest(Product.categories).table_valued("name").render_derived(name="cat")
                        )
                        .where(func.lower(literal_column("cat.name")).in_(names))
                    ),
                )
            )
        )
    if flt.last_order_before is not None or flt.last_order_after is not None:
        last = select(func.max(CustomerOrder.ordered_at)).where(LIVE_ORDER).scalar_subquery()
        if flt.last_order_before is not None:
            conds.append(last < _aware(flt.last_order_before))
        if flt.last_order_after is not None:
            conds.append(last > _aware(flt.last_order_after))
    return conds


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def preview(session: AsyncSession, tenant_id: uuid.UUID, flt: AudienceFilter) -> PreviewResponse:
    query = customers_matching(tenant_id, flt)
    sub = query.subquery()
    count = await session.scalar(select(func.count()).select_from(sub)) or 0
    rows = (
        await session.execute(query.order_by(Customer.created_at.desc(), Customer.id).limit(SAMPLE_SIZE))
    ).all()
    return PreviewResponse(
        count=count,
        sample=[
            SampleCustomer(
                id=r.id, name=r.name, phone=mask_phone("+" + r.wa_id) if r.wa_id else None, language=r.locale
            )
            for r in rows
        ],
    )
