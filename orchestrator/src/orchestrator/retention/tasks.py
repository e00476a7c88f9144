"""One hourly prune job per table (a failing table never holds the others back)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .. import runtime
from ..jobs import names, task
from . import service

TASKS: dict[str, str] = {
    "events": names.PRUNE_EVENTS,
    "inbound_events": names.PRUNE_INBOUND_EVENTS,
    "audit_log": names.PRUNE_AUDIT_LOG,
    "agent_runs": names.PRUNE_AGENT_RUNS,
    "analytics_terms": names.PRUNE_ANALYTICS_TERMS,
    "webhook_rejections": names.PRUNE_WEBHOOK_REJECTIONS,
}


def _job(table: str) -> Callable[[int], Awaitable[None]]:
    async def prune(timestamp: int) -> None:
        rt = runtime.current()
        await service.prune_table(rt.sessionmaker, rt.settings, table)

    prune.__name__ = prune.__qualname__ = f"prune_{table}"
    return prune


for _minute, _policy in enumerate(service.POLICIES):
    _id = f"prune_{_policy.table}"  # `prune_events` is what the events job always used
    # Spread over the hour from minute 17 on, so the jobs never all start together.
    task(
        TASKS[_policy.table],
        queue="default",
        queueing_lock=_id,
        cron=f"{17 + 3 * _minute} * * * *",
        periodic_id=_id,
    )(_job(_policy.table))
