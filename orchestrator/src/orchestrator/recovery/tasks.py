"""Recovery jobs (namespace `recovery`): a tick every minute, a store's poll, its due sends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import structlog
from procrastinate import RetryStrategy
from sqlalchemy import exists, select

from .. import runtime
from ..jobs import names, task
from ..models import AbandonedCheckout, CheckoutPoll, Tenant
from ..notifications import settings as notification_settings
from . import poller, schedule, sender

log = structlog.get_logger("orchestrator.recovery.tasks")

RETRY = RetryStrategy(max_attempts=6, exponential_wait=2)


@task(names.RECOVERY_POLL, retry=RETRY)
async def poll_store(tenant_id: str) -> int:
    rt = runtime.current()
    tid = uuid.UUID(tenant_id)
    seen = (await poller.poll_store(rt, tid)).seen
    # The first batch runs here, under the store's recovery lock this job already holds. Right
    # after a poll the store's bucket is nearly empty, and a batch handed to a new job waited
    # behind every job queued meanwhile (the sends other stores' batches queue): up to 2 s of the
    # bucket unused with 20 stores, lost for good. A batch that leaves more due queues the next.
    try:
        await sender.send_due(rt, tid)
    except Exception as exc:  # noqa: BLE001 - the rows stay pending; the minute's tick queues a batch
        log.warning("recovery.first_batch_failed", tenant_id=tenant_id, error=type(exc).__name__)
    return seen


# Not retried: a retry puts the job back to `todo` under its queueing lock, which the minute's
# tick or the batch itself may have taken meanwhile (a unique violation inside procrastinate left
# the job `doing` for good, holding the store's recovery lock). The tick defers a send again
# within a minute whenever due checkouts are pending, and a failed check leaves its row pending.
@task(names.RECOVERY_SEND_DUE)
async def send_due(tenant_id: str) -> dict[str, int]:
    return await sender.send_due(runtime.current(), uuid.UUID(tenant_id))


@task(names.RECOVERY_TICK, cron="* * * * *", queueing_lock="recovery_tick")
async def tick(timestamp: int) -> int:
    """Every minute: poll each store whose last poll is older than its interval, and send what
    became due since."""
    rt = runtime.current()
    interval = timedelta(seconds=rt.settings.nexus_checkout_poll_seconds)
    now = datetime.now(UTC)
    started = 0
    async with rt.sessionmaker() as session, session.begin():
        tenants = (
            await session.scalars(
                select(Tenant).where(Tenant.status == "active", Tenant.tiendanube_store_id.is_not(None))
            )
        ).all()
        for t in tenants:
            if not notification_settings.of(t).cart_recovery.enabled:
                continue
            last = await session.scalar(
                select(CheckoutPoll.last_started_at).where(CheckoutPoll.tenant_id == t.id)
            )
            if last is None or last < now - interval:
                await schedule.start_poll(session, t.id, now)
                started += 1
            due = await session.scalar(
                select(
                    exists().where(
                        AbandonedCheckout.tenant_id == t.id,
                        AbandonedCheckout.state == "pending",
                        AbandonedCheckout.due_at <= now,
                    )
                )
            )
            if due:
                await schedule.defer_send_due(session, t.id)
    return started
