"""The one way to queue a job: inside the caller's SQLAlchemy transaction.

Every job in the project is deferred in the transaction of the write that causes it.

A webhook's raw event and the job that processes it commit together (or not at all), and so do a
turn's outbox rows and their send job. procrastinate's own `defer` uses its psycopg pool, i.e.
another transaction; so we insert into its (pinned) jobs table directly: its triggers still fire
(NOTIFY to wake workers, the job events). `ON CONFLICT DO NOTHING` turns a taken `queueing_lock`
(one pending turn/send per conversation) into a no-op instead of an error. See migration 0003.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .app import JOBS_SCHEMA

# procrastinate.nexus_defer_job: migration 0003 (pins the search_path procrastinate's triggers need).
_INSERT = text(
    f"SELECT {JOBS_SCHEMA}.nexus_defer_job(:task, :lock, :qlock, CAST(:args AS jsonb), :at, :priority)"
)


async def defer(
    session: AsyncSession,
    task: str,
    args: dict[str, Any],
    *,
    lock: str | None = None,
    queueing_lock: str | None = None,
    at: datetime | None = None,
    priority: int = 0,
) -> None:
    await session.execute(
        _INSERT,
        {
            "task": task,
            "priority": priority,
            "lock": lock,
            "qlock": queueing_lock,
            "args": json.dumps(args),
            "at": at,
        },
    )


_INSERT_MANY = text(
    f"SELECT {JOBS_SCHEMA}.nexus_defer_job(j.task, j.lock, j.qlock, j.args::jsonb, NULL, 0) "  # noqa: S608
    "FROM unnest(CAST(:tasks AS text[]), CAST(:locks AS text[]), CAST(:qlocks AS text[]), "
    "CAST(:args AS text[])) WITH ORDINALITY AS j(task, lock, qlock, args, n) ORDER BY j.n"
)


async def defer_many(session: AsyncSession, jobs: list[dict[str, Any]]) -> None:
    """Defer several immediate jobs in one round trip, in list order (their job ids follow it)."""
    if not jobs:
        return
    await session.execute(
        _INSERT_MANY,
        {
            "tasks": [j["task"] for j in jobs],
            "locks": [j.get("lock") for j in jobs],
            "qlocks": [j.get("queueing_lock") for j in jobs],
            "args": [json.dumps(j["args"]) for j in jobs],
        },
    )
