"""SSE: tenant-scoped, in order, resumable with Last-Event-ID, heartbeats, works without Redis."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import structlog.testing
from fastapi import FastAPI

from tests.conftest import TEST_REDIS_URL, free_port, serve
from tests.staff.conftest import bearer, maker, seed_tenant, token_for, unique

from .conftest import INTERNAL_TOKEN, make_bff, sse


async def publish(app: FastAPI, tenant_id: uuid.UUID, n: int, tag: str) -> list[int]:
    from orchestrator.events.publisher import announce, publish

    ids = []
    async with maker(app)() as s:
        async with s.begin():
            for i in range(n):
                ids.append(await publish(s, tenant_id, "message.created", {"tag": tag, "i": i}))
        await announce(s, app.state.redis)
    return ids


async def wait_listening(bff: FastAPI) -> None:
    for _ in range(200):
        if bff.state.hub.listening:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("hub not listening")


@pytest.fixture
async def bff_url(staff_env: dict[str, str], orchestrator_url: str) -> AsyncIterator[str]:
    bff = make_bff(staff_env, orchestrator_url, TEST_REDIS_URL, sse_heartbeat_seconds=0.3)
    async with serve(bff) as url:
        await wait_listening(bff)
        yield url


async def test_events_in_order_only_own_tenant_and_heartbeats(app: FastAPI, bff_url: str) -> None:
    a = await seed_tenant(app, unique("SseA"))
    b = await seed_tenant(app, unique("SseB"))
    async with (
        sse(bff_url, bearer(await token_for(app, a, "viewer"))) as ca,
        sse(bff_url, {}, f"/events/stream?access_token={await token_for(app, b, 'viewer')}") as cb,
    ):
        assert ca.status == 200 and cb.status == 200
        ids_a = await publish(app, a.id, 5, "a")
        ids_b = await publish(app, b.id, 3, "b")
        got_a = [await ca.next() for _ in ids_a]
        got_b = [await cb.next() for _ in ids_b]
        assert [g[0] for g in got_a] == ids_a and {g[2]["data"]["tag"] for g in got_a} == {"a"}
        assert [g[0] for g in got_b] == ids_b and {g[2]["tenant_id"] for g in got_b} == {str(b.id)}
        assert got_a[0][1] == "message.created"
        # A pause through the API reaches the dashboard as events.
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o") as api:
            r = await api.post(
                f"/api/v1/conversations/{a.conversation_id}/pause",
                headers=bearer(await token_for(app, a, "agent")),
            )
            assert r.status_code == 200
        kinds = {(await ca.next())[1] for _ in range(2)}
        assert kinds == {"conversation.updated", "handoff"}
        await asyncio.sleep(0.7)
        assert ca.comments >= 1  # heartbeats
        assert cb.events.empty()  # nothing of A ever reached B


async def test_resume_with_last_event_id_has_no_gaps(app: FastAPI, bff_url: str) -> None:
    a = await seed_tenant(app, unique("SseR"))
    token = await token_for(app, a, "agent")
    async with sse(bff_url, bearer(token)) as c:
        first = await publish(app, a.id, 3, "first")
        got = [await c.next() for _ in first]
    last = got[-1][0]
    missed = await publish(app, a.id, 4, "missed")  # while disconnected
    async with sse(bff_url, {**bearer(token), "Last-Event-ID": str(last)}) as c2:
        replayed = [await c2.next() for _ in missed]
        assert [r[0] for r in replayed] == missed
        live = await publish(app, a.id, 2, "live")
        after = [await c2.next() for _ in live]
        assert [r[0] for r in after] == live
        await asyncio.sleep(0.2)
        assert c2.events.empty()  # no duplicates


async def test_auth_is_required_and_revocation_applies(app: FastAPI, bff_url: str) -> None:
    a = await seed_tenant(app, unique("SseAuth"))
    async with httpx.AsyncClient() as c:
        assert (await c.get(bff_url + "/events/stream")).status_code == 401
        bad = await c.get(bff_url + "/events/stream", headers=bearer("not-a-token"))
        assert bad.status_code == 401
        # Other BFF routes still need the internal token.
        assert (await c.get(bff_url + "/openapi.json")).status_code == 401
    token = await token_for(app, a, "viewer")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o") as api:
        assert (await api.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204
    async with httpx.AsyncClient() as c:
        assert (await c.get(bff_url + "/events/stream", headers=bearer(token))).status_code == 401


async def test_still_delivers_with_redis_stopped(
    app: FastAPI, staff_env: dict[str, str], orchestrator_url: str
) -> None:
    port = free_port()
    redis = subprocess.Popen(  # noqa: ASYNC220 - starting a private server is instant
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
    )
    try:
        bff = make_bff(staff_env, orchestrator_url, f"redis://127.0.0.1:{port}/0")
        async with serve(bff) as url:
            await wait_listening(bff)
            for _ in range(100):
                if bff.state.hub.redis_connected:
                    break
                await asyncio.sleep(0.05)
            assert bff.state.hub.redis_connected
            redis.kill()
            redis.wait(5)
            a = await seed_tenant(app, unique("SseNoRedis"))
            async with sse(url, bearer(await token_for(app, a, "viewer"))) as c:
                ids = await publish(app, a.id, 3, "pg-only")
                assert [(await c.next())[0] for _ in ids] == ids
            async with httpx.AsyncClient() as hc:
                ready = await hc.get(url + "/health/ready")
            assert ready.status_code == 200 and ready.json()["degraded"] == ["redis"]
    finally:
        if redis.poll() is None:
            redis.kill()
            redis.wait(5)


async def test_bff_started_before_the_schema_exists_becomes_ready_by_itself(fresh_dsn: str) -> None:
    """In compose the BFF may start before the orchestrator has migrated: it must not stay down."""
    from bff.app import create_app
    from bff.config import Settings
    from orchestrator.db import create_engine

    from orchestrator import migrate

    bff = create_app(
        Settings(
            internal_api_token=INTERNAL_TOKEN, nexus_env="test", log_level="INFO", postgres_dsn=fresh_dsn
        )
    )
    with structlog.testing.capture_logs() as logs:
        async with bff.router.lifespan_context(bff):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bff), base_url="http://bff") as c:
                before = await c.get("/health/ready")
                assert before.status_code == 503 and before.json()["down"] == ["postgres"]
                engine = create_engine(fresh_dsn, pool_size=1)
                await migrate.upgrade(engine)
                await engine.dispose()
                for _ in range(200):
                    if (await c.get("/health/ready")).status_code == 200:
                        break
                    await asyncio.sleep(0.05)
                assert (await c.get("/health/ready")).status_code == 200
    # Waiting for the orchestrator's migrations is the normal first start: said once, at info level,
    # and no warning a log reader would chase.
    hub_logs = [e for e in logs if str(e.get("event", "")).startswith("hub.")]
    assert [e["event"] for e in hub_logs if e["log_level"] == "info"].count("hub.waiting_for_schema") == 1
    assert not [e for e in hub_logs if e["log_level"] in ("warning", "error")], hub_logs


async def closed_reason(client: object, within: float = 10.0) -> str:
    """Events until the server's `stream.closed`; its reason."""
    while True:
        _, kind, data = await client.next(within)  # type: ignore[attr-defined]
        if kind == "stream.closed":
            return str(data["reason"])


