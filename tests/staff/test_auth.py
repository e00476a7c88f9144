"""Sign-in: argon2id, signed expiring tokens, refresh, revocation, throttling, reset and invites."""

from __future__ import annotations

import random
import re
import uuid
from email.message import Message

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select

from .conftest import ADMIN_TOKEN, PASSWORD, Inbox, bearer, maker, seed_tenant, unique


async def _login(
    client: httpx.AsyncClient, email: str, password: str, ip: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": ip} if ip else {}
    return await client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers=headers
    )


async def test_login_success_refresh_and_logout_revokes(app: FastAPI, client: httpx.AsyncClient) -> None:
    from orchestrator.models import User

    seed = await seed_tenant(app, unique("Gamma"), passwords=True)
    r = await _login(client, seed.emails["agent"].upper(), PASSWORD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and 0 < body["expires_in"] <= 900
    async with maker(app)() as s:
        stored = (await s.scalars(select(User.password_hash).where(User.id == seed.users["agent"]))).one()
    assert stored.startswith("$argon2id$")

    me = await client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["role"] == "agent" and me.json()["tenant_id"] == str(seed.id)

    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh_token"] != body["refresh_token"]  # rotated (replaying the old one: below)

    assert (await client.post("/api/v1/auth/logout", headers=bearer(new["access_token"]))).status_code == 204
    for token in (body["access_token"], new["access_token"]):
        assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 401
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]})
    ).status_code == 401


async def test_wrong_password_unknown_user_tampered_and_expired_tokens(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: object
) -> None:
    from orchestrator.auth import tokens

    seed = await seed_tenant(app, unique("Delta"), passwords=True)
    bad = await _login(client, seed.emails["viewer"], "wrong password!")
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"
    unknown = await _login(client, f"nobody-{seed.id}@delta.example", PASSWORD)
    assert unknown.status_code == 401 and unknown.json()["error"]["message"] == bad.json()["error"]["message"]
    assert (await _login(client, "not-an-email", PASSWORD)).status_code == 422

    token = (await _login(client, seed.emails["viewer"], PASSWORD)).json()["access_token"]
    head, payload, sig = token.split(".")
    tampered = f"{head}.{payload}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    assert (await client.get("/api/v1/auth/me", headers=bearer(tampered))).status_code == 401

    settings = app.state.settings
    expired, _ = tokens.issue_access_token(
        settings.model_copy(update={"auth_access_ttl_seconds": -5}),
        user_id=seed.users["viewer"],
        tenant_id=seed.id,
        session_id=uuid.uuid4(),
        role="viewer",
    )
    assert (await client.get("/api/v1/auth/me", headers=bearer(expired))).status_code == 401
    # A token signed with another key is refused.
    forged, _ = tokens.issue_access_token(
        settings.model_copy(update={"auth_secret": SecretStr("another-secret-0123456789-another-secret")}),
        user_id=seed.users["viewer"],
        tenant_id=seed.id,
        session_id=uuid.uuid4(),
        role="owner",
    )
    assert (await client.get("/api/v1/auth/me", headers=bearer(forged))).status_code == 401


async def test_a_replayed_refresh_token_revokes_the_whole_session(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from orchestrator.models import AuditLog

    seed = await seed_tenant(app, unique("Replay"), passwords=True)
    first = (await _login(client, seed.emails["agent"], PASSWORD)).json()
    other = (await _login(client, seed.emails["agent"], PASSWORD)).json()  # another device
    second = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    third = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    ).json()
    assert (await client.get("/api/v1/auth/me", headers=bearer(third["access_token"]))).status_code == 200

    # A thief replays the first (twice-rotated) token: refused, and the legitimate holder's
    # current tokens of that session die with it.
    stolen = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert stolen.status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=bearer(third["access_token"]))).status_code == 401
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": third["refresh_token"]})
    assert again.status_code == 401
    # The user's other session is untouched.
    assert (await client.get("/api/v1/auth/me", headers=bearer(other["access_token"]))).status_code == 200
    async with maker(app)() as s:
        actions = (await s.scalars(select(AuditLog.action).where(AuditLog.tenant_id == seed.id))).all()
    assert actions.count("auth.refresh_reuse") == 1
    # A token that never existed is a plain 401 and revokes nothing.
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 43})).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=bearer(other["access_token"]))).status_code == 200


