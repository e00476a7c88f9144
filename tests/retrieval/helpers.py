"""Helpers shared by the retrieval and agent tests: real servers on loopback, catalog rows."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import free_port


@contextlib.asynccontextmanager
async def serve(app: FastAPI, lifespan: str = "on", port: int | None = None) -> AsyncIterator[str]:
    """Run `app` under uvicorn in this event loop on `port` (default: a free one); yields its URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan=lifespan,
            timeout_graceful_shutdown=1,
        )
    )
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    if task.done():
        task.result()
    assert server.started, "server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def add_tenant(
    maker: async_sessionmaker[AsyncSession], name: str = "Tienda", **settings: Any
) -> uuid.UUID:
    from orchestrator.models import Tenant

    async with maker() as s, s.begin():
        t = Tenant(name=name, settings=settings)
        s.add(t)
        await s.flush()
        return t.id


async def add_product(
    maker: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    name: str,
    price: str,
    *,
    stock: int | None = 10,
    skus: Sequence[str] = (),
    categories: Sequence[str] = (),
    description: str = "",
    published: bool = True,
    variants: list[dict[str, Any]] | None = None,
    external_id: int | None = None,
) -> uuid.UUID:
    from orchestrator.models import Product

    async with maker() as s, s.begin():
        p = Product(
            tenant_id=tenant_id,
            external_id=external_id or uuid.uuid4().int % 10**12,
            name={"es": name},
            description={"es": description},
            name_text=name,
            search_text=" ".join([*categories, description, *skus]),
            categories=list(categories),
            skus=list(skus),
            variants=variants or [],
            price=Decimal(price),
            currency="ARS",
            stock=stock,
            url=f"https://tienda.example/productos/{uuid.uuid4().hex[:8]}",
            published=published,
        )
        s.add(p)
        await s.flush()
        return p.id
