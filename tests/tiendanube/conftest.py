"""Fixtures: the fake Tienda Nube and tiendanube_service as real loopback servers, and an
in-process orchestrator (its job workers run in the test's event loop)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fakes.tiendanube import FakeTiendanube, ThreadServer, add_store, create_app

APP_SECRET = "fake-app-secret-0123456789"
STORE_ID = 555001


async def wait_for(check: Callable[[], Awaitable[Any]], within: float = 20.0, interval: float = 0.05) -> Any:
    """Poll until `check()` returns something truthy (never a fixed sleep)."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


@pytest.fixture
def fake() -> FakeTiendanube:
    f = FakeTiendanube(client_secret=APP_SECRET, bucket_capacity=40, leak_per_s=20.0)
    add_store(f, store_id=STORE_ID, name="Tienda Test", products=30, customers=6, orders=12)
    return f


@pytest.fixture
def fake_server(fake: FakeTiendanube) -> Iterator[ThreadServer]:
    with ThreadServer(create_app(fake)) as server:
        yield server


@pytest.fixture
def tn_service(fake_server: ThreadServer, base_env: dict[str, str]) -> Iterator[ThreadServer]:
    from tiendanube_service.app import create_app as service_app
    from tiendanube_service.config import Settings

    settings = Settings(
        nexus_env="test",
        log_level="WARNING",
        internal_api_token=base_env["INTERNAL_API_TOKEN"],
        tiendanube_api_url=f"{fake_server.url}/v1",
        tiendanube_auth_url=f"{fake_server.url}/apps/authorize/token",
        tiendanube_client_id="4321",
        tiendanube_client_secret=APP_SECRET,
    )
    with ThreadServer(service_app(settings)) as server:
        yield server


@pytest.fixture
def tn_env(
    env: dict[str, str], tn_service: ThreadServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    extra = {
        "TIENDANUBE_SERVICE_URL": tn_service.url,
        "TIENDANUBE_CLIENT_SECRET": APP_SECRET,
        "API_BASE_URL": "http://testserver",
        "DATA_DIR": str(tmp_path),
    }
    for k, v in extra.items():
        monkeypatch.setenv(k, v)
    return {**env, **extra}


@dataclass
class Orchestrator:
    app: Any
    client: httpx.AsyncClient
    maker: async_sessionmaker[AsyncSession]
    engine: AsyncEngine


@pytest.fixture
async def orch(tn_env: dict[str, str]) -> AsyncIterator[Orchestrator]:
    from orchestrator.app import create_app as orchestrator_app

    app = orchestrator_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Orchestrator(app, client, app.state.sessionmaker, app.state.engine)


async def install(orch: Orchestrator, fake: FakeTiendanube, store_id: int = STORE_ID) -> uuid.UUID:
    code = fake.issue_code(store_id)
    r = await orch.client.get("/oauth/tiendanube/callback", params={"code": code})
    assert r.status_code == 303, r.text
    return uuid.UUID(r.headers["location"].split("tenant_id=")[1])


async def sync_state(maker: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID) -> Any:
    from orchestrator.models import CatalogSync
    from sqlalchemy import select

    async with maker() as s:
        return (
            await s.scalars(
                select(CatalogSync)
                .where(CatalogSync.tenant_id == tenant_id)
                .order_by(CatalogSync.created_at.desc())
            )
        ).first()


async def wait_sync_done(
    maker: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID, within: float = 60
) -> Any:
    async def done() -> Any:
        sync = await sync_state(maker, tenant_id)
        assert sync is None or sync.state != "failed", sync.error
        return sync if sync is not None and sync.state == "done" else None

    return await wait_for(done, within)


@pytest.fixture(autouse=True)
def _no_search_indexing() -> Iterator[None]:
    """These tests are about the catalog mirror; embedding thousands of products with the
    offline model would only slow them down (tests/retrieval covers the index and the hook)."""
    from orchestrator.catalog import hooks
    from orchestrator.retrieval.runtime import on_products_changed

    hooks.unregister(on_products_changed)
    try:
        yield
    finally:
        hooks.register(on_products_changed)
