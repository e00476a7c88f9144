"""Prune old rows in small batches, each batch its own short transaction.

A batch locks only the rows it deletes and skips rows another transaction holds
(`FOR UPDATE SKIP LOCKED`), under a short `lock_timeout`: pruning never waits on, or makes wait,
the hot path. A run stops after `max_batches`; the next hourly run continues where it stopped.
A retention of 0 days keeps a table's rows forever.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings

log = structlog.get_logger("orchestrator.retention")


@dataclass(frozen=True)
class Policy:
    table: str
    column: str  # the timestamp that ages a row
    setting: str  # Settings attribute: days to keep
    only: str = "TRUE"  # rows that may go at all (never a row still being worked on)


POLICIES: tuple[Policy, ...] = (
    # Dashboard events serve live delivery and short reconnects (Last-Event-ID), not history.
    Policy("events", "created_at", "retention_events_days"),
    # Raw webhook bodies: kept for replay/debugging once handled; pending work is never pruned.
    Policy(
        "inbound_events",
        "received_at",
        "retention_inbound_events_days",
        "state IN ('done', 'ignored', 'failed')",
    ),
    Policy("audit_log", "created_at", "retention_audit_log_days"),
    Policy("agent_runs", "created_at", "retention_agent_runs_days", "outcome <> 'running'"),
    # Counted search terms and unanswered questions (customer text) behind the analytics page.
    Policy("analytics_terms", "hour", "retention_analytics_terms_days"),
    # Counters of rejected webhooks per minute.
    Policy("webhook_rejections", "minute", "retention_webhook_rejections_days"),
)

BY_TABLE = {p.table: p for p in POLICIES}


def _batch_sql(p: Policy) -> str:
    # Table and column names come from POLICIES above, never from input.
    return (
        f"WITH doomed AS (SELECT ctid FROM {p.table} "  # noqa: S608
        f"WHERE {p.column} < now() - make_interval(days => :days) AND ({p.only}) "
        f"LIMIT :batch FOR UPDATE SKIP LOCKED) "
        f"DELETE FROM {p.table} t USING doomed WHERE t.ctid = doomed.ctid"
    )


async def prune(
    maker: async_sessionmaker[AsyncSession],
    policy: Policy,
    days: int,
    *,
    batch: int,
    max_batches: int,
    lock_timeout_ms: int = 2000,
) -> int:
    """Delete `policy.table` rows older than `days`; returns how many went."""
    if days <= 0:
        return 0
    sql = text(_batch_sql(policy))
    total = 0
    for _ in range(max_batches):
        async with maker() as session, session.begin():
            await session.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
            result = await session.execute(sql, {"days": int(days), "batch": int(batch)})
        n = int(result.rowcount or 0)  # type: ignore[attr-defined]
        total += n
        if n < batch:
            break
    if total:
        log.info("retention.pruned", table=policy.table, rows=total)
    return total


async def prune_table(maker: async_sessionmaker[AsyncSession], settings: Settings, table: str) -> int:
    policy = BY_TABLE[table]
    return await prune(
        maker,
        policy,
        int(getattr(settings, policy.setting)),
        batch=settings.retention_batch_size,
        max_batches=settings.retention_max_batches,
    )
