"""Shared fixtures: real Postgres and Redis on this machine, a throwaway database per test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]
ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _dsn_for(dbname: str) -> str:
    base, _, _ = ADMIN_DSN.rpartition("/")
    return f"{base}/{dbname}"


def create_database() -> tuple[str, str]:
    name = f"nexus_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, _dsn_for(name)


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def job_errors(dsn: str, until: datetime | None = None) -> list[str]:
    """Every job attempt that ended in an error in this database (failed for good, or raised and
    went back for a retry), up to `until`, as "task: event" lines. Empty when the job queue was
    never created."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('procrastinate.procrastinate_events')").fetchone() == (None,):
            return []
        rows = conn.execute(
            "SELECT j.task_name, e.type::text, count(*) FROM procrastinate.procrastinate_events e "
            "JOIN procrastinate.procrastinate_jobs j ON j.id = e.job_id "
            "WHERE e.type IN ('failed', 'deferred_for_retry') AND (%s::timestamptz IS NULL OR e.at <= %s) "
            "GROUP BY 1, 2 ORDER BY 1, 2",
            (until, until),
        ).fetchall()
    return [f"{task}: {kind} x{n}" for task, kind, n in rows]


CALL_ENDED = pytest.StashKey[datetime]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """When the test body ended: jobs cut short by the teardown that follows (servers stopping
    mid-job) are not the test's errors."""
    try:
        return (yield)
    finally:
        item.stash[CALL_ENDED] = datetime.now(UTC)


@pytest.fixture(autouse=True)
def no_job_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """The guard of the pipeline and end-to-end suites: a job that ends in error fails the test
    that caused it (unless the test is marked `allow_job_errors`: it provokes them on purpose)."""
    suite = request.node.path.parent.name
    if suite != "pipeline" or "fresh_dsn" not in request.fixturenames:
        yield
        return
    dsn = request.getfixturevalue("fresh_dsn")
    yield
    if request.node.get_closest_marker("allow_job_errors") is None:
        errors = job_errors(dsn, request.node.stash.get(CALL_ENDED, None))
        assert not errors, f"jobs ended in error: {errors}"


@pytest.fixture
def fresh_dsn() -> Iterator[str]:
    """An empty database of its own, dropped afterwards."""
    name, dsn = create_database()
    try:
        yield dsn
    finally:
        drop_database(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(app: Any, port: int | None = None, *, lifespan: str = "on") -> AsyncIterator[str]:
    """Serve `app` with uvicorn in this event loop on 127.0.0.1:`port` (a free one by default)
    for the duration of the block; yields its base URL. The one way a test runs an ASGI app on
    a real socket."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            lifespan=lifespan,
            log_config=None,  # the app's own logging setup, not uvicorn's
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,  # open streams (SSE) are cut after that
        )
    )
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]  # Ctrl-C is pytest's
    task = asyncio.create_task(server.serve())
    for _ in range(800):
        if server.started or task.done():
            break
        await asyncio.sleep(0.025)
    if task.done():
        task.result()  # the startup error, if there was one
    assert server.started, f"uvicorn did not start on 127.0.0.1:{port}"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


def start_orchestrator(
    env: dict[str, str], port: int, output: object = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """A real orchestrator process (uvicorn) on 127.0.0.1:`port`. Its output goes to `output`
    (a file, or nowhere): an unread pipe would fill and stall the server."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "orchestrator.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],  # fmt: skip
        env={**os.environ, **env},
        stdout=output,  # type: ignore[arg-type]
        stderr=subprocess.STDOUT,
        cwd=REPO,
    )


@pytest.fixture
def fernet_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def base_env(fresh_dsn: str, fernet_key: str) -> dict[str, str]:
    """Environment for an orchestrator against the fresh database."""
    return {
        "NEXUS_ENV": "test",
        "POSTGRES_DSN": fresh_dsn,
        "REDIS_URL": TEST_REDIS_URL,
        "ADMIN_TOKEN": "test-admin-token-0123456789",
        "INTERNAL_API_TOKEN": "test-internal-token-0123456789",
        "ENCRYPTION_KEY": fernet_key,
        "NEXUS_MIGRATIONS_DIR": str(REPO / "migrations"),
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def env(base_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """`base_env` applied to this process (for in-process apps and settings)."""
    for k, v in base_env.items():
        monkeypatch.setenv(k, v)
    return base_env


@pytest.fixture
async def migrated_engine(env: dict[str, str]) -> AsyncIterator[object]:
    from orchestrator.db import create_engine

    from orchestrator import migrate

    engine = create_engine(env["POSTGRES_DSN"], pool_size=2)
    await migrate.upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()
