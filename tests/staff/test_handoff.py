"""Manual handoff: pause/resume with who and when, human replies through the outbox, auto-handoff
and on-demand transcripts by e-mail to a real SMTP server, the pause timeout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from .conftest import Inbox, bearer, maker, seed_tenant, token_for, unique


async def _events(app: FastAPI, tenant_id: object) -> list[tuple[str, dict]]:
    from orchestrator.models import Event

    async with maker(app)() as s:
        rows = (
            await s.execute(
                select(Event.type, Event.data).where(Event.tenant_id == tenant_id).order_by(Event.id)
            )
        ).all()
    return [(r.type, r.data) for r in rows]


async def test_pause_reply_resume(app: FastAPI, client: httpx.AsyncClient) -> None:
    from orchestrator.models import ChatConversation, ChatMessage, Handoff

    seed = await seed_tenant(app, unique("Pause"))
    agent = bearer(await token_for(app, seed, "agent"))
    viewer = bearer(await token_for(app, seed, "viewer"))
    cid = seed.conversation_id
    assert (await client.post(f"/api/v1/conversations/{cid}/pause", headers=viewer)).status_code == 403
    before = datetime.now(UTC)
    r = await client.post(f"/api/v1/conversations/{cid}/pause", headers=agent)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "pending_human" and body["ai_paused"] is True
    assert body["paused_by"] == f"user:{seed.users['agent']}"
    assert datetime.fromisoformat(body["paused_at"]) >= before - timedelta(seconds=1)

    reply = await client.post(
        f"/api/v1/conversations/{cid}/messages", json={"text": "Hola Ana, soy Juan"}, headers=agent
    )
    assert reply.status_code == 202
    mid = reply.json()["id"]
    async with maker(app)() as s:
        msg = await s.get(ChatMessage, mid)
        assert msg is not None
        assert (msg.direction, msg.sender, msg.status, msg.sent_by_user_id) == (
            "outbound",
            "human",
            "queued",
            seed.users["agent"],
        )
        # Handed to the outbox: the conversation's send job was deferred in the same transaction.
        jobs = (
            (
                await s.execute(
                    text(
                        "SELECT task_name FROM procrastinate.procrastinate_jobs "
                        "WHERE args->>'conversation_id' = :cid"
                    ),
                    {"cid": str(cid)},
                )
            )
            .scalars()
            .all()
        )
        assert jobs == ["pipeline:send"]
    types = [t for t, _ in await _events(app, seed.id)]
    assert types[:3] == ["conversation.updated", "handoff", "message.created"]

    r = await client.post(f"/api/v1/conversations/{cid}/resume", headers=agent)
    assert r.status_code == 200 and r.json()["ai_paused"] is False and r.json()["status"] == "open"
    async with maker(app)() as s:
        conv = await s.get(ChatConversation, cid)
        assert conv is not None and conv.paused_by is None
        assert len((await s.scalars(select(Handoff).where(Handoff.conversation_id == cid))).all()) == 1
    # The resume is announced (the send job may also have reported its attempt meanwhile).
    updates = [d for t, d in await _events(app, seed.id) if t == "conversation.updated"]
    last = updates[-1].get("conversation", updates[-1])
    assert len(updates) >= 2 and last["ai_paused"] is False and last["status"] == "open"
    assert (
        await client.post(f"/api/v1/conversations/{cid}/messages", json={"text": ""}, headers=agent)
    ).status_code == 422


async def test_human_reply_pauses_the_ai_automatically(app: FastAPI, client: httpx.AsyncClient) -> None:
    seed = await seed_tenant(app, unique("Auto"))
    owner = bearer(await token_for(app, seed, "owner"))
    cid = seed.conversation_id
    r = await client.post(
        f"/api/v1/conversations/{cid}/messages", json={"text": "Te respondo yo"}, headers=owner
    )
    assert r.status_code == 202
    detail = (await client.get(f"/api/v1/conversations/{cid}", headers=owner)).json()
    assert detail["ai_paused"] is True and detail["handoff_reason"] == "human_reply"
    assert [m["sender"] for m in detail["messages"]] == ["customer", "ai", "human"]
    listed = (await client.get("/api/v1/conversations?status=pending_human", headers=owner)).json()
    assert [c["id"] for c in listed["items"]] == [str(cid)]
    assert (await client.get("/api/v1/conversations?status=open", headers=owner)).json()["items"] == []


async def test_auto_handoff_emails_the_team_with_the_transcript(
    app: FastAPI, smtp: tuple[Inbox, int]
) -> None:
    from orchestrator.conversations.handoff import notify_handoff
    from orchestrator.models import AuditLog, ChatConversation

    inbox, _ = smtp
    seed = await seed_tenant(app, unique("Hand"))
    team = f"team@{(await _tenant_name(app, seed.id)).lower()}.example"
    async with maker(app)() as s, s.begin():
        assert await notify_handoff(s, seed.conversation_id, "customer_asked_for_human") is True
    async with maker(app)() as s, s.begin():
        # A second handoff of a conversation already with humans sends nothing more.
        assert await notify_handoff(s, seed.conversation_id, "again") is False
    mails = await inbox.wait_for(team)
    msg = mails[0]
    types = sorted(p.get_content_type() for p in msg.walk() if not p.is_multipart())
    assert types == ["text/html", "text/plain"]
    plain = (
        next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    )
    assert "¿tienen zapatillas talle 40?" in plain and "Runner 40" in plain
    assert "customer_asked_for_human" in plain
    assert f"https://nexus.example/conversations/{seed.conversation_id}" in plain
    assert "+54*******4444" in plain and "5491155554444" not in str(msg)
    async with maker(app)() as s:
        conv = await s.get(ChatConversation, seed.conversation_id)
        assert conv is not None and conv.status == "pending_human" and conv.paused_by == "ai"
        for _ in range(100):
            logged = (
                await s.scalars(
                    select(AuditLog).where(AuditLog.tenant_id == seed.id, AuditLog.action == "mail.sent")
                )
            ).all()
            if logged:
                break
            await s.rollback()
            import asyncio

            await asyncio.sleep(0.05)
        assert logged[0].payload["kind"] == "handoff" and "team@" not in str(logged[0].payload)
    assert len(inbox.to(team)) == 1


async def _tenant_name(app: FastAPI, tenant_id: object) -> str:
    from orchestrator.models import Tenant

    async with maker(app)() as s:
        t = await s.get(Tenant, tenant_id)
        assert t is not None
        return t.name


async def test_transcript_on_demand(app: FastAPI, client: httpx.AsyncClient, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    seed = await seed_tenant(app, unique("Trans"))
    agent = bearer(await token_for(app, seed, "agent"))
    to = seed.emails["owner"]  # the store's staff (see test_transcripts for who else may)
    r = await client.post(
        f"/api/v1/conversations/{seed.conversation_id}/transcript", json={"to": to}, headers=agent
    )
    assert r.status_code == 202
    msg = (await inbox.wait_for(to))[0]
    assert "Transcripción" in msg["Subject"]
    assert (
        await client.post(
            f"/api/v1/conversations/{seed.conversation_id}/transcript", json={"to": "nope"}, headers=agent
        )
    ).status_code == 422


async def test_mail_failure_is_retried_and_recorded(app: FastAPI) -> None:
    from orchestrator.auth.service import record_mail
    from orchestrator.mail import client as mail_client
    from orchestrator.models import AuditLog

    from tests.conftest import free_port

    seed = await seed_tenant(app, unique("MailDown"))
    mail = mail_client.Mail(to=["a@b.example"], subject="s", text="t", html="<p>t</p>")
    outcome = await mail_client.send(
        f"smtp://127.0.0.1:{free_port()}?starttls=0", "x@y.example", mail, max_wait=0.05
    )
    assert outcome.ok is False and outcome.attempts == 3
    async with maker(app)() as s, s.begin():
        await record_mail(s, outcome, kind="transcript", to=mail.to, tenant_id=seed.id)
    async with maker(app)() as s:
        row = (await s.scalars(select(AuditLog).where(AuditLog.tenant_id == seed.id))).one()
    assert row.action == "mail.failed" and row.level == "error" and row.payload["attempts"] == 3


async def test_smtp_auth_is_used(smtp: tuple[Inbox, int]) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from orchestrator.mail import client as mail_client

    from tests.conftest import free_port

    seen: list[tuple[str, str]] = []

    def authenticator(
        server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        seen.append((data.login.decode(), data.password.decode()))  # type: ignore[attr-defined]
        return AuthResult(success=data.password == b"s3cret")  # type: ignore[attr-defined]

    inbox = Inbox()
    port = free_port()
    ctl = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    ctl.start()
    try:
        mail = mail_client.Mail(to=["x@y.example"], subject="s", text="t", html="<p>t</p>")
        ok = await mail_client.send(f"smtp://nexus:s3cret@127.0.0.1:{port}?starttls=0", "n@x.example", mail)
    finally:
        ctl.stop()
    assert ok.ok and ok.attempts == 1
    assert ("nexus", "s3cret") in seen and len(inbox.messages) == 1


def test_smtp_url_forms() -> None:
    from orchestrator.mail.client import MailConfigError, parse_smtp_url

    c = parse_smtp_url("smtp://us%40er:p%3Ass@mail.example:587?starttls=1")
    assert (c.host, c.port, c.username, c.password, c.start_tls, c.use_tls) == (
        "mail.example",
        587,
        "us@er",
        "p:ss",
        True,
        False,
    )
    t = parse_smtp_url("smtps://u:p@mail.example")
    assert (t.port, t.use_tls, t.start_tls) == (465, True, False)
    assert parse_smtp_url("smtp://relay:25").start_tls is None
    with pytest.raises(MailConfigError):
        parse_smtp_url("http://mail.example")


async def test_pause_timeout_returns_the_conversation_to_the_ai(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from orchestrator.conversations.tasks import resume_expired
    from orchestrator.models import ChatConversation, Tenant

    seed = await seed_tenant(app, unique("Timeout"))
    other = await seed_tenant(app, unique("NoTimeout"))
    for s_ in (seed, other):
        r = await client.post(
            f"/api/v1/conversations/{s_.conversation_id}/pause",
            headers=bearer(await token_for(app, s_, "agent")),
        )
        assert r.status_code == 200
    async with maker(app)() as s, s.begin():
        tenant = await s.get(Tenant, seed.id)
        assert tenant is not None
        tenant.settings = {**tenant.settings, "handoff_timeout_minutes": 30}
        for cid in (seed.conversation_id, other.conversation_id):
            conv = await s.get(ChatConversation, cid)
            assert conv is not None
            conv.paused_at = datetime.now(UTC) - timedelta(minutes=31)
    async with maker(app)() as s, s.begin():
        resumed = await resume_expired(s)
    assert seed.conversation_id in resumed and other.conversation_id not in resumed
    async with maker(app)() as s:
        a = await s.get(ChatConversation, seed.conversation_id)
        b = await s.get(ChatConversation, other.conversation_id)
        assert a is not None and b is not None
        assert (a.ai_paused, a.status) == (False, "open") and b.ai_paused is True
