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


# The least role of every /api/v1 route, written by hand and reviewed like code: the matrix below
# checks the running app against THIS table, not against the code's own declarations, so a route
# declared too low (or too high) fails. A new route fails until it is added here.
EXPECTED_ROLES: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/admin/actions/{action}"): "viewer",  # each action's own role: ACTION_ROLES
    ("GET", "/api/v1/analytics/overview"): "viewer",
    ("POST", "/api/v1/auth/accept-invite"): "public",
    ("POST", "/api/v1/auth/login"): "public",
    ("POST", "/api/v1/auth/logout"): "viewer",
    ("GET", "/api/v1/auth/me"): "viewer",
    ("POST", "/api/v1/auth/password-reset"): "public",
    ("POST", "/api/v1/auth/password-reset/confirm"): "public",
    ("POST", "/api/v1/auth/refresh"): "public",
    ("GET", "/api/v1/channels"): "viewer",
    ("PATCH", "/api/v1/channels/{channel_id}"): "admin",
    ("GET", "/api/v1/conversations"): "viewer",
    ("GET", "/api/v1/conversations/{conversation_id}"): "viewer",
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): "agent",
    ("POST", "/api/v1/conversations/{conversation_id}/pause"): "agent",
    ("POST", "/api/v1/conversations/{conversation_id}/resume"): "agent",
    ("POST", "/api/v1/conversations/{conversation_id}/transcript"): "agent",
    ("GET", "/api/v1/credentials"): "owner",
    ("DELETE", "/api/v1/credentials/{kind}"): "owner",
    ("PUT", "/api/v1/credentials/{kind}"): "owner",
    ("GET", "/api/v1/customers/{customer_id}"): "viewer",
    ("GET", "/api/v1/playground/identity"): "agent",
    ("POST", "/api/v1/playground/messages"): "agent",
    ("GET", "/api/v1/products/search"): "viewer",
    ("GET", "/api/v1/settings/agent"): "viewer",
    ("PUT", "/api/v1/settings/agent"): "admin",
    ("GET", "/api/v1/settings/synonyms"): "viewer",
    ("PUT", "/api/v1/settings/synonyms"): "admin",
    ("GET", "/api/v1/settings/transcript-domains"): "admin",
    ("PUT", "/api/v1/settings/transcript-domains"): "owner",
    ("GET", "/api/v1/telemetry/logs"): "admin",
    ("GET", "/api/v1/tenant"): "viewer",
    ("PATCH", "/api/v1/tenant"): "owner",
    ("GET", "/api/v1/tenants"): "super_admin",
    ("POST", "/api/v1/tenants"): "super_admin",
    ("PATCH", "/api/v1/tenants/{tenant_id}"): "super_admin",
    ("PUT", "/api/v1/tenants/{tenant_id}/channels/meta"): "super_admin",
    ("PUT", "/api/v1/tenants/{tenant_id}/channels/whatsapp"): "super_admin",
    ("PUT", "/api/v1/tenants/{tenant_id}/tiendanube"): "super_admin",
    ("POST", "/api/v1/tenants/{tenant_id}/users"): "super_admin",
    ("GET", "/api/v1/users"): "admin",
    ("POST", "/api/v1/users/invite"): "owner",
    ("DELETE", "/api/v1/users/{user_id}"): "owner",
    ("PATCH", "/api/v1/users/{user_id}"): "owner",
    # Issues 12-15 (reaching out, campaigns, sales), added at merge: their authors review these.
    ("GET", "/api/v1/analytics/notifications"): "viewer",
    ("GET", "/api/v1/analytics/revenue"): "viewer",
    ("POST", "/api/v1/audiences/preview"): "agent",
    ("GET", "/api/v1/campaigns"): "viewer",
    ("POST", "/api/v1/campaigns"): "admin",
    ("GET", "/api/v1/campaigns/{campaign_id}"): "viewer",
    ("PATCH", "/api/v1/campaigns/{campaign_id}"): "admin",
    ("POST", "/api/v1/campaigns/{campaign_id}/cancel"): "admin",
    ("POST", "/api/v1/campaigns/{campaign_id}/pause"): "admin",
    ("GET", "/api/v1/campaigns/{campaign_id}/plan"): "viewer",
    ("GET", "/api/v1/campaigns/{campaign_id}/report"): "viewer",
    ("POST", "/api/v1/campaigns/{campaign_id}/resume"): "admin",
    ("POST", "/api/v1/campaigns/{campaign_id}/start"): "admin",
    ("POST", "/api/v1/campaigns/{campaign_id}/test"): "admin",
    ("GET", "/api/v1/conversations/{conversation_id}/cart"): "viewer",
    ("PUT", "/api/v1/conversations/{conversation_id}/cart"): "agent",
    ("POST", "/api/v1/conversations/{conversation_id}/checkout"): "agent",
    ("POST", "/api/v1/customers/import"): "admin",
    ("PUT", "/api/v1/customers/{customer_id}/consent"): "agent",
    ("PUT", "/api/v1/customers/{customer_id}/tags"): "agent",
    ("GET", "/api/v1/settings/coupons"): "viewer",
    ("PUT", "/api/v1/settings/coupons"): "owner",
    ("GET", "/api/v1/settings/notifications"): "viewer",
    ("PUT", "/api/v1/settings/notifications"): "admin",
    ("GET", "/api/v1/settings/sending"): "viewer",
    ("PUT", "/api/v1/settings/sending"): "owner",
    ("GET", "/api/v1/templates"): "viewer",
    ("POST", "/api/v1/templates/sync"): "admin",
}
# `POST /api/v1/admin/actions/{action}`: the least role of each action, by hand as well.
ACTION_ROLES: dict[str, str] = {
    "clear_cache": "admin",
    "trigger_handoff": "agent",
    "resume_ai": "agent",
    "resync_catalog": "admin",
    "rotate_keys": "super_admin",
    "send_transcript": "agent",
    "poll_checkouts": "admin",  # issue 15
}


