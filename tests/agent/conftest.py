"""A real stack on loopback: orchestrator (uvicorn), fake OpenAI and Anthropic servers, an orders
stand-in in front of the orchestrator, and agent_service in-process calling all of them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from fakes.anthropic import create_app as fake_anthropic
from fakes.openai import create_app as fake_openai
from tests.conftest import serve
from tests.retrieval.helpers import add_product, add_tenant

INTERNAL = {"X-Internal-Token": "test-internal-token-0123456789"}
PLATFORM_OPENAI_KEY = "sk-platformopenai0123456789abcdef"
PLATFORM_ANTHROPIC_KEY = "sk-ant-platform0123456789abcdef"


def orders_standin(orchestrator_url: str, orders: dict[str, list[dict[str, Any]]]) -> FastAPI:
    """`GET /internal/customers/{id}/orders` as the Tienda Nube branch defines it (only that
    customer's orders, filtered by number); everything else is passed to the real orchestrator."""
    app = FastAPI()

    @app.get("/internal/customers/{customer_id}/orders")
    async def customer_orders(customer_id: str, tenant_id: str, number: str | None = None) -> dict[str, Any]:
        mine = [o for o in orders.get(customer_id, []) if number is None or str(o["number"]) == number]
        return {"items": mine, "next_cursor": None}

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def proxy(path: str, request: Request) -> Response:
        async with httpx.AsyncClient(base_url=orchestrator_url) as c:
            r = await c.request(
                request.method,
                f"/{path}",
                params=request.query_params,
                content=await request.body(),
                headers={
                    k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
                },
            )
        return Response(r.content, status_code=r.status_code, media_type=r.headers.get("content-type"))

    return app


@dataclass
class Stack:
    orch: FastAPI
    agent: httpx.AsyncClient
    openai: FastAPI
    anthropic: FastAPI
    tenant_id: uuid.UUID
    customer_id: uuid.UUID
    conversation_id: uuid.UUID
    products: dict[str, uuid.UUID]
    orders: dict[str, list[dict[str, Any]]]

    async def new_run(self) -> uuid.UUID:
        from orchestrator.models import AgentRun

        async with self.orch.state.sessionmaker() as s, s.begin():
            run = AgentRun(tenant_id=self.tenant_id, conversation_id=self.conversation_id)
            s.add(run)
            await s.flush()
            return run.id

    async def turn(self, *texts: str, **extra: Any) -> dict[str, Any]:
        run_id = await self.new_run()
        body = {
            "run_id": str(run_id),
            "tenant": {
                "id": str(self.tenant_id),
                "name": "Moda Sur",
                "language": "es",
                "settings": extra.pop("settings", {"shipping": "Envío gratis desde $ 50000"}),
            },
            "conversation_id": str(self.conversation_id),
            "channel": "whatsapp",
            "customer": {"id": str(self.customer_id), "name": "Ana"},
            "new_messages": [{"role": "customer", "text": t} for t in texts],
            **extra,
        }
        r = await self.agent.post("/v1/turns", json=body, headers=INTERNAL, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def script(self, fake: FastAPI, *responses: dict[str, Any]) -> None:
        fake.state.script.responses.extend(responses)


@pytest.fixture
async def stack(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Stack]:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEXUS_WORKER_ENABLED", "false")
    oa, an = fake_openai(), fake_anthropic()
    async with contextlib.AsyncExitStack() as es:
        oa_url = await es.enter_async_context(serve(oa, lifespan="off"))
        an_url = await es.enter_async_context(serve(an, lifespan="off"))
        monkeypatch.setenv("OPENAI_BASE_URL", f"{oa_url}/v1")
        from orchestrator.app import create_app as orch_app
        from orchestrator.catalog import hooks
        from orchestrator.models import ChatConversation, Customer

        orch = orch_app()
        orch_url = await es.enter_async_context(serve(orch))
        maker = orch.state.sessionmaker
        tid = await add_tenant(maker, "Moda Sur")
        products = {
            "remera": await add_product(
                maker,
                tid,
                "Remera básica de algodón negra",
                "8999.00",
                skus=["REM-001"],
                categories=["Remeras"],
            ),
            "zapas": await add_product(
                maker,
                tid,
                "Zapatillas running Veloz",
                "54999.00",
                stock=2,
                skus=["ZAP-042"],
                categories=["Calzado"],
            ),
            "pileta": await add_product(
                maker,
                tid,
                "Pileta estructural 3000 litros",
                "120000.00",
                skus=["PIL-3000"],
                categories=["Verano"],
            ),
        }
        await hooks.products_changed(tid, list(products.values()), [])
        async with maker() as s, s.begin():
            c = Customer(tenant_id=tid, name="Ana")
            other = Customer(tenant_id=tid, name="Beto")
            s.add_all([c, other])
            await s.flush()
            conv = ChatConversation(tenant_id=tid, customer_id=c.id, channel="whatsapp")
            s.add(conv)
            await s.flush()
            cid, other_id, conv_id = c.id, other.id, conv.id
        orders = {
            str(cid): [
                {
                    "number": 1001,
                    "customer_id": str(cid),
                    "status": "open",
                    "payment_status": "paid",
                    "shipping_status": "shipped",
                    "total": "8999.00",
                    "currency": "ARS",
                }
            ],
            str(other_id): [
                {
                    "number": 2002,
                    "customer_id": str(other_id),
                    "status": "open",
                    "payment_status": "paid",
                    "shipping_status": "unshipped",
                    "total": "54999.00",
                    "shipping_tracking_url": "https://track.example/secret-2002",
                }
            ],
        }
        standin_url = await es.enter_async_context(serve(orders_standin(orch_url, orders), lifespan="off"))

        from agent_service.app import create_app as agent_app
        from agent_service.config import Settings as AgentSettings

        settings = AgentSettings(
            nexus_env="test",
            internal_api_token=env["INTERNAL_API_TOKEN"],
            orchestrator_url=standin_url,
            openai_api_key=PLATFORM_OPENAI_KEY,
            openai_base_url=f"{oa_url}/v1",
            anthropic_api_key=PLATFORM_ANTHROPIC_KEY,
            anthropic_base_url=an_url,
            llm_timeout_seconds=3.0,
            log_level="INFO",
        )
        agent = agent_app(settings)
        async with agent.router.lifespan_context(agent):
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=agent), base_url="http://agent")
            async with client:
                yield Stack(orch, client, oa, an, tid, cid, conv_id, products, orders)
