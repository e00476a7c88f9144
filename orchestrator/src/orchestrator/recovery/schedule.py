"""Deferring the recovery jobs, in the caller's transaction (names and locks: `jobs.names`).

One poll and one sender per store at a time (`lock`), at most one of each waiting
(`queueing_lock`): a tick every minute, an admin's "poll now" and a finished poll never pile up.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..jobs import defer, names
from ..models import CheckoutPoll


async def defer_poll(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await defer(
        session, names.RECOVERY_POLL, {"tenant_id": str(tenant_id)}, **names.recovery_poll_locks(tenant_id)
    )


async def defer_send_due(session: AsyncSession, tenant_id: uuid.UUID, at: datetime | None = None) -> None:
    await defer(
        session,
        names.RECOVERY_SEND_DUE,
        {"tenant_id": str(tenant_id)},
        at=at,
        **names.recovery_send_locks(tenant_id),
    )


async def start_poll(session: AsyncSession, tenant_id: uuid.UUID, now: datetime | None = None) -> None:
    """Claim the store's next poll (its start time) and defer it, in the caller's transaction."""
    when = now or datetime.now(UTC)
    await session.execute(
        insert(CheckoutPoll)
        .values(tenant_id=tenant_id, last_started_at=when)
        .on_conflict_do_update(
            index_elements=["tenant_id"], set_={"last_started_at": when, "updated_at": when}
        )
    )
    await defer_poll(session, tenant_id)
