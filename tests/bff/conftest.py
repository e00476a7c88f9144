"""A real orchestrator and BFF on loopback ports (uvicorn), for SSE over real TCP."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import serve
from tests.staff.conftest import INTERNAL_TOKEN, app, smtp, staff_env  # noqa: F401 - shared fixtures


@pytest.fixture(scope="session")
async def orchestrator_url(app: FastAPI) -> AsyncIterator[str]:  # noqa: F811
    async with serve(app, lifespan="off") as url:
        yield url


def make_bff(env: dict[str, str], orchestrator_url: str, redis_url: str | None, **extra: Any) -> FastAPI:
    from bff.app import create_app
    from bff.config import Settings

    settings = Settings(
        internal_api_token=INTERNAL_TOKEN,
        nexus_env="test",
        log_level="WARNING",
        orchestrator_url=orchestrator_url,
        postgres_dsn=env["POSTGRES_DSN"],
        redis_url=redis_url,
        **extra,
    )
    return create_app(settings)


@dataclass
class SSEClient:
    """Reads an SSE stream in the background into a queue of (id, event, data)."""

    events: asyncio.Queue[tuple[int, str, dict[str, Any]]] = field(default_factory=asyncio.Queue)
    comments: int = 0
    status: int | None = None
    task: asyncio.Task[None] | None = None
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
        async with client.stream("GET", url, headers=headers) as r:
            self.status = r.status_code
            self.opened.set()
            if r.status_code != 200:
                await r.aread()
                return
            block: dict[str, str] = {}
            async for line in r.aiter_lines():
                if line == "":
                    if "data" in block:
                        await self.events.put(
                            (int(block.get("id", 0)), block.get("event", ""), json.loads(block["data"]))
                        )
                    block = {}
                elif line.startswith(":"):
                    self.comments += 1
                else:
                    key, _, value = line.partition(":")
                    block[key] = value[1:] if value.startswith(" ") else value

    async def next(self, within: float = 10.0) -> tuple[int, str, dict[str, Any]]:
        return await asyncio.wait_for(self.events.get(), within)

    async def close(self) -> None:
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await self.task


@contextlib.asynccontextmanager
async def sse(base: str, headers: dict[str, str], path: str = "/events/stream") -> AsyncIterator[SSEClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as client:
        c = SSEClient()
        c.task = asyncio.create_task(c.run(client, base + path, headers))
        await asyncio.wait_for(c.opened.wait(), 10)
        try:
            yield c
        finally:
            await c.close()
