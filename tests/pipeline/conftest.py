"""The pipeline on loopback: fake Graph, agent_service, whatsapp_service and the orchestrator as
real HTTP servers (uvicorn in the test's event loop), against a fresh Postgres database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest

from fakes.meta_graph import FakeState, create_app, signed

from ..conftest import free_port, serve

ADMIN = "test-admin-token-0123456789"
INTERNAL = "test-internal-token-0123456789"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "wa-app-secret-for-tests"
VERIFY_TOKEN = "wa-verify-token-for-tests"
ACCESS_TOKEN = "EAAG-fake-access-token-for-tests"


async def eventually(
    check: Callable[[], Awaitable[Any] | Any],
    timeout: float = 20.0,  # noqa: ASYNC109 - a polling budget, not a cancel scope
    every: float = 0.05,
) -> Any:
    """Poll until `check()` returns something truthy; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met in {timeout}s (last: {last!r})")


@dataclass
class Stack:
    dsn: str
    orch_url: str
    graph_url: str
    graph: FakeState
    tenant_id: str
    client: httpx.AsyncClient
    env: dict[str, str] = field(default_factory=dict)

    async def post_whatsapp(self, payload: Any, secret: str = APP_SECRET) -> httpx.Response:
        body, headers = signed(payload, secret)
        return await self.client.post(f"{self.orch_url}/webhooks/whatsapp", content=body, headers=headers)

    async def post_meta(self, payload: Any, secret: str = APP_SECRET) -> httpx.Response:
        body, headers = signed(payload, secret)
        return await self.client.post(f"{self.orch_url}/webhooks/meta", content=body, headers=headers)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def sent_to(self, to: str) -> list[dict[str, Any]]:
        return [m for m in self.graph.sent if m["to"] == to]


def service_env(dsn: str, fernet_key: str, agent_url: str, wa_url: str, **extra: str) -> dict[str, str]:
    return {
        "NEXUS_ENV": "test",
        "POSTGRES_DSN": dsn,
        "REDIS_URL": extra.pop("REDIS_URL", os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")),
        "ADMIN_TOKEN": ADMIN,
        "INTERNAL_API_TOKEN": INTERNAL,
        "ENCRYPTION_KEY": fernet_key,
        "LOG_LEVEL": "WARNING",
        "AGENT_SERVICE_URL": agent_url,
        "WHATSAPP_SERVICE_URL": wa_url,
        "NEXUS_DEBOUNCE_SECONDS": "0",
        "NEXUS_WORKER_POLL_SECONDS": "0.1",
        "NEXUS_WORKER_HEARTBEAT_SECONDS": "0.5",
        "NEXUS_WORKER_STALLED_SECONDS": "6",  # 2 s retried live turns when a loaded pool delayed heartbeats
        "NEXUS_OUTBOX_GRACE_SECONDS": "3",
        **extra,
    }


@contextlib.asynccontextmanager
async def side_services() -> AsyncIterator[tuple[FakeState, str, str, str]]:
    """Fake Graph + an instant agent + whatsapp_service; yields (graph state, graph, agent, wa URLs)."""
    from whatsapp_service.app import create_app as wa_app
    from whatsapp_service.config import Settings as WaSettings

    from fakes.instant_agent import create_app as instant_agent

    state = FakeState()
    gp, ap, wp = free_port(), free_port(), free_port()
    graph_url = f"http://127.0.0.1:{gp}"
    agent = instant_agent()
    wa = wa_app(
        WaSettings(
            nexus_env="test",
            internal_api_token=INTERNAL,
            log_level="WARNING",
            whatsapp_graph_url=f"{graph_url}/v21.0",
            whatsapp_graph_timeout_seconds=2.0,
        )
    )
    async with serve(create_app(state), gp), serve(agent, ap), serve(wa, wp):
        yield state, graph_url, f"http://127.0.0.1:{ap}", f"http://127.0.0.1:{wp}"


async def provision(client: httpx.AsyncClient, orch_url: str) -> str:
    auth = {"Authorization": f"Bearer {ADMIN}"}
    r = await client.post(f"{orch_url}/api/v1/tenants", json={"name": "Tienda Ana"}, headers=auth)
    assert r.status_code == 201, r.text
    tenant_id = r.json()["id"]
    r = await client.put(
        f"{orch_url}/api/v1/tenants/{tenant_id}/channels/whatsapp",
        json={
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": ACCESS_TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
        },
        headers=auth,
    )
    assert r.status_code == 200, r.text
    r = await client.put(
        f"{orch_url}/api/v1/tenants/{tenant_id}/channels/meta",
        json={
            "instagram_account_id": "17841400000000001",
            "page_id": "900000000000001",
            "access_token": ACCESS_TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
        },
        headers=auth,
    )
    assert r.status_code == 200, r.text
    return str(tenant_id)


@pytest.fixture
async def stack_factory(
    fresh_dsn: str, fernet_key: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., contextlib.AbstractAsyncContextManager[Stack]]]:
    """`async with stack_factory(**env_overrides) as stack:` — the whole pipeline on loopback."""

    @contextlib.asynccontextmanager
    async def factory(**overrides: str) -> AsyncIterator[Stack]:
        from orchestrator.app import create_app as orch_app

        async with side_services() as (state, graph_url, agent_url, wa_url):
            env = service_env(fresh_dsn, fernet_key, agent_url, wa_url, **overrides)
            for k, v in env.items():
                monkeypatch.setenv(k, v)
            op = free_port()
            orch_url = f"http://127.0.0.1:{op}"
            async with serve(orch_app(), op), httpx.AsyncClient(timeout=30) as client:
                tenant_id = await provision(client, orch_url)
                yield Stack(fresh_dsn, orch_url, graph_url, state, tenant_id, client, env)

    yield factory


@pytest.fixture
async def stack(
    stack_factory: Callable[..., contextlib.AbstractAsyncContextManager[Stack]],
) -> AsyncIterator[Stack]:
    async with stack_factory() as s:
        yield s
