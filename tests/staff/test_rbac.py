"""Every /api/v1 route declares its least role; every role is checked against every route; another
tenant's objects are 404."""

from __future__ import annotations

import re
import uuid

import httpx
from fastapi import APIRouter, FastAPI
from orchestrator.auth import Agent

from .conftest import ADMIN_TOKEN, bearer, seed_tenant, token_for, unique

CALLERS = ("anonymous", "viewer", "agent", "admin", "owner", "super_admin")
RANK = {"viewer": 1, "agent": 2, "admin": 3, "owner": 4, "super_admin": 5}


def test_every_api_route_declares_a_role(app: FastAPI) -> None:
    from orchestrator.auth import route_table

    api = [e for e in route_table(app) if e.path.startswith("/api/v1")]
    assert len(api) >= 30
    undeclared = [f"{sorted(e.methods)} {e.path}" for e in api if e.role is None]
    assert undeclared == []


def test_the_route_table_check_catches_an_undeclared_route() -> None:
    from orchestrator.auth import route_table

    probe = FastAPI()
    router = APIRouter(prefix="/api/v1/probe")

    @router.get("/open")
    async def undeclared() -> dict[str, str]:
        return {}

    @router.get("/closed")
    async def declared(p: Agent) -> dict[str, str]:
        return {}

    probe.include_router(router)
    roles = {e.path: e.role for e in route_table(probe)}
    assert roles == {"/api/v1/probe/open": None, "/api/v1/probe/closed": "agent"}


def _concrete(path: str, tenant_id: uuid.UUID) -> str:
    fills = {"tenant_id": str(tenant_id), "action": "no_such_action", "kind": "probe_kind"}
    return re.sub(r"\{(\w+)\}", lambda m: fills.get(m.group(1), str(uuid.uuid4())), path)


async def test_every_role_against_every_route(app: FastAPI, client: httpx.AsyncClient) -> None:
    from orchestrator.auth import route_table

    seed = await seed_tenant(app, unique("Matrix"))
    failures: list[str] = []
    checked = 0
    for entry in route_table(app):
        if not entry.path.startswith("/api/v1"):
            continue
        for method in sorted(entry.methods):
            path = _concrete(entry.path, seed.id)
            for caller in CALLERS:
                if entry.role == "public" and caller != "anonymous":
                    continue
                headers: dict[str, str] = {}
                if caller == "super_admin":
                    headers = bearer(ADMIN_TOKEN, seed.id)
                elif caller != "anonymous":
                    headers = bearer(await token_for(app, seed, caller))
                kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
                r = await client.request(method, path, headers=headers, **kwargs)
                checked += 1
                if entry.role == "public":
                    expected_ok = True
                elif caller == "anonymous":
                    expected_ok = False
                    if r.status_code != 401:
                        failures.append(f"{method} {entry.path} anonymous → {r.status_code}, want 401")
                    continue
                else:
                    expected_ok = RANK[caller] >= RANK[entry.role]  # type: ignore[index]
                denied = r.status_code in (401, 403)
                if expected_ok == denied:
                    failures.append(
                        f"{method} {entry.path} as {caller} (needs {entry.role}) → {r.status_code}"
                    )
    assert checked > 100
    assert failures == []


