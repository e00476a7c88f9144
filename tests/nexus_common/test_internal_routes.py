"""Every internal route of every service refuses a caller without the internal token, or with a
wrong one (401), before it does anything; only health checks and self-authenticating routes are
exempt. Routes are enumerated from the apps, so a new unprotected route fails here."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI, routing
from fastapi.routing import APIRoute

TOKEN = "test-internal-token-0123456789"
COMMON = {"internal_api_token": TOKEN, "nexus_env": "test", "log_level": "WARNING"}
# Routes that authenticate their callers themselves (a staff token), not with the internal token.
SELF_AUTHENTICATING = {("bff", "/events/stream")}


def orchestrator() -> FastAPI:
    from orchestrator.app import create_app
    from orchestrator.config import Settings

    return create_app(
        Settings(
            **COMMON,
            admin_token="test-admin-token-0123456789",
            encryption_key=Fernet.generate_key().decode(),
            postgres_dsn="postgresql://postgres@127.0.0.1:1/none",
        )
    )


def agent() -> FastAPI:
    from agent_service.app import create_app
    from agent_service.config import Settings

    return create_app(Settings(**COMMON))


def whatsapp() -> FastAPI:
    from whatsapp_service.app import create_app
    from whatsapp_service.config import Settings

    return create_app(Settings(**COMMON))


def tiendanube() -> FastAPI:
    from tiendanube_service.app import create_app
    from tiendanube_service.config import Settings

    return create_app(Settings(**COMMON))


def bff() -> FastAPI:
    from bff.app import create_app
    from bff.config import Settings

    return create_app(Settings(**COMMON))


SERVICES = {
    "orchestrator": orchestrator,
    "agent": agent,
    "whatsapp": whatsapp,
    "tiendanube": tiendanube,
    "bff": bff,
}


def internal_routes(service: str, app: FastAPI) -> list[tuple[str, str]]:
    out = []
    for ctx in routing.iter_route_contexts(app.routes):  # routers included at any depth
        path = ctx.path_format
        if not isinstance(ctx.original_route, APIRoute) or path.startswith("/health"):
            continue
        if (service, path) in SELF_AUTHENTICATING:
            continue
        # The orchestrator is public; its internal API is everything under /internal.
        if service == "orchestrator" and not path.startswith("/internal"):
            continue
        out.extend((m, path) for m in sorted(ctx.methods or ()) if m != "HEAD")
    if service != "orchestrator":  # a whole-service token: its API description is internal too
        out += [("GET", "/openapi.json"), ("GET", "/docs")]
    return out


@pytest.mark.parametrize("service", list(SERVICES))
async def test_every_internal_route_needs_the_internal_token(service: str) -> None:
    app = SERVICES[service]()
    routes = internal_routes(service, app)
    assert routes, f"{service}: no internal routes found"
    if service == "orchestrator":
        assert ("GET", "/internal/tenants/{tenant_id}/llm-keys") in routes
    failures: list[str] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        for method, template in routes:
            path = re.sub(r"\{(\w+)(:\w+)?\}", lambda _: str(uuid.uuid4()), template)
            kwargs: dict[str, Any] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            for headers in ({}, {"X-Internal-Token": "wrong-token-0123456789abcdef"}):
                r = await client.request(method, path, headers=headers, **kwargs)
                if r.status_code != 401:
                    failures.append(f"{service} {method} {template} {sorted(headers)} → {r.status_code}")
    assert failures == []
