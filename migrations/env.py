"""Alembic environment. The orchestrator calls it with an open connection (under its advisory
lock); `alembic` on the command line uses POSTGRES_DSN."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from orchestrator.config import to_async_dsn
from orchestrator.migrate import include_object
from orchestrator.models import Base
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import async_engine_from_config

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        transaction_per_migration=True,
    )


def run_with_connection(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    dsn = config.get_main_option("sqlalchemy.url") or os.environ.get("POSTGRES_DSN", "")
    engine = async_engine_from_config(
        {"sqlalchemy.url": to_async_dsn(dsn)}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    async with engine.connect() as conn:
        await conn.run_sync(run_with_connection)
        await conn.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=to_async_dsn(os.environ.get("POSTGRES_DSN", "")),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with_connection(connection)
    else:
        asyncio.run(run_async())
