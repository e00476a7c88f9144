"""Job names and locks of the recovery jobs, deferred in the caller's transaction.

One poll and one sender per store at a time (`lock`), at most one of each waiting
(`queueing_lock`): a tick every minute, an admin's "poll now" and a finished poll never pile up.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import CheckoutPoll
from ..pipeline import queue

POLL_TASK = "recovery:poll_store"
SEND_DUE_TASK = "recovery:send_due"


async def defer_poll(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await queue.defer(
        session,
        POLL_TASK,
        {"tenant_id": str(tenant_id)},
        lock=f"recovery-poll:{tenant_id}",
        queueing_lock=f"recovery-pollq:{tenant_id}",
    )


async def defer_send_due(session: AsyncSession, tenant_id: uuid.UUID, at: datetime | None = None) -> None:
    await queue.defer(
        session,
        SEND_DUE_TASK,
        {"tenant_id": str(tenant_id)},
        lock=f"recovery-send:{tenant_id}",
        queueing_lock=f"recovery-sendq:{tenant_id}",
        at=at,
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
