"""Retention: every prune job runs through a real worker against real Postgres, deletes only what
is older than its table's setting, in bounded batches, and never waits on a row someone holds."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI

from tests.conftest import REPO

# table -> (setting, SQL inserting one row aged `%(age)s` days; %(t)s tenant, %(c)s conversation)
ROWS: dict[str, str] = {
    "events": "INSERT INTO events (tenant_id, type, data, created_at) "
    "VALUES (%(t)s, 'message.created', '{}', now() - %(age)s * interval '1 day')",
    "inbound_events": "INSERT INTO inbound_events (source, body_sha256, payload, state, received_at) "
    "VALUES ('whatsapp', md5(random()::text) || md5(random()::text), '{}', %(state)s, "
    "now() - %(age)s * interval '1 day')",
    "audit_log": "INSERT INTO audit_log (tenant_id, actor, action, created_at) "
    "VALUES (%(t)s, 'system', 'test.row', now() - %(age)s * interval '1 day')",
    "agent_runs": "INSERT INTO agent_runs (tenant_id, conversation_id, outcome, created_at) "
    "VALUES (%(t)s, %(c)s, %(state)s, now() - %(age)s * interval '1 day')",
    "analytics_terms": "INSERT INTO analytics_terms (tenant_id, kind, hour, term, count) "
    "VALUES (%(t)s, 'search', date_trunc('hour', now() - %(age)s * interval '1 day'), "
    "md5(random()::text), 1)",
    "webhook_rejections": "INSERT INTO webhook_rejections (source, reason, minute, count) "
    "VALUES ('whatsapp', md5(random()::text), now() - %(age)s * interval '1 day', 1)",
}
# A state that is never pruned however old (work still in progress), per table that has one.
IN_PROGRESS = {"inbound_events": "pending", "agent_runs": "running"}
DONE = {"inbound_events": "done", "agent_runs": "answered"}
KEEP_DAYS = {
    "events": 3,
    "inbound_events": 30,
    "audit_log": 365,
    "agent_runs": 90,
    "analytics_terms": 400,
    "webhook_rejections": 30,
}


@pytest.fixture
async def app(env: dict[str, str]) -> AsyncIterator[FastAPI]:
    from orchestrator.app import create_app
    from orchestrator.config import Settings

    settings = Settings(
        **{k.lower(): v for k, v in env.items()},
        nexus_worker_poll_seconds=0.1,
        retention_batch_size=2,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def seed(dsn: str) -> tuple[uuid.UUID, uuid.UUID]:
    with psycopg.connect(dsn) as conn:
        t = conn.execute("INSERT INTO tenants (name) VALUES ('R') RETURNING id").fetchone()[0]  # type: ignore[index]
        ch = conn.execute(
            "INSERT INTO channel_accounts (tenant_id, channel, external_id) VALUES (%s, 'whatsapp', '1') "
            "RETURNING id",
            (t,),
        ).fetchone()[0]  # type: ignore[index]
        cu = conn.execute(
            "INSERT INTO customers (tenant_id, phone_number) VALUES (%s, '+5491100000000') RETURNING id", (t,)
        ).fetchone()[0]  # type: ignore[index]
        c = conn.execute(
            "INSERT INTO chat_conversations (tenant_id, customer_id, channel, channel_account_id) "
            "VALUES (%s, %s, 'whatsapp', %s) RETURNING id",
            (t, cu, ch),
        ).fetchone()[0]  # type: ignore[index]
    return t, c


def insert(dsn: str, table: str, n: int, age: float, state: str | None = None, **ids: Any) -> None:
    with psycopg.connect(dsn) as conn:
        for _ in range(n):
            conn.execute(ROWS[table], {"age": age, "state": state or DONE.get(table), **ids})  # type: ignore[arg-type]


def count(dsn: str, sql: str) -> int:
    with psycopg.connect(dsn) as conn:
        return int(conn.execute(sql).fetchone()[0])  # type: ignore[index]


async def run_job(app: FastAPI, dsn: str, task: str) -> str:
    """Defer `task` the way the periodic deferrer does, wait for the worker, return its status."""
    from orchestrator.jobs import defer

    async with app.state.sessionmaker() as s, s.begin():
        await defer(s, task, {"timestamp": 0})
    for _ in range(300):
        status = count(
            dsn,
            f"SELECT count(*) FILTER (WHERE status IN ('todo', 'doing')) * 10 "  # noqa: S608
            f"+ count(*) FILTER (WHERE status = 'failed') FROM procrastinate.procrastinate_jobs "
            f"WHERE task_name = '{task}'",
        )
        if status == 0:
            return "succeeded"
        if status == 1:
            return "failed"
        await asyncio.sleep(0.1)
    raise AssertionError(f"{task} did not finish")


@pytest.mark.parametrize("table", list(ROWS))
async def test_each_prune_job_deletes_only_rows_past_its_retention(
    app: FastAPI, env: dict[str, str], table: str
) -> None:

    dsn = env["POSTGRES_DSN"]
    t, c = seed(dsn)
    keep = KEEP_DAYS[table]
    insert(dsn, table, 5, keep + 1, t=t, c=c)  # past retention: 3 batches of 2
    insert(dsn, table, 3, keep - 0.5, t=t, c=c)  # inside retention
    if table in IN_PROGRESS:
        insert(dsn, table, 2, keep + 10, state=IN_PROGRESS[table], t=t, c=c)

    from orchestrator.retention.tasks import TASKS

    assert await run_job(app, dsn, TASKS[table]) == "succeeded"

    left = count(dsn, f"SELECT count(*) FROM {table}")  # noqa: S608
    assert left == 3 + (2 if table in IN_PROGRESS else 0)
    old_left = count(
        dsn,
        f"SELECT count(*) FROM {table} WHERE "  # noqa: S608
        + {"inbound_events": "received_at", "analytics_terms": "hour", "webhook_rejections": "minute"}.get(
            table, "created_at"
        )
        + f" < now() - interval '{keep} days'",
    )
    assert old_left == (2 if table in IN_PROGRESS else 0)


async def test_a_run_is_bounded_and_skips_rows_another_transaction_holds(
    migrated_engine: Any, env: dict[str, str]
) -> None:
    from orchestrator.retention import service
    from sqlalchemy.ext.asyncio import async_sessionmaker

    dsn = env["POSTGRES_DSN"]
    t, _ = seed(dsn)
    insert(dsn, "events", 7, 10, t=t)
    maker = async_sessionmaker(migrated_engine)
    policy = service.BY_TABLE["events"]

    assert await service.prune(maker, policy, 3, batch=2, max_batches=2) == 4
    assert count(dsn, "SELECT count(*) FROM events") == 3

    # A hot-path transaction holds one old row: pruning neither waits for it nor deletes it.
    with psycopg.connect(dsn) as holder:
        held = holder.execute("SELECT id FROM events ORDER BY id LIMIT 1 FOR UPDATE").fetchone()[0]  # type: ignore[index]
        gone = await asyncio.wait_for(service.prune(maker, policy, 3, batch=2, max_batches=10), 10)
        assert gone == 2
        holder.rollback()
    assert count(dsn, "SELECT count(*) FROM events") == 1
    assert count(dsn, f"SELECT count(*) FROM events WHERE id = {int(held)}") == 1  # noqa: S608

    # 0 days = keep forever.
    assert await service.prune(maker, policy, 0, batch=2, max_batches=10) == 0
    assert count(dsn, "SELECT count(*) FROM events") == 1


def test_every_growing_table_has_a_retention_setting() -> None:
    from orchestrator.config import Settings
    from orchestrator.retention.service import POLICIES

    assert {p.table for p in POLICIES} == set(ROWS)
    for p in POLICIES:
        assert p.setting in Settings.model_fields, p
    assert (REPO / "README.md").read_text().count("RETENTION_") >= len(POLICIES)
