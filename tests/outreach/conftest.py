"""Reaching-out tests run the real services on loopback: the pipeline stack (fake Graph,
whatsapp_service, an instant agent, a uvicorn orchestrator) and, for order updates and cart
recovery, the fake Tienda Nube behind a real tiendanube_service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fakes.meta_graph.templates import template
from fakes.tiendanube import FakeTiendanube, ThreadServer, add_store, create_app

from ..pipeline.conftest import (  # noqa: F401 - shared fixtures
    ACCESS_TOKEN,
    ADMIN,
    APP_SECRET,
    INTERNAL,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    Stack,
    stack,
    stack_factory,
)

TN_SECRET = "tn-app-secret-for-tests-0123"
STORE_ID = 777001
WABA_ID = "102290129340398"
BUYER_PHONE = "+54 9 11 2345-6789"  # as a store writes it
BUYER_WA = "5491123456789"  # the wa_id Nexus sends to

TEMPLATES = [
    template("pedido_pagado", "es_AR", body="Hola {{1}}, recibimos el pago de tu pedido {{2}} por {{3}}."),
    template("pedido_pagado", "pt_BR", body="Olá {{1}}, recebemos o pagamento do pedido {{2}} de {{3}}."),
    template("pedido_enviado", "es_AR", body="Hola {{1}}, tu pedido {{2}} por {{3}} va en camino: {{4}}"),
    template("pedido_cancelado", "es_AR", body="Hola {{1}}, cancelamos tu pedido {{2}}."),
    template(
        "carrito_abandonado",
        "es_AR",
        body="Hola {{1}}, tu carrito en {{2}} ({{3}}) te espera: {{4}}",
        category="MARKETING",
    ),
    template("promo_pendiente", "es_AR", status="PENDING"),
]


@dataclass
class World:
    stack: Stack
    fake: FakeTiendanube
    store_id: int

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN}", "X-Tenant-Id": self.stack.tenant_id}

    async def api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return await self.stack.client.request(
            method, f"{self.stack.orch_url}{path}", headers=self.admin, **kw
        )

    async def order_webhook(self, event: str, order_id: int) -> int:
        body, headers = self.fake.signed({"store_id": self.store_id, "event": event, "id": order_id})
        r = await self.stack.client.post(
            f"{self.stack.orch_url}/webhooks/tiendanube", content=body, headers=headers
        )
        return r.status_code

    def add_order(
        self, *, phone: str = BUYER_PHONE, name: str = "Ana Pérez", total: str = "5660.00", **extra: Any
    ) -> int:
        oid = self.fake.next_id()
        store = self.fake.stores[self.store_id]
        with self.fake.lock:
            store.orders[oid] = {
                "id": oid,
                "number": 1000 + len(store.orders),
                "status": "open",
                "payment_status": "paid",
                "shipping_status": "unshipped",
                "currency": "ARS",
                "total": total,
                "subtotal": total,
                "contact_email": "ana@example.com",
                "contact_name": name,
                "contact_phone": phone,
                "customer": {"id": 4242, "name": name, "email": "ana@example.com", "phone": phone},
                "products": [],
                "shipping_tracking_url": "https://track.example.com/AR123",
                "language": "es",
                "created_at": "2026-11-27T10:00:00+0000",
                **extra,
            }
        return oid

    def sent_templates(self, to: str = BUYER_WA) -> list[dict[str, Any]]:
        return [m["body"]["template"] for m in self.stack.sent_to(to) if m["type"] == "template"]


@pytest.fixture
def tn_fake() -> FakeTiendanube:
    fake = FakeTiendanube(client_secret=TN_SECRET, bucket_capacity=40, leak_per_s=20.0)
    add_store(fake, store_id=STORE_ID, name="Tienda Ana", products=3)
    fake.stores[STORE_ID].customers[4242] = {"id": 4242, "name": "Ana Pérez", "accepts_marketing": False}
    return fake


@pytest.fixture
def tn_servers(tn_fake: FakeTiendanube) -> Iterator[str]:
    from tiendanube_service.app import create_app as service_app
    from tiendanube_service.config import Settings

    with ThreadServer(create_app(tn_fake)) as fake_srv:
        settings = Settings(
            nexus_env="test",
            log_level="WARNING",
            internal_api_token=INTERNAL,
            tiendanube_api_url=f"{fake_srv.url}/v1",
            tiendanube_auth_url=f"{fake_srv.url}/apps/authorize/token",
        )
        with ThreadServer(service_app(settings)) as svc:
            yield svc.url


@pytest.fixture
def world_factory(
    stack_factory: Callable[..., contextlib.AbstractAsyncContextManager[Stack]],  # noqa: F811
    tn_fake: FakeTiendanube,
    tn_servers: str,
) -> Callable[..., contextlib.AbstractAsyncContextManager[World]]:
    @contextlib.asynccontextmanager
    async def factory(**env: str) -> AsyncIterator[World]:
        async with stack_factory(
            TIENDANUBE_SERVICE_URL=tn_servers,
            TIENDANUBE_CLIENT_SECRET=TN_SECRET,
            API_BASE_URL="http://testserver",
            **env,
        ) as st:
            w = World(st, tn_fake, STORE_ID)
            sa = {"Authorization": f"Bearer {ADMIN}"}
            r = await st.client.put(
                f"{st.orch_url}/api/v1/tenants/{st.tenant_id}/tiendanube",
                json={"store_id": STORE_ID, "access_token": tn_fake.token_for(STORE_ID)},
                headers=sa,
            )
            assert r.status_code == 200, r.text
            r = await st.client.put(
                f"{st.orch_url}/api/v1/tenants/{st.tenant_id}/channels/whatsapp",
                json={
                    "phone_number_id": PHONE_NUMBER_ID,
                    "access_token": ACCESS_TOKEN,
                    "app_secret": APP_SECRET,
                    "verify_token": VERIFY_TOKEN,
                    "waba_id": WABA_ID,
                },
                headers=sa,
            )
            assert r.status_code == 200, r.text
            st.graph.templates[WABA_ID] = [dict(t) for t in TEMPLATES]
            st.graph.phone_wabas[PHONE_NUMBER_ID] = WABA_ID
            r = await w.api("POST", "/api/v1/templates/sync")
            assert r.status_code == 200, r.text
            yield w

    return factory


@pytest.fixture
async def world(
    world_factory: Callable[..., contextlib.AbstractAsyncContextManager[World]],
) -> AsyncIterator[World]:
    async with world_factory() as w:
        yield w
