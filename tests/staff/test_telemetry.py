"""Telemetry: the audit log is sanitized at write time and pages stably under inserts."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from .conftest import bearer, maker, seed_tenant, token_for, unique

SECRETS = {
    "password": "hunter2-super-secret",
    "api_key": "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX",
    "note": "token Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig and card 4111 1111 1111 1111",
    "nested": {
        "client_secret": "tn-secret-123456",
        "items": [{"access_token": "EAAGm0PX4ZCpsBAKZA1234567890"}],
    },
    "customer": {
        "cpf": "123.456.789-09",
        "doc": "CPF 123.456.789-09, CUIT 20-12345678-9",
        "email": "ana.perez@mail.com",
    },
    "raw": "sk-ant-api03-abcdefghijklmnopqrstu paid with 5500005555555559",
}
LEAKS = [
    "hunter2",
    "ABCDEFGHIJKLMNOP",
    "eyJhbGci",
    "4111 1111 1111 1111",
    "tn-secret",
    "EAAGm0PX4",
    "123.456.789-09",
    "20-12345678-9",
    "ana.perez",
    "abcdefghijklmnopqrstu",
    "5500005555555559",
]


async def test_payloads_with_secrets_are_stored_masked(app: FastAPI, client: httpx.AsyncClient) -> None:
    from orchestrator.audit.service import record

    seed = await seed_tenant(app, unique("Tel"))
    async with maker(app)() as s, s.begin():
        await record(s, actor="test", action="probe.secrets", tenant_id=seed.id, payload=SECRETS)
    async with maker(app)() as s:
        stored = (
            await s.execute(
                text("SELECT payload::text FROM audit_log WHERE tenant_id = :t AND action = 'probe.secrets'"),
                {"t": seed.id},
            )
        ).scalar_one()
    for leak in LEAKS:
        assert leak not in stored, leak
    assert "1111" in stored and "5559" in stored  # last four kept for support
    r = await client.get(
        "/api/v1/telemetry/logs?action=probe.secrets", headers=bearer(await token_for(app, seed, "admin"))
    )
    assert r.status_code == 200 and all(leak not in r.text for leak in LEAKS)


async def test_filters_and_stable_cursor_under_inserts(app: FastAPI, client: httpx.AsyncClient) -> None:
    from orchestrator.audit.service import record

    seed = await seed_tenant(app, unique("Tel2"))
    async with maker(app)() as s:
        for i in range(7):
            async with s.begin():
                await record(
                    s,
                    actor=f"user:{i % 2}",
                    action="probe.page",
                    level="warning" if i % 3 == 0 else "info",
                    tenant_id=seed.id,
                    conversation_id=seed.conversation_id if i == 4 else None,
                    payload={"i": i},
                )
    admin = bearer(await token_for(app, seed, "admin"))
    viewer = bearer(await token_for(app, seed, "viewer"))
    assert (await client.get("/api/v1/telemetry/logs", headers=viewer)).status_code == 403

    async def page(cursor: str | None) -> dict:
        q = "/api/v1/telemetry/logs?action=probe.*&limit=3" + (f"&cursor={cursor}" if cursor else "")
        r = await client.get(q, headers=admin)
        assert r.status_code == 200, r.text
        return r.json()

    first = await page(None)
    assert [e["payload"]["i"] for e in first["items"]] == [6, 5, 4]
    # New entries arrive between pages: the next pages neither repeat nor skip anything.
    async with maker(app)() as s, s.begin():
        await record(s, actor="user:9", action="probe.page", tenant_id=seed.id, payload={"i": 99})
    second = await page(first["next_cursor"])
    third = await page(second["next_cursor"])
    assert [e["payload"]["i"] for e in second["items"] + third["items"]] == [3, 2, 1, 0]
    assert third["next_cursor"] is None

    def ids(r: httpx.Response) -> list[int]:
        return [e["payload"]["i"] for e in r.json()["items"]]

    r = await client.get("/api/v1/telemetry/logs?action=probe.page&level=warning", headers=admin)
    assert ids(r) == [6, 3, 0]
    r = await client.get("/api/v1/telemetry/logs?action=probe.page&actor=user:1", headers=admin)
    assert ids(r) == [5, 3, 1]
    r = await client.get(f"/api/v1/telemetry/logs?conversation_id={seed.conversation_id}", headers=admin)
    assert ids(r) == [4]
    assert (await client.get("/api/v1/telemetry/logs?cursor=garbage", headers=admin)).status_code == 400
