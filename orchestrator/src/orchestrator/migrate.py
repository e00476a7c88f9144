"""Migration-first start: `alembic upgrade head` under a Postgres advisory lock, then a drift check.

Several replicas may start at once: each takes the same session-level advisory lock, the first
migrates, the others find the schema at head. Afterwards the live schema is compared with the
models (alembic's autogenerate compare); any difference is drift and keeps the service not ready.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from .models import Base

log = structlog.get_logger("orchestrator.migrate")

# An arbitrary constant, the same in every replica: "nexus" in ASCII.
MIGRATION_LOCK_ID = 0x6E65787573

# Tables owned by other software in the same database (the job queue's own schema).
FOREIGN_TABLE_PREFIXES = ("procrastinate_",)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table" and name and name.startswith(FOREIGN_TABLE_PREFIXES):
        return False
    if type_ == "table" and name == "alembic_version":
        return False
    return True


def find_migrations_dir(explicit: Path | None = None) -> Path:
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    if env := os.environ.get("NEXUS_MIGRATIONS_DIR"):
        candidates.append(Path(env))
    candidates.append(Path("/app/migrations"))
    here = Path(__file__).resolve()
    candidates += [p / "migrations" for p in here.parents]
    candidates.append(Path.cwd() / "migrations")
    for c in candidates:
        if (c / "env.py").is_file():
            return c
    raise FileNotFoundError("alembic migrations/ directory not found (set NEXUS_MIGRATIONS_DIR)")


def alembic_config(migrations_dir: Path | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(find_migrations_dir(migrations_dir)))
    return cfg


def head_revision(cfg: Config) -> str | None:
    return ScriptDirectory.from_config(cfg).get_current_head()


def _run_locked(sync_conn: Connection, work: Callable[[], None]) -> None:
    """Run `work` holding the session-level advisory lock; unlock even if it failed."""
    sync_conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_ID})
    sync_conn.commit()
    try:
        work()
        sync_conn.commit()
    except BaseException:
        sync_conn.rollback()
        raise
    finally:
        # Session-level advisory locks survive a rollback: release explicitly.
        sync_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_ID})
        sync_conn.commit()


def _upgrade_locked(sync_conn: Connection, cfg: Config, target: str) -> None:
    def work() -> None:
        before = MigrationContext.configure(sync_conn).get_current_revision()
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, target)
        after = MigrationContext.configure(sync_conn).get_current_revision()
        sync_conn.commit()
        if before != after:
            log.info("migrate.upgraded", from_revision=before, to_revision=after)
        else:
            log.info("migrate.at_head", revision=after)

    _run_locked(sync_conn, work)


def _downgrade_locked(sync_conn: Connection, cfg: Config, target: str) -> None:
    def work() -> None:
        cfg.attributes["connection"] = sync_conn
        command.downgrade(cfg, target)

    _run_locked(sync_conn, work)


async def upgrade(engine: AsyncEngine, target: str = "head", migrations_dir: Path | None = None) -> None:
    cfg = alembic_config(migrations_dir)
    async with engine.connect() as conn:
        await conn.run_sync(_upgrade_locked, cfg, target)


async def downgrade(engine: AsyncEngine, target: str, migrations_dir: Path | None = None) -> None:
    cfg = alembic_config(migrations_dir)
    async with engine.connect() as conn:
        await conn.run_sync(_downgrade_locked, cfg, target)


def describe_diff(diff: Any) -> str:
    """Human-readable one-liner of an autogenerate diff entry."""
    if isinstance(diff, list):  # column modifications come grouped
        return "; ".join(describe_diff(d) for d in diff)
    op = diff[0]
    if op in ("add_table", "remove_table"):
        return f"{op} {diff[1].name}"
    if op in ("add_column", "remove_column"):
        return f"{op} {diff[2]}.{diff[3].name}"
    if op.startswith("modify_"):
        # ("modify_type", schema, table, column, existing_kw, old, new)
        return f"{op} {diff[2]}.{diff[3]}: {diff[5]!s} -> {diff[6]!s}"
    if op in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        obj = diff[1]
        table = getattr(getattr(obj, "table", None), "name", "?")
        return f"{op} {table}.{obj.name}"
    if op in ("add_fk", "remove_fk"):
        return f"{op} {diff[1].parent.name}.{diff[1].name}"
    return str(op)


def _compare(sync_conn: Connection) -> list[str]:
    mc = MigrationContext.configure(sync_conn, opts={"compare_type": True, "include_object": include_object})
    return [describe_diff(d) for d in compare_metadata(mc, Base.metadata)]


async def schema_drift(engine: AsyncEngine) -> list[str]:
    """Differences between the live schema and the models; empty when they agree."""
    async with engine.connect() as conn:
        return await conn.run_sync(_compare)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


# The BFF's database role (created by migration issue11_security): it may read `events` and
# LISTEN, nothing else. It cannot sign in until the orchestrator gives it BFF_DB_PASSWORD.
BFF_ROLE = "nexus_bff"


async def enable_bff_login(engine: AsyncEngine, password: str) -> None:
    """Let the BFF's restricted role sign in with `password` (idempotent; run at every start)."""
    async with engine.begin() as conn:
        sql = await conn.scalar(
            text(
                "SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', CAST(:r AS text), CAST(:pw AS text))"
            ),
            {"r": BFF_ROLE, "pw": password},
        )
        await conn.exec_driver_sql(str(sql))  # not text(): a ':' in the password is no bind
