"""Event jobs: old dashboard events are pruned every hour."""

from __future__ import annotations

from sqlalchemy import text

from .. import runtime
from ..jobs import names, task

# Dashboard events are for live delivery and short reconnects (Last-Event-ID), not history.
EVENTS_RETENTION = "3 days"


@task(
    names.PRUNE_EVENTS,
    queue="default",
    queueing_lock="prune_events",
    cron="17 * * * *",
    periodic_id="prune_events",
)
async def prune_events(timestamp: int) -> None:
    rt = runtime.current()
    async with rt.sessionmaker() as session, session.begin():
        await session.execute(
            text("DELETE FROM events WHERE created_at < now() - CAST(:keep AS interval)"),
            {"keep": EVENTS_RETENTION},
        )
