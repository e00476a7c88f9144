"""One hourly prune job per table (a failing table never holds the others back)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from procrastinate import Blueprint

from .. import runtime
from ..jobs import BLUEPRINTS
from . import service


def _job(table: str) -> Callable[[int], Awaitable[None]]:
    async def prune(timestamp: int) -> None:
        rt = runtime.current()
        await service.prune_table(rt.sessionmaker, rt.settings, table)

    prune.__name__ = prune.__qualname__ = f"prune_{table}"
    return prune


def task_name(table: str) -> str:
    return f"prune_{table}"


def blueprint() -> Blueprint:
    """A fresh blueprint per job App (see jobs.BLUEPRINTS)."""
    bp = Blueprint()
    for minute, policy in enumerate(service.POLICIES):
        name = task_name(policy.table)
        task = bp.task(name=name, queue="default", queueing_lock=name)(_job(policy.table))
        # Spread over the hour's 17th+ minutes so the jobs never all start together.
        bp.periodic(cron=f"{17 + 3 * minute} * * * *", periodic_id=name)(task)
    return bp


BLUEPRINTS.append(("retention", blueprint))
