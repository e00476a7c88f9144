"""Bring the database to a state the orchestrator may serve from.

Order: wait for Postgres → `alembic upgrade head` under the advisory lock → compare the live
schema with the models → check ENCRYPTION_KEY opens the stored credentials. Until all of that has
passed, `/health/ready` answers 503 naming what is missing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from nexus_common.crypto import Crypto, DecryptionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from . import migrate
from .credentials import service as credentials

log = structlog.get_logger("orchestrator.startup")


class FatalStartupError(Exception):
    """A condition restarting will not fix (wrong ENCRYPTION_KEY)."""


@dataclass
class SchemaState:
    migrated: bool = False
    drift: list[str] = field(default_factory=list)
    fatal: str | None = None
    last_error: str | None = None

    def problem(self) -> str | None:
        if self.fatal:
            return self.fatal
        if not self.migrated:
            return f"migrations not applied yet ({self.last_error or 'waiting for Postgres'})"
        if self.drift:
            return "schema drift: " + "; ".join(self.drift)
        return None


async def prepare_database(
    engine: AsyncEngine,
    maker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    state: SchemaState,
    migrations_dir: Path | None = None,
    bff_password: str | None = None,
) -> None:
    await migrate.upgrade(engine, migrations_dir=migrations_dir)
    if bff_password:
        await migrate.enable_bff_login(engine, bff_password)
    state.migrated = True
    state.drift = await migrate.schema_drift(engine)
    if state.drift:
        log.error("startup.schema_drift", drift=state.drift)
    async with maker() as session:
        try:
            await credentials.verify_decryptable(session, crypto)
        except DecryptionError as exc:
            state.fatal = f"ENCRYPTION_KEY: {exc}"
            raise FatalStartupError(state.fatal) from None


async def prepare_until_ready(
    engine: AsyncEngine,
    maker: async_sessionmaker[AsyncSession],
    crypto: Crypto,
    state: SchemaState,
    migrations_dir: Path | None = None,
    max_delay: float = 10.0,
    bff_password: str | None = None,
) -> None:
    """Retry `prepare_database` with backoff while Postgres is unreachable (recovers by itself)."""
    delay = 0.5
    while True:
        try:
            await prepare_database(engine, maker, crypto, state, migrations_dir, bff_password)
            log.info("startup.database_ready", drift=len(state.drift))
            return
        except FatalStartupError:
            raise
        except (OSError, Exception) as exc:  # noqa: BLE001 - any connection failure: retry
            state.last_error = type(exc).__name__
            log.warning("startup.database_unavailable", error=type(exc).__name__, retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
