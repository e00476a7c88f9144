"""What background jobs need from the running orchestrator (settings, database, Redis).

Set once by the app's lifespan (or a test); tasks call `current()`. Jobs never build their own
engines, so a worker replica uses the same pools as its HTTP side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from .config import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis | None
    extras: dict[str, Any]


_current: Runtime | None = None


def install(rt: Runtime) -> None:
    global _current
    _current = rt


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("orchestrator runtime not initialised (app lifespan not started)")
    return _current
