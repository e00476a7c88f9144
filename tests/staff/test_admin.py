"""The admin gateway: whitelist, least role per action, validated bodies, everything audited."""

from __future__ import annotations

import uuid

import httpx
from cryptography.fernet import Fernet
from fastapi import FastAPI
from nexus_common.crypto import Crypto
from orchestrator.credentials import service as credentials
from sqlalchemy import select

from .conftest import ADMIN_TOKEN, bearer, maker, seed_tenant, token_for, unique


async def _audit(app: FastAPI, tenant_id: object) -> list[dict]:
    from orchestrator.models import AuditLog

    async with maker(app)() as s:
        rows = (
            await s.scalars(
                select(AuditLog)
                .where(AuditLog.tenant_id == tenant_id, AuditLog.action == "admin.action")
                .order_by(AuditLog.created_at)
            )
        ).all()
    return [{"actor": r.actor, "level": r.level, **r.payload} for r in rows]


async def test_unknown_action_is_404_and_audited(app: FastAPI, client: httpx.AsyncClient) -> None:
    seed = await seed_tenant(app, unique("Gw"))
    owner = bearer(await token_for(app, seed, "owner"))
    r = await client.post("/api/v1/admin/actions/drop_database", json={}, headers=owner)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    log = await _audit(app, seed.id)
    assert log == [
        {
            "actor": f"user:{seed.users['owner']}",
            "level": "warning",
            "action": "drop_database",
            "outcome": "unknown_action",
        }
    ]


async def _ciphertexts(app: FastAPI) -> dict[tuple[uuid.UUID, str], bytes]:
    from orchestrator.models import Credential

    async with maker(app)() as s:
        rows = (await s.scalars(select(Credential))).all()
    return {(c.tenant_id, c.kind): bytes(c.ciphertext) for c in rows}


async def test_roles_bodies_and_outcomes_are_audited(app: FastAPI, client: httpx.AsyncClient) -> None:
    seed = await seed_tenant(app, unique("Gw2"))
    agent = bearer(await token_for(app, seed, "agent"))
    admin = bearer(await token_for(app, seed, "admin"))
    cid = str(seed.conversation_id)
    # agent may not clear the cache (admin); forbidden and audited.
    assert (await client.post("/api/v1/admin/actions/clear_cache", headers=agent)).status_code == 403
    # invalid body → 422, audited
    r = await client.post(
        "/api/v1/admin/actions/trigger_handoff", json={"conversation_id": "nope"}, headers=agent
    )
    assert r.status_code == 422
    r = await client.post("/api/v1/admin/actions/clear_cache", json={"unexpected": 1}, headers=admin)
    assert r.status_code == 422
    r = await client.post(
        "/api/v1/admin/actions/trigger_handoff", json={"conversation_id": cid, "reason": "vip"}, headers=agent
    )
    assert r.status_code == 200 and r.json()["result"]["handed_off"] is True
    r = await client.post("/api/v1/admin/actions/resume_ai", json={"conversation_id": cid}, headers=agent)
    assert r.status_code == 200 and r.json()["result"]["resumed"] is True
    r = await client.post("/api/v1/admin/actions/clear_cache", headers=admin)
    assert r.status_code == 200 and "deleted_keys" in r.json()["result"]
    # resync_catalog on a store not connected to Tienda Nube: a clear 409, nothing queued.
    r = await client.post("/api/v1/admin/actions/resync_catalog", headers=admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "tiendanube_not_connected"
    # rotate_keys re-encrypts every tenant's credentials: platform super-admin only.
    owner = bearer(await token_for(app, seed, "owner"))
    secret = "sk-rotate-me-0123456789abcdef"
    put = await client.put("/api/v1/credentials/openai_api_key", json={"value": secret}, headers=owner)
    assert put.status_code == 200
    before = await _ciphertexts(app)
    assert (await client.post("/api/v1/admin/actions/rotate_keys", headers=owner)).status_code == 403
    assert await _ciphertexts(app) == before  # refused: nothing touched
    # The operator put a NEW key first (ENCRYPTION_KEY=NEW,OLD) and rotates.
    settings = app.state.settings
    old_key = settings.encryption_key.get_secret_value()
    new_key = Fernet.generate_key().decode()
    try:
        settings.__dict__["crypto"] = Crypto(f"{new_key},{old_key}")
        r = await client.post("/api/v1/admin/actions/rotate_keys", headers=bearer(ADMIN_TOKEN, seed.id))
        after = await _ciphertexts(app)
        # Every stored credential (all tenants') was re-encrypted, and NEW alone opens it.
        assert r.status_code == 200 and r.json()["result"]["re_encrypted"] == len(before) >= 1
        assert set(after) == set(before) and all(after[k] != before[k] for k in before)
        mine = next(k for k in after if k[0] == seed.id and k[1] == "openai_api_key")
        assert Crypto(new_key).decrypt(after[mine]) == secret
    finally:  # back to the session's key for the other tests sharing this database
        settings.__dict__["crypto"] = Crypto(f"{old_key},{new_key}")
        async with maker(app)() as s, s.begin():
            await credentials.rotate_all(s, settings.crypto)
        settings.__dict__.pop("crypto")
    outcomes = [(e["action"], e["outcome"]) for e in await _audit(app, seed.id)]
    assert outcomes[:6] == [
        ("clear_cache", "forbidden"),
        ("trigger_handoff", "invalid_body"),
        ("clear_cache", "invalid_body"),
        ("trigger_handoff", "ok"),
        ("resume_ai", "ok"),
        ("clear_cache", "ok"),
    ]
    assert outcomes[6][0] == "resync_catalog"
    assert outcomes[7:] == [("rotate_keys", "forbidden"), ("rotate_keys", "ok")]


async def test_send_transcript_action(app: FastAPI, client: httpx.AsyncClient, smtp: tuple) -> None:
    inbox, _ = smtp
    seed = await seed_tenant(app, unique("Gw3"))
    to = seed.emails["admin"]
    r = await client.post(
        "/api/v1/admin/actions/send_transcript",
        json={"conversation_id": str(seed.conversation_id), "to": to},
        headers=bearer(await token_for(app, seed, "agent")),
    )
    assert r.status_code == 200
    await inbox.wait_for(to)
