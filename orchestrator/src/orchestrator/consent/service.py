"""Record and read consent. Services flush, never commit (the caller's transaction decides)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import ConsentEvent, CustomerConsent

Kind = Literal["marketing", "utility"]
State = Literal["opted_in", "opted_out"]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "opted_in" | "not_opted_out" | "opted_out" | "no_opt_in"


@dataclass(frozen=True)
class ConsentState:
    state: str  # opted_in | opted_out | unknown
    source: str | None
    at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "source": self.source, "at": self.at}


UNKNOWN = ConsentState("unknown", None, None)


async def get(
    session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID, channel: str = "whatsapp"
) -> ConsentState:
    row = await session.scalar(
        select(CustomerConsent).where(
            CustomerConsent.tenant_id == tenant_id,
            CustomerConsent.customer_id == customer_id,
            CustomerConsent.channel == channel,
        )
    )
    return ConsentState(row.state, row.source, row.at) if row is not None else UNKNOWN


def decide(state: str, kind: Kind) -> Decision:
    if state == "opted_out":
        return Decision(False, "opted_out")
    if kind == "marketing":
        return Decision(state == "opted_in", "opted_in" if state == "opted_in" else "no_opt_in")
    return Decision(True, "not_opted_out")


async def can_send(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    customer_id: uuid.UUID,
    kind: Kind,
    channel: str = "whatsapp",
) -> Decision:
    """May Nexus message this customer first? Marketing needs an opt-in; utility only needs the
    customer not to have opted out. Nothing goes to an opted-out customer."""
    return decide((await get(session, tenant_id, customer_id, channel)).state, kind)


async def record(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    customer_id: uuid.UUID,
    state: State,
    source: str,
    *,
    channel: str = "whatsapp",
    message_id: uuid.UUID | None = None,
    actor: str | None = None,
    at: datetime | None = None,
    only_if_unknown: bool = False,
) -> bool:
    """Set the customer's state (and append it to the history). `only_if_unknown`: an implicit
    source (Tienda Nube's accepts_marketing) never overrides what the customer said. Returns
    whether anything changed."""
    when = at or datetime.now(UTC)
    stmt = insert(CustomerConsent).values(
        tenant_id=tenant_id, customer_id=customer_id, channel=channel, state=state, source=source, at=when
    )
    if only_if_unknown:
        stmt = stmt.on_conflict_do_nothing(index_elements=["tenant_id", "customer_id", "channel"])
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "customer_id", "channel"],
            set_={"state": state, "source": source, "at": when, "updated_at": when},
            # An unchanged state keeps its original record (source and time of the consent).
            where=CustomerConsent.state != state,
        )
    changed = (await session.execute(stmt.returning(CustomerConsent.id))).first() is not None
    if changed:
        session.add(
            ConsentEvent(
                tenant_id=tenant_id,
                customer_id=customer_id,
                channel=channel,
                state=state,
                source=source,
                message_id=message_id,
                actor=actor,
                created_at=when,
            )
        )
        await session.flush()
    return changed


async def history(
    session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID, limit: int = 50
) -> list[dict[str, Any]]:
    rows = (
        await session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.tenant_id == tenant_id, ConsentEvent.customer_id == customer_id)
            .order_by(ConsentEvent.created_at.desc())
            .limit(limit)
        )
    ).all()
    return [
        {
            "channel": r.channel,
            "state": r.state,
            "source": r.source,
            "at": r.created_at,
            "actor": r.actor,
            "message_id": r.message_id,
        }
        for r in rows
    ]


async def panel(session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID) -> dict[str, Any]:
    """What the customer panel shows: `{whatsapp: {state, source, at}}` and the history."""
    return {
        "consent": {"whatsapp": (await get(session, tenant_id, customer_id)).as_dict()},
        "consent_history": await history(session, tenant_id, customer_id),
    }
