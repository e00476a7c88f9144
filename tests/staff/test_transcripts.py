"""Transcript e-mails: only to the store's staff, the customer or an owner-approved domain; limited
per user and tenant per hour; every send and every refusal audited. Mail through real SMTP."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from .conftest import Inbox, bearer, maker, seed_tenant, token_for, unique


async def audit_rows(app: FastAPI, tenant_id: uuid.UUID, action: str) -> list[dict]:
    from orchestrator.models import AuditLog

    async with maker(app)() as s:
        rows = await s.scalars(
            select(AuditLog).where(AuditLog.tenant_id == tenant_id, AuditLog.action == action)
        )
        return [{"actor": r.actor, **r.payload} for r in rows]


async def test_recipients_are_staff_customer_or_approved_domains(
    app: FastAPI, client: httpx.AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    from orchestrator.models import Customer

    inbox, _ = smtp
    seed = await seed_tenant(app, unique("Relay"))
    agent = bearer(await token_for(app, seed, "agent"))
    owner = bearer(await token_for(app, seed, "owner"))
    url = f"/api/v1/conversations/{seed.conversation_id}/transcript"
    stranger = f"attacker-{seed.id}@evil.example"

    for path, body in (
        (url, {"to": stranger}),
        (
            "/api/v1/admin/actions/send_transcript",
            {"conversation_id": str(seed.conversation_id), "to": stranger},
        ),
    ):
        r = await client.post(path, json=body, headers=agent)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "recipient_not_allowed"

    customer_mail = f"ana-{seed.id}@cliente.example"
    async with maker(app)() as s, s.begin():
        await s.execute(update(Customer).where(Customer.id == seed.customer_id).values(email=customer_mail))
    team = next(iter((await client.get("/api/v1/settings/agent", headers=owner)).json()["handoff_emails"]))
    for allowed in (seed.emails["viewer"], customer_mail, team):
        assert (await client.post(url, json={"to": allowed}, headers=agent)).status_code == 202, allowed

    # A domain is allowed once the owner approves it (an admin may read but not widen the list).
    partner = f"contador-{seed.id}@estudio-contable.example"
    assert (await client.post(url, json={"to": partner}, headers=agent)).status_code == 403
    admin = bearer(await token_for(app, seed, "admin"))
    put = {"domains": ["Estudio-Contable.example"]}
    assert (
        await client.put("/api/v1/settings/transcript-domains", json=put, headers=admin)
    ).status_code == 403
    r = await client.put("/api/v1/settings/transcript-domains", json=put, headers=owner)
    assert r.status_code == 200 and r.json() == {"domains": ["estudio-contable.example"]}
    bad = await client.put(
        "/api/v1/settings/transcript-domains", json={"domains": ["not a domain"]}, headers=owner
    )
    assert bad.status_code == 422
    assert (await client.get("/api/v1/settings/transcript-domains", headers=admin)).json()["domains"] == [
        "estudio-contable.example"
    ]
    assert (await client.post(url, json={"to": partner}, headers=agent)).status_code == 202
    await inbox.wait_for(partner)
    assert inbox.to(stranger) == []

    sent = await audit_rows(app, seed.id, "transcript.sent")
    # Audited with the recipient (masked by the audit log's redaction, domain kept).
    expected = [seed.emails["viewer"].lower(), customer_mail, team, partner]
    assert sorted(r["to"].rpartition("@")[2] for r in sent) == sorted(e.rpartition("@")[2] for e in expected)
    refused = [r for r in await audit_rows(app, seed.id, "admin.action") if r["outcome"] != "ok"]
    assert [r["outcome"] for r in refused] == ["error:recipient_not_allowed"]


async def test_sends_are_limited_per_user_and_per_tenant(app: FastAPI, client: httpx.AsyncClient) -> None:
    settings = app.state.settings
    seed = await seed_tenant(app, unique("Bomb"))
    url = f"/api/v1/conversations/{seed.conversation_id}/transcript"
    agent = bearer(await token_for(app, seed, "agent"))
    to = {"to": seed.emails["owner"]}
    for _ in range(settings.transcript_max_per_user_hour):
        assert (await client.post(url, json=to, headers=agent)).status_code == 202
    r = await client.post(url, json=to, headers=agent)
    assert r.status_code == 429 and r.json()["error"]["code"] == "transcript_rate_limited"
    assert r.headers["retry-after"]

    # Another user of the tenant still may, until the tenant's allowance is spent.
    others = [bearer(await token_for(app, seed, role)) for role in ("admin", "owner")]
    left = settings.transcript_max_per_tenant_hour - settings.transcript_max_per_user_hour
    sent = 0
    for headers in others:
        for _ in range(settings.transcript_max_per_user_hour):
            if sent == left:
                break
            assert (await client.post(url, json=to, headers=headers)).status_code == 202
            sent += 1
    if sent == left:
        assert (await client.post(url, json=to, headers=others[-1])).status_code == 429
    assert (
        len(await audit_rows(app, seed.id, "transcript.sent")) == settings.transcript_max_per_user_hour + sent
    )
