"""The whole platform on loopback for selling in the chat: the fake Tienda Nube (rate limit on)
behind the real tiendanube_service, the fake Graph behind the real whatsapp_service, the real
agent_service (no LLM key, or the fake OpenAI server) and the orchestrator with its job workers,
all real HTTP servers. The store is installed through the real OAuth callback, so Tienda Nube's
signed order webhooks reach the orchestrator like in production."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest

from fakes.meta_graph import FakeState, signed, wa_message
from fakes.meta_graph import create_app as graph_app
from fakes.openai import create_app as fake_openai
from fakes.tiendanube import FakeTiendanube, Store, ThreadServer, add_store
from fakes.tiendanube import create_app as tn_app
from fakes.tiendanube.state import now_iso
from tests.conftest import free_port, serve
from tests.tiendanube.conftest import wait_for

ADMIN = "test-admin-token-0123456789"
INTERNAL = "test-internal-token-0123456789"
APP_SECRET = "fake-app-secret-0123456789"
WA_SECRET = "wa-app-secret-for-tests"
PHONE_NUMBER_ID = "106540352242922"
STORE_ID = 777001
CUSTOMER_WA = "5491155550001"
OWNER = {"email": "owner@tienda.example", "password": "a-long-owner-password-1"}

# A product the tests know by heart: 2 sizes x 2 colours, stock managed.
AURORA_ID = 90_000_001
AURORA_VARIANTS = {
    ("S", "Negro"): (90_000_011, 5),
    ("M", "Negro"): (90_000_012, 3),
    ("S", "Blanco"): (90_000_013, 0),
    ("M", "Blanco"): (90_000_014, 8),
}
AURORA_PRICE = "15000.00"


def add_aurora(store: Store) -> None:
    ts = now_iso()
    store.products[AURORA_ID] = {
        "id": AURORA_ID,
        "name": {"es": "Remera Aurora"},
        "description": {"es": "<p>Remera Aurora de algodón orgánico.</p>"},
        "handle": {"es": "remera-aurora"},
        "attributes": [{"es": "Talle"}, {"es": "Color"}],
        "published": True,
        "canonical_url": f"{store.url}/productos/remera-aurora/",
        "categories": [],
        "images": [],
        "tags": "remeras",
        "variants": [
            {
                "id": vid,
                "product_id": AURORA_ID,
                "price": AURORA_PRICE,
                "promotional_price": None,
                "stock_management": True,
                "stock": stock,
                "sku": f"AUR-{size}-{color[:3].upper()}",
                "values": [{"es": size}, {"es": color}],
            }
            for (size, color), (vid, stock) in AURORA_VARIANTS.items()
        ],
        "created_at": ts,
        "updated_at": ts,
    }


@dataclass
class Shop:
    fake: FakeTiendanube
    graph: FakeState
    openai: Any | None
    orch_url: str
    client: httpx.AsyncClient
    dsn: str
    tenant_id: str
    owner_token: str

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    @property
    def store(self) -> Store:
        return self.fake.stores[STORE_ID]

    async def say(
        self, text: str | None = None, *, reply: tuple[str, str] | None = None, wa: str = CUSTOMER_WA
    ) -> None:
        """The customer writes on WhatsApp (a text, or a list row chosen: (id, title))."""
        if reply:
            payload = wa_message(
                PHONE_NUMBER_ID,
                wa,
                type="interactive",
                content={"type": "list_reply", "list_reply": {"id": reply[0], "title": reply[1]}},
            )
        else:
            payload = wa_message(PHONE_NUMBER_ID, wa, text=text)
        body, headers = signed(payload, WA_SECRET)
        r = await self.client.post(f"{self.orch_url}/webhooks/whatsapp", content=body, headers=headers)
        assert r.status_code == 200, r.text

    async def next_sent(self, seen: int, within: float = 45.0) -> list[dict[str, Any]]:
        """Wait for every message the customer gets after the first `seen` ones; the turn is
        over when the conversation's outbox has nothing left queued."""

        async def more() -> list[dict[str, Any]] | None:
            sent = [m for m in self.graph.sent if m["to"] == CUSTOMER_WA]
            queued = self.rows(
                "SELECT count(*) FROM chat_messages"
                " WHERE direction='outbound' AND status IN ('queued','sending')"
            )[0][0]
            running = self.rows("SELECT count(*) FROM agent_runs WHERE outcome='running'")[0][0]
            return sent[seen:] if len(sent) > seen and not queued and not running else None

        return await wait_for(more, within)  # type: ignore[no-any-return]

    def sent(self) -> list[dict[str, Any]]:
        return [m for m in self.graph.sent if m["to"] == CUSTOMER_WA]

    async def api(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.request(
            method,
            f"{self.orch_url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.owner_token}"},
        )

    def conversation_id(self) -> str:
        return str(self.rows("SELECT id FROM chat_conversations")[0][0])


