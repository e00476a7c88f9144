"""In production: no API docs unless enabled, and readiness names what is down without the
exception text (which can carry hosts, paths, SQL)."""

from __future__ import annotations

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI


def orchestrator(env: str, **extra: object) -> FastAPI:
    from orchestrator.app import create_app
    from orchestrator.config import Settings

    return create_app(
        Settings(
            nexus_env=env,
            log_level="WARNING",
            internal_api_token="an-internal-token-that-is-real-0123",
            admin_token="an-admin-token-that-is-real-0123",
            encryption_key=Fernet.generate_key().decode(),
            # Nothing listens there: the readiness check fails with a connection error.
            postgres_dsn="postgresql://nexus:pw@127.0.0.1:1/nexus",
            **extra,
        )
    )


async def get(app: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o") as c:
        return await c.get(path)


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
async def test_docs_are_off_in_production_unless_enabled(path: str) -> None:
    assert (await get(orchestrator("production"), path)).status_code == 404
    assert (await get(orchestrator("production", api_docs_enabled=True), path)).status_code == 200
    assert (await get(orchestrator("development"), path)).status_code == 200


async def test_readiness_in_production_names_the_check_without_exception_text() -> None:
    r = await get(orchestrator("production"), "/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert "postgres" in body["down"] and body["checks"]["postgres"] == {"ok": False, "required": True}
    assert "127.0.0.1" not in r.text and "Error" not in r.text and "refused" not in r.text.lower()
    # Outside production (and in the log) the reason is there for whoever runs it.
    dev = await get(orchestrator("development"), "/health/ready")
    assert "error" in dev.json()["checks"]["postgres"]