async def test_other_tenants_objects_are_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    a = await seed_tenant(app, unique("Left"))
    b = await seed_tenant(app, unique("Right"))
    owner_b = bearer(await token_for(app, b, "owner"))
    conv = a.conversation_id
    assert (await client.get(f"/api/v1/conversations/{conv}", headers=owner_b)).status_code == 404
    for action in ("pause", "resume"):
        assert (
            await client.post(f"/api/v1/conversations/{conv}/{action}", headers=owner_b)
        ).status_code == 404
    r = await client.post(f"/api/v1/conversations/{conv}/messages", json={"text": "hola"}, headers=owner_b)
    assert r.status_code == 404
    r = await client.post(
        f"/api/v1/conversations/{conv}/transcript", json={"to": "x@y.example"}, headers=owner_b
    )
    assert r.status_code == 404
    r = await client.post(
        "/api/v1/admin/actions/trigger_handoff", json={"conversation_id": str(conv)}, headers=owner_b
    )
    assert r.status_code == 404
    assert (
        await client.patch(f"/api/v1/users/{a.users['agent']}", json={"role": "owner"}, headers=owner_b)
    ).status_code == 404
    assert (await client.delete(f"/api/v1/users/{a.users['agent']}", headers=owner_b)).status_code == 404
    assert (
        await client.patch(f"/api/v1/channels/{a.channel_id}", json={"enabled": False}, headers=owner_b)
    ).status_code == 404
    listed = (await client.get("/api/v1/conversations", headers=owner_b)).json()["items"]
    assert [c["id"] for c in listed] == [str(b.conversation_id)]
    users = (await client.get("/api/v1/users", headers=owner_b)).json()["items"]
    assert {u["tenant_id"] for u in users} == {str(b.id)}
    # Nothing of A changed.
    owner_a = bearer(await token_for(app, a, "owner"))
    detail = (await client.get(f"/api/v1/conversations/{conv}", headers=owner_a)).json()
    assert detail["ai_paused"] is False and len(detail["messages"]) == 2
    assert detail["customer"]["phone_number"] == "+54*******4444"


async def test_credentials_are_write_only_and_masked(app: FastAPI, client: httpx.AsyncClient) -> None:
    seed = await seed_tenant(app, unique("Creds"))
    owner = bearer(await token_for(app, seed, "owner"))
    secret = "sk-live-abcdefghijklmnop1234"
    r = await client.put("/api/v1/credentials/openai_api_key", json={"value": secret}, headers=owner)
    assert r.status_code == 200 and r.json()["value"] == "••••1234"
    listed = await client.get("/api/v1/credentials", headers=owner)
    assert secret not in listed.text and listed.json()["items"][0]["value"] == "••••1234"
    admin = bearer(await token_for(app, seed, "admin"))
    assert (await client.get("/api/v1/credentials", headers=admin)).status_code == 403
    assert (
        await client.put("/api/v1/credentials/BAD KIND", json={"value": "x"}, headers=owner)
    ).status_code == 422
    assert (await client.delete("/api/v1/credentials/openai_api_key", headers=owner)).status_code == 204
    assert (await client.delete("/api/v1/credentials/openai_api_key", headers=owner)).status_code == 404


async def test_agent_settings_and_last_owner(app: FastAPI, client: httpx.AsyncClient) -> None:
    seed = await seed_tenant(app, unique("Prefs"))
    admin = bearer(await token_for(app, seed, "admin"))
    body = {
        "persona": "Sofía, amable y breve",
        "language": "pt",
        "timezone": "America/Sao_Paulo",
        "business_hours": [{"day": "mon", "open": "09:00", "close": "18:00"}],
        "handoff_emails": ["equipo@prefs.example"],
        "handoff_timeout_minutes": 30,
    }
    r = await client.put("/api/v1/settings/agent", json=body, headers=admin)
    assert r.status_code == 200, r.text
    got = (
        await client.get("/api/v1/settings/agent", headers=bearer(await token_for(app, seed, "viewer")))
    ).json()
    assert got == body
    bad = await client.put("/api/v1/settings/agent", json={**body, "timezone": "Mars/Olympus"}, headers=admin)
    assert bad.status_code == 422
    owner = bearer(await token_for(app, seed, "owner"))
    r = await client.patch(f"/api/v1/users/{seed.users['owner']}", json={"role": "admin"}, headers=owner)
    assert r.status_code == 409
    r = await client.patch(f"/api/v1/users/{seed.users['viewer']}", json={"role": "agent"}, headers=owner)
    assert r.status_code == 200 and r.json()["role"] == "agent"