def test_the_app_has_exactly_the_routes_of_the_hand_written_table(app: FastAPI) -> None:
    from orchestrator.admin.endpoints import ACTIONS
    from orchestrator.auth import route_table

    live = {(m, e.path): e.role for e in route_table(app) if e.path.startswith("/api/v1") for m in e.methods}
    assert sorted(set(live) - set(EXPECTED_ROLES)) == [], "new routes: add them to EXPECTED_ROLES"
    assert sorted(set(EXPECTED_ROLES) - set(live)) == [], "routes gone: remove them from EXPECTED_ROLES"
    assert set(ACTIONS) == set(ACTION_ROLES)


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


async def _call(
    app: FastAPI, client: httpx.AsyncClient, seed: object, caller: str, method: str, path: str, body: object
) -> httpx.Response:
    headers: dict[str, str] = {}
    if caller == "super_admin":
        headers = bearer(ADMIN_TOKEN, seed.id)  # type: ignore[attr-defined]
    elif caller != "anonymous":
        headers = bearer(await token_for(app, seed, caller))  # type: ignore[arg-type]
    kwargs = {"json": body} if method in ("POST", "PUT", "PATCH") else {}
    return await client.request(method, path, headers=headers, **kwargs)


def _verdict(role: str, caller: str, status: int) -> str | None:
    """What is wrong with `status` for `caller` on a route needing `role` (None: right)."""
    if role == "public":
        return None if status not in (401, 403) else "public route refused"
    if caller == "anonymous":
        return None if status == 401 else "want 401"
    allowed = RANK[caller] >= RANK[role]
    denied = status in (401, 403)
    return None if allowed != denied else ("refused" if allowed else "allowed")


