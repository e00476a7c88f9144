from __future__ import annotations

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from ..events.publisher import announce


async def commit_and_announce(session: AsyncSession, request: Request) -> None:
    """Commit now (NOTIFY goes out with it) and push the events through Redis as well."""
    await session.commit()
    await announce(session, request.app.state.redis)
