"""The Postgres job queue: jobs sharing a lock run one at a time, in the order deferred."""

from __future__ import annotations

import asyncio
import contextlib
import random

from orchestrator.jobs import create_job_app
from procrastinate import Blueprint


async def test_jobs_with_one_lock_run_in_order_and_others_in_parallel(
    migrated_engine: object, env: dict[str, str]
) -> None:
    bp = Blueprint()
    seen: list[tuple[str, int]] = []
    running: dict[str, int] = {}
    overlap: list[str] = []

    @bp.task(name="record")
    async def record(conv: str, n: int) -> None:
        running[conv] = running.get(conv, 0) + 1
        if running[conv] > 1:
            overlap.append(conv)
        await asyncio.sleep(random.uniform(0, 0.02))
        seen.append((conv, n))
        running[conv] -= 1

    app = create_job_app(env["POSTGRES_DSN"])
    app.add_tasks_from(bp, namespace="t")
    async with app.open_async():
        task = app.tasks["t:record"]
        for n in range(8):
            for conv in ("a", "b"):
                await task.configure(lock=f"conv:{conv}").defer_async(conv=conv, n=n)
        worker = asyncio.create_task(
            app.run_worker_async(
                concurrency=4, wait=True, install_signal_handlers=False, fetch_job_polling_interval=0.1
            )
        )
        for _ in range(200):
            if len(seen) == 16:
                break
            await asyncio.sleep(0.05)
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    assert len(seen) == 16
    for conv in ("a", "b"):
        assert [n for c, n in seen if c == conv] == list(range(8))
    assert overlap == []


def test_every_task_keeps_its_stored_name_and_schedule() -> None:
    """Task names live in procrastinate's jobs table: a job queued before an upgrade must still
    find its task after it, so these names never change (new tasks may be added beside them)."""
    import orchestrator.tasks  # noqa: F401 - the entry points' import: registers every domain's tasks

    app = create_job_app("postgresql://nobody@127.0.0.1:1/none")
    assert {name for name in app.tasks if "procrastinate" not in name} >= {
        "pipeline:ingest",
        "pipeline:turn",
        "pipeline:send",
        "staff:send_conversation_mail",
        "staff:resume_expired_pauses",
        "staff:prune_events",
        "retention:prune_inbound_events",
        "retention:prune_audit_log",
        "retention:prune_agent_runs",
        "retention:prune_analytics_terms",
        "retention:prune_webhook_rejections",
        "auth:send_password_reset",
        "tiendanube:productsall",
        "tiendanube:process_event",
        "tiendanube:nightly_sync",
        "tiendanube:sweep",
        "templates:apply_webhook",
        "recovery:poll_store",
        "recovery:send_due",
        "recovery:tick",
    }
    periodic = {(p.task.name, p.periodic_id, p.cron) for p in app.periodic_registry.periodic_tasks.values()}
    assert periodic >= {
        ("staff:resume_expired_pauses", "resume_expired_pauses", "* * * * *"),
        ("staff:prune_events", "prune_events", "17 * * * *"),
        ("retention:prune_inbound_events", "prune_inbound_events", "20 * * * *"),
        ("retention:prune_audit_log", "prune_audit_log", "23 * * * *"),
        ("retention:prune_agent_runs", "prune_agent_runs", "26 * * * *"),
        ("retention:prune_analytics_terms", "prune_analytics_terms", "29 * * * *"),
        ("retention:prune_webhook_rejections", "prune_webhook_rejections", "32 * * * *"),
        ("tiendanube:nightly_sync", "", "17 4 * * *"),
        ("tiendanube:sweep", "", "* * * * *"),
        ("recovery:tick", "", "* * * * *"),
    }
    assert app.tasks["staff:resume_expired_pauses"].queueing_lock == "resume_expired_pauses"
    assert app.tasks["pipeline:turn"].retry_strategy is not None


async def test_a_stalled_job_whose_queueing_lock_is_taken_again_is_closed_not_left_holding_its_lock(
    migrated_engine: object, env: dict[str, str]
) -> None:
    """After a kill -9 the dead worker's job is still `doing`; if the same job was deferred again
    meanwhile (its queueing lock taken), it cannot go back to `todo`: it must be closed, or it
    holds its lock, and the job waiting behind it, forever."""
    import psycopg
    from orchestrator.pipeline.maintenance import retry_stalled_jobs

    bp = Blueprint()

    @bp.task(name="drain")
    async def drain(key: str) -> None:
        return None

    app = create_job_app(env["POSTGRES_DSN"])
    app.add_tasks_from(bp, namespace="t")
    async with app.open_async():
        task = app.tasks["t:drain"]
        first = await task.configure(lock="send:x", queueing_lock="sendq:x").defer_async(key="x")
        dsn = env["POSTGRES_DSN"]
        with psycopg.connect(
            dsn, autocommit=True, options="-c search_path=procrastinate"
        ) as c:  # taken, then died
            c.execute("UPDATE procrastinate.procrastinate_jobs SET status = 'doing' WHERE id = %s", (first,))
        second = await task.configure(lock="send:x", queueing_lock="sendq:x").defer_async(key="x")
        assert await retry_stalled_jobs(app, stalled_seconds=0) == 1
        with psycopg.connect(dsn) as c:
            rows = dict(c.execute("SELECT id, status FROM procrastinate.procrastinate_jobs").fetchall())
        assert rows == {first: "failed", second: "todo"}


async def test_the_suite_guard_sees_a_job_that_ended_in_error(
    migrated_engine: object, env: dict[str, str]
) -> None:
    """tests/conftest.py::job_errors, which fails pipeline and end-to-end tests: a job that raised
    is reported (retried or failed for good), one that succeeded is not."""
    from datetime import UTC, datetime

    from tests.conftest import job_errors

    bp = Blueprint()
    done: list[str] = []

    @bp.task(name="boom")
    async def boom() -> None:
        done.append("boom")
        raise RuntimeError("job failed")

    @bp.task(name="fine")
    async def fine() -> None:
        done.append("fine")

    before = datetime.now(UTC)
    app = create_job_app(env["POSTGRES_DSN"])
    app.add_tasks_from(bp, namespace="g")
    async with app.open_async():
        await app.tasks["g:fine"].defer_async()
        await app.tasks["g:boom"].defer_async()
        worker = asyncio.create_task(
            app.run_worker_async(
                concurrency=1, wait=True, install_signal_handlers=False, fetch_job_polling_interval=0.1
            )
        )
        for _ in range(200):
            if len(done) == 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # the worker records the outcome
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    # (The worker also runs the project's periodic tasks, which have no runtime here: only ours.)
    assert [e for e in job_errors(env["POSTGRES_DSN"]) if e.startswith("g:")] == ["g:boom: failed x1"]
    assert job_errors(env["POSTGRES_DSN"], until=before) == []