async def test_every_role_against_every_route(app: FastAPI, client: httpx.AsyncClient) -> None:
    seed = await seed_tenant(app, unique("Matrix"))
    failures: list[str] = []
    checked = 0
    for (method, template), role in sorted(EXPECTED_ROLES.items()):
        path = _concrete(template, seed.id)
        for caller in CALLERS:
            if role == "public" and caller != "anonymous":
                continue
            r = await _call(app, client, seed, caller, method, path, {})
            checked += 1
            if problem := _verdict(role, caller, r.status_code):
                failures.append(
                    f"{method} {template} as {caller} (needs {role}) → {r.status_code}: {problem}"
                )
    for action, role in sorted(ACTION_ROLES.items()):
        for caller in CALLERS:
            # An empty body: allowed callers get 422 (validation) or a result, denied ones 401/403.
            r = await _call(app, client, seed, caller, "POST", f"/api/v1/admin/actions/{action}", {})
            checked += 1
            if problem := _verdict(role, caller, r.status_code):
                failures.append(f"action {action} as {caller} (needs {role}) → {r.status_code}: {problem}")
    assert checked > 200
    assert failures == []


def test_the_matrix_catches_a_route_declared_too_low() -> None:
    # The verdict itself: an owner-only route that let an agent through is reported.
    assert _verdict("owner", "agent", 200) == "allowed"
    assert _verdict("owner", "agent", 403) is None
    assert _verdict("agent", "owner", 403) == "refused"
    assert _verdict("viewer", "anonymous", 200) == "want 401"


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


async def test_lists_and_details_show_only_the_callers_tenant(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Channels, credentials, telemetry, synonyms, settings, customers, analytics: B never sees A."""
    a = await seed_tenant(app, unique("Own"))
    b = await seed_tenant(app, unique("Other"))
    owner_a = bearer(await token_for(app, a, "owner"))
    owner_b = bearer(await token_for(app, b, "owner"))
    # A has data of every kind, marked so it can be recognised anywhere.
    marker = f"mark{a.id.hex[:8]}"
    assert (
        await client.put(
            "/api/v1/credentials/openai_api_key", json={"value": f"sk-{marker}-qwxz"}, headers=owner_a
        )
    ).status_code == 200
    assert (
        await client.put(
            "/api/v1/settings/synonyms", json={"groups": [[marker, f"{marker}x"]]}, headers=owner_a
        )
    ).status_code == 200
    assert (
        await client.put(
            "/api/v1/settings/transcript-domains", json={"domains": [f"{marker}.example"]}, headers=owner_a
        )
    ).status_code == 200

    for path in (
        "/api/v1/channels",
        "/api/v1/credentials",
        "/api/v1/telemetry/logs",
        "/api/v1/settings/synonyms",
        "/api/v1/settings/agent",
        "/api/v1/settings/transcript-domains",
        "/api/v1/users",
        "/api/v1/conversations",
        "/api/v1/tenant",
        "/api/v1/playground/identity",
    ):
        mine = await client.get(path, headers=owner_a)
        theirs = await client.get(path, headers=owner_b)
        assert mine.status_code == theirs.status_code == 200, (path, mine.status_code, theirs.status_code)
        for secret_of_a in (str(a.id), str(a.channel_id), str(a.conversation_id), marker, "qwxz"):
            assert secret_of_a not in theirs.text, (path, secret_of_a)
    # A sees its own (the check above is not vacuous).
    assert str(a.channel_id) in (await client.get("/api/v1/channels", headers=owner_a)).text
    assert marker in (await client.get("/api/v1/settings/synonyms", headers=owner_a)).text
    assert "qwxz" in (await client.get("/api/v1/credentials", headers=owner_a)).text
    assert marker in (await client.get("/api/v1/telemetry/logs", headers=owner_a)).text
    # Details of A's objects are 404 for B.
    assert (await client.get(f"/api/v1/customers/{a.customer_id}", headers=owner_b)).status_code == 404
    assert (
        await client.get(f"/api/v1/conversations/{a.conversation_id}", headers=owner_b)
    ).status_code == 404
    assert (await client.delete("/api/v1/credentials/openai_api_key", headers=owner_b)).status_code == 404
    assert "qwxz" in (await client.get("/api/v1/credentials", headers=owner_a)).text  # still A's
