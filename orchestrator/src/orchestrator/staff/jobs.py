"""Defer a job inside the caller's transaction (procrastinate's SQL function), so a job exists
exactly when the change that asked for it committed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..jobs import JOBS_SCHEMA

_DEFER = text(
    "SELECT procrastinate.procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, NULL, "
    "CAST(:args AS jsonb), NULL)::procrastinate.procrastinate_job_to_defer_v1])"
)


async def defer_in_transaction(
    session: AsyncSession, task: str, args: dict[str, Any], *, queue: str = "default", lock: str | None = None
) -> int:
    # procrastinate's functions name their tables unqualified: put its schema on the path for
    # this call only (transaction-local), then restore the caller's path.
    previous = (await session.execute(text("SELECT current_setting('search_path')"))).scalar_one()
    await session.execute(
        text("SELECT set_config('search_path', :p, true)"), {"p": f"{JOBS_SCHEMA}, {previous}"}
    )
    try:
        ids = (
            await session.execute(
                _DEFER, {"queue": queue, "task": task, "args": json.dumps(args), "lock": lock}
            )
        ).scalar_one()
    finally:
        await session.execute(text("SELECT set_config('search_path', :p, true)"), {"p": previous})
    return int(ids[0])