def interactive(message: dict[str, Any]) -> dict[str, Any]:
    return message["body"]["interactive"]  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def open_shop(
    fresh_dsn: str,
    fernet_key: str,
    setenv: Callable[[str, str], None],
    *,
    llm: bool = False,
    leak_per_s: float = 2.0,
    products: int = 12,
) -> AsyncIterator[Shop]:
    """Start everything (also used by bench/checkout.py); `setenv` sets the orchestrator's env."""
    from agent_service.app import create_app as agent_app
    from agent_service.config import Settings as AgentSettings
    from orchestrator.app import create_app as orch_app
    from orchestrator.catalog import hooks
    from orchestrator.retrieval.runtime import on_products_changed
    from tiendanube_service.app import create_app as tn_service_app
    from tiendanube_service.config import Settings as TnSettings
    from whatsapp_service.app import create_app as wa_app
    from whatsapp_service.config import Settings as WaSettings

    fake = FakeTiendanube(client_secret=APP_SECRET, bucket_capacity=40, leak_per_s=leak_per_s)
    store = add_store(fake, store_id=STORE_ID, name="Tienda Aurora", products=products, customers=3, orders=4)
    add_aurora(store)
    state = FakeState()
    oa = fake_openai() if llm else None
    gp, wp, ap, op = free_port(), free_port(), free_port(), free_port()
    orch_url = f"http://127.0.0.1:{op}"
    # Search answers from Postgres full text here (the vector index has its own tests).
    hooks.unregister(on_products_changed)
    async with contextlib.AsyncExitStack() as es:
        es.callback(hooks.register, on_products_changed)
        tn_fake = es.enter_context(ThreadServer(tn_app(fake)))
        tn_service = es.enter_context(
            ThreadServer(
                tn_service_app(
                    TnSettings(
                        nexus_env="test",
                        log_level="WARNING",
                        internal_api_token=INTERNAL,
                        tiendanube_api_url=f"{tn_fake.url}/v1",
                        tiendanube_auth_url=f"{tn_fake.url}/apps/authorize/token",
                        tiendanube_client_id="4321",
                        tiendanube_client_secret=APP_SECRET,
                    )
                )
            )
        )
        await es.enter_async_context(serve(graph_app(state), gp))
        await es.enter_async_context(
            serve(
                wa_app(
                    WaSettings(
                        nexus_env="test",
                        internal_api_token=INTERNAL,
                        log_level="WARNING",
                        whatsapp_graph_url=f"http://127.0.0.1:{gp}/v21.0",
                        whatsapp_graph_timeout_seconds=3.0,
                    )
                ),
                wp,
            )
        )
        agent_kw: dict[str, Any] = {}
        if oa is not None:
            oport = free_port()
            await es.enter_async_context(serve(oa, oport))
            agent_kw = {
                "openai_api_key": "sk-test-fake-openai-0123456789",
                "openai_base_url": f"http://127.0.0.1:{oport}/v1",
            }
        await es.enter_async_context(
            serve(
                agent_app(
                    AgentSettings(
                        nexus_env="test",
                        internal_api_token=INTERNAL,
                        orchestrator_url=orch_url,
                        llm_timeout_seconds=10.0,
                        log_level="WARNING",
                        **agent_kw,
                    )
                ),
                ap,
            )
        )
        env = {
            "NEXUS_ENV": "test",
            "POSTGRES_DSN": fresh_dsn,
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "ADMIN_TOKEN": ADMIN,
            "INTERNAL_API_TOKEN": INTERNAL,
            "ENCRYPTION_KEY": fernet_key,
            "LOG_LEVEL": "WARNING",
            "AGENT_SERVICE_URL": f"http://127.0.0.1:{ap}",
            "WHATSAPP_SERVICE_URL": f"http://127.0.0.1:{wp}",
            "TIENDANUBE_SERVICE_URL": tn_service.url,
            "TIENDANUBE_CLIENT_SECRET": APP_SECRET,
            "API_BASE_URL": orch_url,
            "NEXUS_DEBOUNCE_SECONDS": "0",
            "NEXUS_WORKER_POLL_SECONDS": "0.1",
            "NEXUS_OUTBOX_GRACE_SECONDS": "3",
        }
        env.update(OPENAI_API_KEY="", ANTHROPIC_API_KEY="")
        for k, v in env.items():
            setenv(k, v)
        await es.enter_async_context(serve(orch_app(), op))
        client = await es.enter_async_context(httpx.AsyncClient(timeout=60))
        tenant_id = await _install(client, orch_url, fake, fresh_dsn)
        yield Shop(
            fake,
            state,
            oa,
            orch_url,
            client,
            fresh_dsn,
            tenant_id,
            await _owner(client, orch_url, tenant_id),
        )


@pytest.fixture
def shop_factory(
    fresh_dsn: str, fernet_key: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., contextlib.AbstractAsyncContextManager[Shop]]:
    def factory(**kw: Any) -> contextlib.AbstractAsyncContextManager[Shop]:
        return open_shop(fresh_dsn, fernet_key, monkeypatch.setenv, **kw)

    return factory


async def _install(client: httpx.AsyncClient, orch_url: str, fake: FakeTiendanube, dsn: str) -> str:
    code = fake.issue_code(STORE_ID)
    r = await client.get(f"{orch_url}/oauth/tiendanube/callback", params={"code": code})
    assert r.status_code == 303, r.text
    tenant_id = r.headers["location"].split("tenant_id=")[1]

    async def synced() -> bool:
        with psycopg.connect(dsn) as conn:
            rows = conn.execute("SELECT state FROM catalog_syncs ORDER BY created_at DESC LIMIT 1").fetchall()
        assert not rows or rows[0][0] != "failed"
        return bool(rows) and rows[0][0] == "done"

    await wait_for(synced, 90)
    r = await client.put(
        f"{orch_url}/api/v1/tenants/{tenant_id}/channels/whatsapp",
        json={
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": "EAAG-fake-access-token-for-tests",
            "app_secret": WA_SECRET,
            "verify_token": "wa-verify-token-for-tests",
        },
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert r.status_code == 200, r.text
    return tenant_id


async def _owner(client: httpx.AsyncClient, orch_url: str, tenant_id: str) -> str:
    r = await client.post(
        f"{orch_url}/api/v1/tenants/{tenant_id}/users",
        json={**OWNER, "role": "owner"},
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"{orch_url}/api/v1/auth/login", json=OWNER)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def product_uuid(shop: Shop, external_id: int = AURORA_ID) -> str:
    return str(shop.rows("SELECT id FROM products WHERE external_id = %s", external_id)[0][0])
