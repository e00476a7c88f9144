"""Internal token, JSON errors, body cap, request ids on real service apps."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from nexus_common.app import create_service_app
from nexus_common.errors import BadRequest
from nexus_common.health import HealthRegistry
from pydantic import BaseModel

TOKEN = "test-internal-token-0123456789"


@pytest.fixture
def internal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERNAL_API_TOKEN", TOKEN)
    monkeypatch.setenv("NEXUS_ENV", "test")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


@pytest.mark.parametrize("module", ["agent_service", "whatsapp_service", "tiendanube_service", "bff"])
async def test_internal_services_require_the_token_everywhere_but_health(
    internal_env: None, module: str
) -> None:
    import importlib

    app = importlib.import_module(f"{module}.app").create_app()
    async with _client(app) as c:
        assert (await c.get("/health/live")).status_code == 200
        assert (await c.get("/health/ready")).status_code == 200
        missing = await c.get("/openapi.json")
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "unauthorized"
        wrong = await c.get("/openapi.json", headers={"X-Internal-Token": TOKEN[:-1] + "x"})
        assert wrong.status_code == 401
        ok = await c.get("/openapi.json", headers={"X-Internal-Token": TOKEN})
        assert ok.status_code == 200


class Item(BaseModel):
    name: str
    qty: int


def _demo_app() -> FastAPI:
    app = create_service_app(
        service="demo", version="t", health=HealthRegistry(), internal_token=None, max_body_bytes=1024
    )

    @app.post("/items")
    async def items(item: Item) -> dict[str, str]:
        if item.qty < 0:
            raise BadRequest("qty must not be negative", code="negative_qty")
        return {"name": item.name}

    return app


async def test_errors_are_json_with_request_id() -> None:
    async with _client(_demo_app()) as c:
        r = await c.post("/items", json={"name": "x", "qty": -1}, headers={"X-Request-ID": "req-12345678"})
        assert r.status_code == 400
        assert r.json() == {
            "error": {"code": "negative_qty", "message": "qty must not be negative"},
            "request_id": "req-12345678",
        }
        assert r.headers["x-request-id"] == "req-12345678"

        r = await c.post("/items", json={"name": "x", "qty": "many", "password": "p"})
        assert r.status_code == 422
        assert r.json()["error"]["code"] == "validation_error"
        assert r.json()["error"]["details"][0]["loc"] == ["body", "qty"]
        assert "many" not in r.text  # submitted values are not echoed

        r = await c.get("/nowhere", headers={"X-Request-ID": "bad id\r\nx"})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert len(r.headers["x-request-id"]) == 32  # an unsafe incoming id is replaced


async def test_body_over_the_cap_is_413_json() -> None:
    async with _client(_demo_app()) as c:
        r = await c.post(
            "/items", content=b"{" + b" " * 2000 + b"}", headers={"content-type": "application/json"}
        )
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "payload_too_large"


async def test_health_names_required_and_optional_failures() -> None:
    async def ok() -> None:
        return None

    async def boom() -> None:
        raise ConnectionError("refused")

    reg = HealthRegistry()
    reg.add("db", ok)
    reg.add("cache", boom, required=False)
    code, body = await reg.report()
    assert code == 200 and body["status"] == "degraded" and body["degraded"] == ["cache"]
    reg.add("queue", boom)
    code, body = await reg.report()
    assert code == 503 and body["down"] == ["queue"]