async def test_password_reset_is_queued_throttled_and_answers_alike(
    app: FastAPI, client: httpx.AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    from orchestrator.auth.service import RESET_MAIL_TASK
    from sqlalchemy import text

    inbox, _ = smtp
    seed = await seed_tenant(app, unique("Iota"), passwords=True)
    known, unknown = seed.emails["viewer"], f"ghost-{seed.id}@iota.example"

    async def queued() -> list[str]:
        async with maker(app)() as s:
            rows = await s.execute(
                text("SELECT args->>'email' FROM procrastinate.procrastinate_jobs WHERE task_name = :t"),
                {"t": RESET_MAIL_TASK},
            )
            return [r[0] for r in rows if r[0] in (known, unknown)]

    answers = []
    for email in (known, unknown):
        r = await client.post("/api/v1/auth/password-reset", json={"email": email})
        answers.append((r.status_code, r.content))
    assert answers[0] == answers[1] == (202, b'{"status":"accepted"}')
    # Both requests did the same thing: queue a job (the job, not the request, looks the account up).
    assert sorted(await queued()) == sorted([known, unknown])
    await inbox.wait_for(known)

    # Mail bombing one address: more requests answer the same but send no more mail.
    limit = app.state.settings.password_reset_max_per_account_hour
    for _ in range(limit + 2):
        async with other_address(app, f"192.0.2.{random.randint(1, 254)}") as elsewhere:
            r = await elsewhere.post("/api/v1/auth/password-reset", json={"email": known})
        assert (r.status_code, r.content) == answers[0]
    assert (await queued()).count(known) == limit
    await inbox.wait_for(known, limit)

    # One address flooding many e-mails is refused outright.
    per_ip = app.state.settings.password_reset_max_per_ip_hour
    statuses = []
    for i in range(per_ip):
        r = await client.post("/api/v1/auth/password-reset", json={"email": f"p{i}-{seed.id}@iota.example"})
        statuses.append(r.status_code)
    assert statuses[: per_ip - 2] == [202] * (per_ip - 2) and statuses[-1] == 429


def other_address(app: FastAPI, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://orch")


async def expire_delays(app: FastAPI) -> None:
    """Stand in for waiting out a delay (no sleeping in tests): every delay ends now."""
    from orchestrator.models import LoginThrottle
    from sqlalchemy import update

    async with maker(app)() as s, s.begin():
        await s.execute(update(LoginThrottle).values(locked_until=None))


async def test_failures_grow_a_delay_for_that_address_and_never_lock_the_owner(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from orchestrator.models import AuditLog

    seed = await seed_tenant(app, unique("Epsilon"), passwords=True)
    email = seed.emails["owner"]
    free = app.state.settings.login_free_failures_per_account
    for _ in range(free):
        assert (await _login(client, email, "wrong password!")).status_code == 401
    retries = []
    for _ in range(3):
        assert (await _login(client, email, "wrong password!")).status_code == 401
        throttled = await _login(client, email, PASSWORD)  # even the right password must wait
        assert throttled.status_code == 429
        assert throttled.json()["error"]["code"] == "too_many_attempts"
        retries.append(int(throttled.headers["Retry-After"]))
        # Meanwhile the owner, from anywhere else, signs in: a stranger cannot hold the account.
        async with other_address(app, f"198.51.100.{len(retries)}") as owner:
            assert (await _login(owner, email, PASSWORD)).status_code == 200
        await expire_delays(app)
    assert retries == [1, 2, 4]  # doubling delays, not a lock
    assert (await _login(client, email, PASSWORD)).status_code == 200
    async with maker(app)() as s:
        actions = (await s.scalars(select(AuditLog.action).where(AuditLog.tenant_id == seed.id))).all()
    assert actions.count("auth.login_failed") == free + 3
    assert "auth.login_locked" not in actions


def test_delays_double_up_to_the_cap() -> None:
    from orchestrator.auth.service import delay_after

    assert [delay_after(n, 3, 1.0, 900.0) for n in range(1, 8)] == [0, 0, 0, 1, 2, 4, 8]
    assert delay_after(60, 3, 1.0, 900.0) == 900.0


async def test_per_ip_delay_spans_accounts(app: FastAPI, client: httpx.AsyncClient) -> None:
    seed = await seed_tenant(app, unique("Zeta"), passwords=True)
    app.state.settings.login_free_failures_per_ip = 4
    try:
        for i in range(5):
            r = await _login(client, f"probe{i}-{seed.id}@zeta.example", "whatever-password")
            assert r.status_code == 401
        # This address now waits, even with a right password of another account...
        assert (await _login(client, seed.emails["agent"], PASSWORD)).status_code == 429
        # ...another address does not.
        async with other_address(app, "203.0.113.77") as elsewhere:
            assert (await _login(elsewhere, seed.emails["agent"], PASSWORD)).status_code == 200
    finally:
        app.state.settings.login_free_failures_per_ip = 30
        await expire_delays(app)


async def test_super_admin_token_and_tenant_header(app: FastAPI, client: httpx.AsyncClient) -> None:
    seed = await seed_tenant(app, unique("Eta"))
    r = await client.get("/api/v1/tenants", headers=bearer(ADMIN_TOKEN))
    assert r.status_code == 200 and str(seed.id) in {t["id"] for t in r.json()["items"]}
    assert (await client.get("/api/v1/tenants", headers=bearer(ADMIN_TOKEN[:-1] + "x"))).status_code == 401
    # Tenant routes need the tenant named.
    assert (await client.get("/api/v1/tenant", headers=bearer(ADMIN_TOKEN))).status_code == 400
    ok = await client.get("/api/v1/tenant", headers=bearer(ADMIN_TOKEN, seed.id))
    assert ok.status_code == 200 and ok.json()["id"] == str(seed.id)
    missing = await client.get("/api/v1/tenant", headers=bearer(ADMIN_TOKEN, uuid.uuid4()))
    assert missing.status_code == 404
    created = await client.post(
        f"/api/v1/tenants/{seed.id}/users",
        json={"email": f"new.owner@{seed.id}.example", "password": PASSWORD, "role": "owner"},
        headers=bearer(ADMIN_TOKEN),
    )
    assert created.status_code == 201
    assert (await _login(client, f"new.owner@{seed.id}.example", PASSWORD)).status_code == 200
    dup = await client.post(
        f"/api/v1/tenants/{seed.id}/users",
        json={"email": f"NEW.owner@{seed.id}.example", "password": PASSWORD, "role": "agent"},
        headers=bearer(ADMIN_TOKEN),
    )
    assert dup.status_code == 409
    # A disabled tenant's staff cannot sign in.
    r = await client.patch(
        f"/api/v1/tenants/{seed.id}", json={"status": "disabled"}, headers=bearer(ADMIN_TOKEN)
    )
    assert r.status_code == 200
    assert (await _login(client, f"new.owner@{seed.id}.example", PASSWORD)).status_code == 401


def _link_token(msg: Message) -> str:
    plain = (
        next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    )
    match = re.search(r"token=([A-Za-z0-9_-]+)", plain)
    assert match, plain
    return match.group(1)


async def test_password_reset_by_email_link(
    app: FastAPI, client: httpx.AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    seed = await seed_tenant(app, unique("Theta"), passwords=True)
    old = (await _login(client, seed.emails["admin"], PASSWORD)).json()["access_token"]
    r = await client.post("/api/v1/auth/password-reset", json={"email": seed.emails["admin"]})
    assert r.status_code == 202
    unknown = await client.post(
        "/api/v1/auth/password-reset", json={"email": f"ghost-{seed.id}@theta.example"}
    )
    assert unknown.status_code == 202 and unknown.json() == r.json()
    mail = (await inbox.wait_for(seed.emails["admin"]))[0]
    assert "https://nexus.example/reset-password?token=" in str(mail)
    token = _link_token(mail)
    short = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "short"}
    )
    assert short.status_code == 422
    done = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "a brand new passphrase"}
    )
    assert done.status_code == 204
    reused = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "yet another passphrase"}
    )
    assert reused.status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=bearer(old))).status_code == 401  # signed out
    assert (await _login(client, seed.emails["admin"], PASSWORD)).status_code == 401
    assert (await _login(client, seed.emails["admin"], "a brand new passphrase")).status_code == 200


