"""Migration-first start: up/down/up, concurrent starts, drift detection."""

from __future__ import annotations

import asyncio
import time

import httpx
import psycopg
import pytest
from orchestrator.db import create_engine
from orchestrator.models import Base

from orchestrator import migrate

from ..conftest import free_port, start_orchestrator


@pytest.fixture(autouse=True)
def _no_job_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests exercise start-up and health; queue workers only add moving parts."""
    monkeypatch.setenv("NEXUS_WORKER_ENABLED", "false")


def _tables(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


async def test_upgrade_downgrade_upgrade_on_empty_database(env: dict[str, str]) -> None:
    dsn = env["POSTGRES_DSN"]
    engine = create_engine(dsn, pool_size=1)
    try:
        await migrate.upgrade(engine)
        assert set(Base.metadata.tables) <= _tables(dsn)
        assert await migrate.schema_drift(engine) == []

        await migrate.downgrade(engine, "base")
        assert _tables(dsn) <= {"alembic_version"}
        assert await migrate.current_revision(engine) is None

        await migrate.upgrade(engine)
        assert set(Base.metadata.tables) <= _tables(dsn)
        head = migrate.head_revision(migrate.alembic_config())
        assert await migrate.current_revision(engine) == head
        assert await migrate.schema_drift(engine) == []
    finally:
        await engine.dispose()


async def test_concurrent_upgrades_in_one_process_serialize(env: dict[str, str]) -> None:
    engines = [create_engine(env["POSTGRES_DSN"], pool_size=1) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate.upgrade(e) for e in engines))
        assert await migrate.schema_drift(engines[0]) == []
    finally:
        for e in engines:
            await e.dispose()


def _wait_ready(port: int, timeout: float = 120) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: httpx.Response | None = None
    while time.monotonic() < deadline:
        try:
            last = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2)
            if last.status_code == 200:
                return last
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not ready on :{port}: {last.text if last else 'no answer'}")


@pytest.mark.slow
def test_two_orchestrators_started_together_both_come_up(base_env: dict[str, str]) -> None:
    ports = [free_port(), free_port()]
    procs = [start_orchestrator(base_env, p) for p in ports]
    try:
        bodies = [_wait_ready(p).json() for p in ports]
        for b in bodies:
            assert b["status"] in ("ready", "degraded")
            assert b["checks"]["schema"]["ok"] is True
        with psycopg.connect(base_env["POSTGRES_DSN"]) as conn:
            versions = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        assert versions == [(migrate.head_revision(migrate.alembic_config()),)]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=20)


async def test_drift_keeps_orchestrator_not_ready_and_names_it(env: dict[str, str]) -> None:
    from orchestrator.app import create_app

    dsn = env["POSTGRES_DSN"]
    engine = create_engine(dsn, pool_size=1)
    await migrate.upgrade(engine)
    await engine.dispose()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE customers ALTER COLUMN name TYPE varchar(50)")

    app = create_app()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.get("/health/ready")
            live = await c.get("/health/live")
    assert live.status_code == 200
    assert r.status_code == 503
    body = r.json()
    assert "schema" in body["down"]
    assert "customers.name" in body["checks"]["schema"]["error"]
    assert "drift" in body["checks"]["schema"]["error"]


async def test_fresh_database_needs_only_the_orchestrator(env: dict[str, str]) -> None:
    from orchestrator.app import create_app

    app = create_app()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            r = await c.get("/health/ready")
    assert r.status_code == 200, r.text
    assert r.json()["checks"]["postgres"]["ok"] is True
    assert set(Base.metadata.tables) <= _tables(env["POSTGRES_DSN"])


async def test_postgres_unreachable_is_not_ready_but_live(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestrator.app import create_app

    monkeypatch.setenv("POSTGRES_DSN", f"postgresql://postgres@127.0.0.1:{free_port()}/nope")
    app = create_app()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            ready = await c.get("/health/ready")
            live = await c.get("/health/live")
    assert live.status_code == 200
    assert ready.status_code == 503
    assert set(ready.json()["down"]) == {"postgres", "schema"}
    assert "postgresql://" not in ready.text  # the DSN is never shown


async def test_redis_down_is_degraded_not_down(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.app import create_app

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    app = create_app()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            ready = await c.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["degraded"] == ["redis"]
