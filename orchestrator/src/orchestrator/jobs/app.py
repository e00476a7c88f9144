"""The durable job queue: procrastinate on Postgres (Redis may be down; the queue may not).

Jobs live in their own `procrastinate` schema, created by an Alembic revision, so the drift check
of our models and procrastinate's tables never mix. Each domain declares its tasks on a
`Blueprint` and lists it in `BLUEPRINTS`; workers run inside every orchestrator replica (several
are safe: procrastinate locks jobs in Postgres), and jobs sharing a `lock` run one at a time in
the order they were deferred, which is how one conversation is handled strictly in order.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from procrastinate import App, Blueprint, PsycopgConnector

JOBS_SCHEMA = "procrastinate"

# Domains append their blueprint here: (namespace, blueprint), or (namespace, a function that
# builds one): procrastinate renames a blueprint's tasks when an App adopts it, so one Blueprint
# object cannot serve two Apps in one process (tests, benchmarks); a builder can.
BLUEPRINTS: list[tuple[str, Blueprint | Callable[[], Blueprint]]] = []


def psycopg_dsn(dsn: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql://" + dsn[len(prefix) :]
    return dsn


def create_job_app(dsn: str, *, max_pool: int = 4) -> App:
    connector = PsycopgConnector(
        conninfo=psycopg_dsn(dsn),
        kwargs={"options": f"-c search_path={JOBS_SCHEMA}"},
        min_size=1,
        max_size=max_pool,
    )
    from . import tasks  # noqa: F401 - domain task modules append their blueprints on import

    app = App(connector=connector, import_paths=["orchestrator.tasks"])

    for namespace, blueprint in BLUEPRINTS:
        _attach(app, namespace, blueprint if isinstance(blueprint, Blueprint) else blueprint())
    return app


def _attach(app: App, namespace: str, blueprint: Blueprint) -> None:
    """`add_tasks_from` renames the blueprint's tasks in place, so a second App in one process
    (tests, the CLI) would get `ns:ns:task`: the first App takes the blueprint itself (its
    module-level tasks stay usable), later ones take copies under the original names."""
    if not getattr(blueprint, "_nexus_attached", False):
        app.add_tasks_from(blueprint, namespace=namespace)
        blueprint._nexus_attached = True  # type: ignore[attr-defined]
        return
    fresh = Blueprint()
    prefix = f"{namespace}:"
    for name, task in blueprint.tasks.items():
        clone = copy.copy(task)
        clone.name = name.removeprefix(prefix)
        clone.aliases = [a.removeprefix(prefix) for a in task.aliases]
        fresh.tasks[clone.name] = clone
    app.add_tasks_from(fresh, namespace=namespace)