async def test_owner_invites_by_email(
    app: FastAPI, client: httpx.AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    from .conftest import token_for

    inbox, _ = smtp
    seed = await seed_tenant(app, unique("Iota"))
    admin = await token_for(app, seed, "admin")
    invited = f"new.agent@{seed.id}.example"
    body = {"email": invited, "role": "agent"}
    assert (await client.post("/api/v1/users/invite", json=body, headers=bearer(admin))).status_code == 403
    owner = await token_for(app, seed, "owner")
    r = await client.post("/api/v1/users/invite", json=body, headers=bearer(owner))
    assert r.status_code == 201 and r.json()["mail"] == "sent"
    mail = (await inbox.wait_for(invited))[0]
    assert "Iota" in mail["Subject"]
    token = _link_token(mail)
    accepted = await client.post(
        "/api/v1/auth/accept-invite", json={"token": token, "password": "invited passphrase", "name": "Nuevo"}
    )
    assert accepted.status_code == 200
    me = await client.get("/api/v1/auth/me", headers=bearer(accepted.json()["access_token"]))
    assert me.json()["role"] == "agent" and me.json()["user"]["name"] == "Nuevo"
    assert (await _login(client, invited, "invited passphrase")).status_code == 200


def test_cli_create_user(staff_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg
    from nexus_common.logging import configure_logging
    from orchestrator.cli import app as cli
    from typer.testing import CliRunner

    for k, v in staff_env.items():
        monkeypatch.setenv(k, v)
    tenant = uuid.uuid4()
    with psycopg.connect(staff_env["POSTGRES_DSN"], autocommit=True) as conn:
        conn.execute("INSERT INTO tenants (id, name) VALUES (%s, 'Cli store')", (tenant,))
    email = f"cli-{tenant.hex[:8]}@example.com"
    try:
        result = CliRunner().invoke(
            cli,
            ["create-user", str(tenant), email, "--role", "agent"],
            input="cli passphrase 1\ncli passphrase 1\n",
        )
    finally:
        # The CLI configured logging onto CliRunner's stdout, closed now: point it back.
        configure_logging("WARNING", "orchestrator")
    assert result.exit_code == 0, result.output
    with psycopg.connect(staff_env["POSTGRES_DSN"]) as conn:
        row = conn.execute("SELECT role, password_hash FROM users WHERE email = %s", (email,)).fetchone()
    assert row is not None and row[0] == "agent" and row[1].startswith("$argon2id$")
