"""Defer a job inside the caller's transaction (procrastinate's SQL function), so a job exists
exactly when the change that asked for it committed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_DEFER = text(
    "SELECT procrastinate.procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, NULL, "
    "CAST(:args AS jsonb), NULL)::procrastinate.procrastinate_job_to_defer_v1])"
)


async def defer_in_transaction(
    session: AsyncSession, task: str, args: dict[str, Any], *, queue: str = "default", lock: str | None = None
) -> int:
    ids = (
        await session.execute(_DEFER, {"queue": queue, "task": task, "args": json.dumps(args), "lock": lock})
    ).scalar_one()
    return int(ids[0])
