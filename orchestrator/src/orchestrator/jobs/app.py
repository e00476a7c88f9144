"""The durable job queue: procrastinate on Postgres (Redis may be down; the queue may not).

Jobs live in their own `procrastinate` schema, created by an Alembic revision, so the drift check
of our models and procrastinate's tables never mix. Workers run inside every orchestrator replica
(several are safe: procrastinate locks jobs in Postgres), and jobs sharing a `lock` run one at a
time in the order they were deferred, which is how one conversation is handled strictly in order.

Domains register plain async functions with `@task(names.X, ...)` in their `tasks.py`; nothing
here imports a domain. The entry points (app, CLI) import `orchestrator.tasks`, which imports
every domain's task module, before they build an App. Each App gets its own procrastinate Task
objects (tests and benchmarks build several Apps in one process).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from procrastinate import App, PsycopgConnector

JOBS_SCHEMA = "procrastinate"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class TaskSpec:
    name: str
    func: Callable[..., Any]
    options: dict[str, Any] = field(default_factory=dict)
    cron: str | None = None
    periodic_id: str = ""


_REGISTRY: dict[str, TaskSpec] = {}


def task(name: str, *, cron: str | None = None, periodic_id: str = "", **options: Any) -> Callable[[F], F]:
    """Register `func` as the task `name` (a `jobs.names` constant); `cron` makes it periodic.
    The function is returned unchanged, so it stays a plain coroutine function to call or test."""

    def register(func: F) -> F:
        known = _REGISTRY.get(name)
        if known is not None and known.func is not func:
            raise ValueError(f"task {name!r} is registered twice")
        _REGISTRY[name] = TaskSpec(name, func, dict(options), cron, periodic_id)
        return func

    return register


def psycopg_dsn(dsn: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql://" + dsn[len(prefix) :]
    return dsn


def create_job_app(dsn: str, *, max_pool: int = 4) -> App:
    """A procrastinate App with every task registered so far."""
    connector = PsycopgConnector(
        conninfo=psycopg_dsn(dsn),
        kwargs={"options": f"-c search_path={JOBS_SCHEMA}"},
        min_size=1,
        max_size=max_pool,
    )
    app = App(connector=connector)
    for spec in _REGISTRY.values():
        registered_task = app.task(name=spec.name, **spec.options)(spec.func)
        if spec.cron is not None:
            app.periodic(cron=spec.cron, periodic_id=spec.periodic_id)(registered_task)
    return app
