"""What campaigns need from "Reaching out" (issue 12): consent and approved templates.

Every campaign read of consent or templates goes through this module, so the day issue 12's
services land the switch happens here and nowhere else. Consent is given as SQL expressions
(audiences and the sender's claim filter thousands of customers in one statement, never one call
per customer).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import CustomerConsent

CHANNEL = "whatsapp"


def _consent_is(customer_id: Any, state: str) -> ColumnElement[bool]:
    return exists(
        select(CustomerConsent.id).where(
            CustomerConsent.customer_id == customer_id,
            CustomerConsent.channel == CHANNEL,
            CustomerConsent.state == state,
        )
    )


def opted_out(customer_id: Any) -> ColumnElement[bool]:
    """True for a customer who opted out of WhatsApp messages (never in any audience)."""
    return _consent_is(customer_id, "opted_out")


def opted_in(customer_id: Any) -> ColumnElement[bool]:
    """True for a customer who opted in to WhatsApp marketing (campaigns reach only them)."""
    return _consent_is(customer_id, "opted_in")


def marketing_allowed(customer_id: Any) -> ColumnElement[bool]:
    return and_(opted_in(customer_id), ~opted_out(customer_id))


async def current_state(session: AsyncSession, customer_id: uuid.UUID) -> str | None:
    return await session.scalar(
        select(CustomerConsent.state).where(
            CustomerConsent.customer_id == customer_id, CustomerConsent.channel == CHANNEL
        )
    )


async def record(
    session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID, state: str, source: str
) -> None:
    """Store a consent decision (a CSV import's opt-in, Meta's 131050 as an opt-out)."""
    stmt = insert(CustomerConsent).values(
        tenant_id=tenant_id,
        customer_id=customer_id,
        channel=CHANNEL,
        state=state,
        source=source[:40],
        at=datetime.now(UTC),
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id", "customer_id", "channel"],
            set_={"state": stmt.excluded.state, "source": stmt.excluded.source, "at": stmt.excluded.at},
        )
    )


async def opted_out_among(session: AsyncSession, customer_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not customer_ids:
        return set()
    rows = await session.scalars(
        select(CustomerConsent.customer_id).where(
            CustomerConsent.customer_id.in_(customer_ids),
            CustomerConsent.channel == CHANNEL,
            CustomerConsent.state == "opted_out",
        )
    )
    return set(rows.all())


async def opt_in_many(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    grants: list[tuple[uuid.UUID, str]],
    *,
    keep_existing: bool,
) -> None:
    """Opt customers in (customer id, source); `keep_existing` leaves any earlier decision as is."""
    if not grants:
        return
    now = datetime.now(UTC)
    stmt = insert(CustomerConsent).values(
        [
            {
                "tenant_id": tenant_id,
                "customer_id": cid,
                "channel": CHANNEL,
                "state": "opted_in",
                "source": source[:40],
                "at": now,
            }
            for cid, source in grants
        ]
    )
    index = ["tenant_id", "customer_id", "channel"]
    if keep_existing:
        await session.execute(stmt.on_conflict_do_nothing(index_elements=index))
    else:
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=index,
                set_={"state": stmt.excluded.state, "source": stmt.excluded.source, "at": stmt.excluded.at},
            )
        )


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    language: str
    category: str
    status: str
    parameters: int | None  # body variables ({{1}}, {{2}}, …); None when unknown


async def approved_template(
    session: AsyncSession, tenant_id: uuid.UUID, name: str, language: str
) -> TemplateInfo | None:
    """The approved template of that name and language, or None.

    Interim until issue 12's template store lands: any name is taken as approved with an unknown
    parameter count (Meta answers 132000/132001 for a wrong one, and the campaign records it)."""
    del session, tenant_id
    return TemplateInfo(
        name=name, language=language, category="MARKETING", status="APPROVED", parameters=None
    )
