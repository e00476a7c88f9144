"""Async engine and the request-scoped session (commits on success, rolls back on error)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from .config import to_async_dsn


def create_engine(
    dsn: str, *, pool_size: int = 10, application_name: str = "nexus-orchestrator"
) -> AsyncEngine:
    return create_async_engine(
        to_async_dsn(dsn),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={
            "timeout": 5,
            "command_timeout": 60,
            "server_settings": {"application_name": application_name},
        },
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": commit BEFORE the response is sent. With FastAPI's default ("request") the
# commit runs after the client already got its 2xx, so a failed commit would be acknowledged and a
# client's next request could miss the row.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE/DELETE touched (a `CursorResult`; typed as a plain `Result` by `execute`)."""
    return (result.rowcount or 0) if isinstance(result, CursorResult) else 0