@pytest.fixture
async def rechecking_bff(staff_env: dict[str, str], orchestrator_url: str) -> AsyncIterator[str]:
    bff = make_bff(staff_env, orchestrator_url, TEST_REDIS_URL, sse_recheck_seconds=0.5)
    async with serve(bff) as url:
        await wait_listening(bff)
        yield url


async def test_open_streams_end_on_logout_deactivation_and_expiry(app: FastAPI, rechecking_bff: str) -> None:
    from orchestrator.auth import service as auth_service
    from orchestrator.auth import tokens
    from orchestrator.models import User
    from sqlalchemy import update

    a = await seed_tenant(app, unique("SseRevoke"))
    logged_out = await token_for(app, a, "viewer")
    deactivated = await token_for(app, a, "agent")
    kept = await token_for(app, a, "admin")
    async with maker(app)() as s, s.begin():
        user = await s.get(User, a.users["owner"])
        assert user is not None
        short = app.state.settings.model_copy(update={"auth_access_ttl_seconds": 2})
        pair = await auth_service.create_session(s, short, user)
    expiring = pair.access_token
    assert tokens.decode_access_token(app.state.settings, expiring) is not None

    async with (
        sse(rechecking_bff, bearer(logged_out)) as c1,
        sse(rechecking_bff, bearer(deactivated)) as c2,
        sse(rechecking_bff, bearer(expiring)) as c3,
        sse(rechecking_bff, bearer(kept)) as c4,
    ):
        assert {c.status for c in (c1, c2, c3, c4)} == {200}
        await publish(app, a.id, 1, "before")
        for c in (c1, c2, c4):
            assert (await c.next())[1] == "message.created"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o") as api:
            assert (await api.post("/api/v1/auth/logout", headers=bearer(logged_out))).status_code == 204
        async with maker(app)() as s, s.begin():
            await s.execute(update(User).where(User.id == a.users["agent"]).values(is_active=False))

        assert await closed_reason(c1) == "revoked"
        assert await closed_reason(c2) == "revoked"
        assert await closed_reason(c3) == "token_expired"
        # The valid session's stream goes on and still gets the tenant's events.
        ids = await publish(app, a.id, 1, "after")
        assert (await c4.next())[0] == ids[0]


def role_dsn(dsn: str, user: str) -> str:
    scheme, _, rest = dsn.partition("://")
    hostpart = rest.split("@", 1)[-1]
    return f"{scheme}://{user}:bff-password-0123456789@{hostpart}"


async def test_the_bff_streams_as_a_role_that_can_only_read_events(
    app: FastAPI, staff_env: dict[str, str], orchestrator_url: str
) -> None:
    import psycopg
    from orchestrator.migrate import BFF_ROLE, enable_bff_login

    await enable_bff_login(app.state.engine, "bff-password-0123456789")
    dsn = role_dsn(staff_env["POSTGRES_DSN"], BFF_ROLE)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT count(*) FROM events").fetchone()
        conn.execute("LISTEN nexus_events")
        for forbidden in (
            "SELECT * FROM credentials",
            "SELECT * FROM users",
            "SELECT * FROM procrastinate.procrastinate_jobs",
            "INSERT INTO events (tenant_id, type, data) VALUES (gen_random_uuid(), 'x', '{}')",
            "DELETE FROM events",
            "CREATE TABLE bff_was_here (id int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(forbidden)

    # And it is all the BFF needs: replay and live delivery work with that role.
    a = await seed_tenant(app, unique("SseRole"))
    bff = make_bff({"POSTGRES_DSN": dsn}, orchestrator_url, None, sse_heartbeat_seconds=0.3)
    async with serve(bff) as url:
        await wait_listening(bff)
        token = await token_for(app, a, "viewer")
        before = await publish(app, a.id, 2, "before")
        async with sse(url, {**bearer(token), "Last-Event-ID": str(before[0] - 1)}) as c:
            assert [(await c.next())[0] for _ in before] == before
            live = await publish(app, a.id, 1, "live")
            assert (await c.next())[0] == live[0]
