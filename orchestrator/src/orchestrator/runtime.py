"""What background jobs need from the running orchestrator (settings, database, Redis, clients).

Set once by the app's lifespan (or a test); tasks call `current()`. Jobs never build their own
engines, so a worker replica uses the same pools as its HTTP side. The pooled HTTP clients and
the retrieval service are built on first use (see `pipeline.clients`, `retrieval.runtime`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: this module sits below every domain and imports none at run time
    import httpx
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from .config import Settings
    from .retrieval.service import Retrieval


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis | None
    agent_client: httpx.AsyncClient | None = None
    whatsapp_client: httpx.AsyncClient | None = None
    retrieval: Retrieval | None = None


_current: Runtime | None = None


def install(rt: Runtime) -> None:
    global _current
    _current = rt


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("orchestrator runtime not initialised (app lifespan not started)")
    return _current
