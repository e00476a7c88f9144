"""Audiences: segments of a store's customers from what Nexus knows, as one SQL statement.

`customers_matching` turns a filter into a SELECT of (customer id, name, language, wa_id); the
preview counts and samples it, a campaign inserts its recipients from it in one statement.
Opted-out customers are excluded here, always, so no caller can forget it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from nexus_common.errors import NexusError
from nexus_common.logging import mask_phone
from sqlalchemy import Select, and_, exists, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import ChannelIdentity, ChatConversation, Customer, CustomerTag
from . import reach
from .schemas import AudienceFilter, PreviewResponse, SampleCustomer

SAMPLE_SIZE = 10
ORDER_KEYS = ("bought_product_ids", "last_order_before", "last_order_after")


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
    if any(getattr(flt, k) is not None for k in ORDER_KEYS):
        # Nexus keeps no order history of its own yet (orders are read live from Tienda Nube).
        raise NexusError(
            "filters on orders need the store's order history, which Nexus does not keep yet",
            code="order_filters_unavailable",
            status_code=422,
            details={"keys": [k for k in ORDER_KEYS if getattr(flt, k) is not None]},
        )
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
    if flt.customer_ids is not None:
        conds.append(Customer.id.in_(flt.customer_ids))
    if marketing:
        conds.append(reach.marketing_allowed(Customer.id))
        conds.append(wa_id_expr().is_not(None))
    return select(Customer.id, Customer.name, Customer.locale, wa_id).where(and_(*conds))


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
