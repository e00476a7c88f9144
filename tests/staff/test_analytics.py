"""Analytics equal a brute-force count over the same rows; cached; correct without Redis."""

from __future__ import annotations

import asyncio
import random
import statistics
import subprocess
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from tests.conftest import free_port

from .conftest import bearer, maker, seed_tenant, token_for, unique

TZ = "America/Argentina/Buenos_Aires"
START = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def _fill(app: FastAPI, tenant_id: uuid.UUID, seed: int) -> None:
    from orchestrator.models import AgentRun, ChatConversation, ChatMessage, Customer, Handoff, Tenant

    rnd = random.Random(seed)
    async with maker(app)() as s, s.begin():
        tenant = await s.get(Tenant, tenant_id)
        assert tenant is not None
        tenant.settings = {**tenant.settings, "timezone": TZ}
        for n in range(24):
            customer = Customer(tenant_id=tenant_id, name=f"c{n}")
            s.add(customer)
            await s.flush()
            t0 = START + timedelta(hours=rnd.randint(0, 24 * 6), minutes=rnd.randint(0, 59))
            conv = ChatConversation(
                tenant_id=tenant_id,
                customer_id=customer.id,
                channel="whatsapp",
                created_at=t0,
                status="resolved",
            )
            s.add(conv)
            await s.flush()
            t = t0
            for k in range(rnd.randint(1, 6)):
                inbound = ChatMessage(
                    tenant_id=tenant_id,
                    conversation_id=conv.id,
                    channel="whatsapp",
                    direction="inbound",
                    sender="customer",
                    text=rnd.choice(["¿hay talle 42?", "precio?", "envíos a Córdoba?"]),
                    status="received",
                    created_at=t,
                )
                s.add(inbound)
                await s.flush()
                t += timedelta(seconds=rnd.randint(5, 900))
                sender = rnd.choice(["ai", "ai", "human", "system"])
                s.add(
                    ChatMessage(
                        tenant_id=tenant_id,
                        conversation_id=conv.id,
                        channel="whatsapp",
                        direction="outbound",
                        sender=sender,
                        text="ok",
                        status="sent",
                        created_at=t,
                    )
                )
                outcome = rnd.choice(["answered", "answered", "fallback", "handoff"])
                steps = [
                    {
                        "kind": "tool_call",
                        "name": "search_products",
                        "detail": {"query": rnd.choice(["Zapatillas", "remera"])},
                    }
                ]
                # Some runs are written running and finished later (the update trigger).
                run = AgentRun(
                    tenant_id=tenant_id,
                    conversation_id=conv.id,
                    trigger_message_id=inbound.id,
                    outcome="running" if k % 2 else outcome,
                    fallback_used=outcome == "fallback",
                    steps=steps,
                    created_at=t,
                )
                s.add(run)
                await s.flush()
                if k % 2:
                    run.outcome = outcome
                    await s.flush()
                if outcome == "handoff":
                    s.add(
                        Handoff(
                            tenant_id=tenant_id,
                            conversation_id=conv.id,
                            source="ai",
                            reason=rnd.choice(["asked_human", "repeated_failures"]),
                            actor="ai",
                            created_at=t,
                        )
                    )
                t += timedelta(minutes=rnd.randint(1, 300))


async def _brute_force(app: FastAPI, tenant_id: uuid.UUID, start: date, end: date) -> dict:
    from orchestrator.models import AgentRun, ChatConversation, ChatMessage, Handoff

    tz = ZoneInfo(TZ)

    def day(ts: datetime) -> date:
        return ts.astimezone(tz).date()

    def inside(ts: datetime) -> bool:
        return start <= day(ts) <= end

    async with maker(app)() as s:
        convs = [
            c
            for c in (
                await s.scalars(select(ChatConversation).where(ChatConversation.tenant_id == tenant_id))
            ).all()
        ]
        msgs = (await s.scalars(select(ChatMessage).where(ChatMessage.tenant_id == tenant_id))).all()
        runs = (await s.scalars(select(AgentRun).where(AgentRun.tenant_id == tenant_id))).all()
        handoffs = (await s.scalars(select(Handoff).where(Handoff.tenant_id == tenant_id))).all()
    by_id = {m.id: m for m in msgs}
    m_in = [m for m in msgs if inside(m.created_at)]
    h_in = [h for h in handoffs if inside(h.created_at)]
    r_in = [r for r in runs if inside(r.created_at) and r.outcome != "running"]
    out = [m for m in m_in if m.direction == "outbound"]
    n_conv = sum(1 for c in convs if inside(c.created_at))
    frts = []
    for c in convs:
        cm = [m for m in msgs if m.conversation_id == c.id]
        inbound = [m.created_at for m in cm if m.direction == "inbound"]
        if not inbound or not inside(min(inbound)):
            continue
        first = min(inbound)
        replies = [
            m.created_at
            for m in cm
            if m.direction == "outbound" and m.sender in ("ai", "human") and m.created_at >= first
        ]
        if replies:
            frts.append((min(replies) - first).total_seconds())
    unanswered = Counter(
        by_id[r.trigger_message_id].text.strip().lower()
        for r in r_in
        if r.outcome in ("fallback", "handoff", "failed") or r.fallback_used
    )
    searches = Counter(st["detail"]["query"].strip().lower() for r in r_in for st in r.steps)
    ai = sum(1 for m in out if m.sender == "ai")
    human = sum(1 for m in out if m.sender == "human")
    fallback = sum(1 for r in r_in if r.fallback_used or r.outcome == "fallback")
    hconv = len({h.conversation_id for h in h_in})
    return {
        "conversations": n_conv,
        "messages_in": len(m_in) - len(out),
        "messages_out": len(out),
        "answered_by_ai": ai,
        "answered_by_human": human,
        "ai_share": round(ai / (ai + human), 4) if ai + human else None,
        "handoffs": len(h_in),
        "handoff_conversations": hconv,
        "handoff_rate": round(hconv / n_conv, 4) if n_conv else None,
        "median_first_response_seconds": round(statistics.median(frts), 3) if frts else None,
        "agent_runs": len(r_in),
        "fallback_runs": fallback,
        "reasons": dict(Counter(h.reason for h in h_in)),
        "unanswered": dict(unanswered),
        "searches": dict(searches),
        "per_day_in": Counter(day(m.created_at).isoformat() for m in m_in if m.direction == "inbound"),
    }


def _compare(api: dict, brute: dict) -> None:
    t = api["totals"]
    for key in (
        "conversations",
        "messages_in",
        "messages_out",
        "answered_by_ai",
        "answered_by_human",
        "ai_share",
        "handoffs",
        "handoff_conversations",
        "handoff_rate",
        "median_first_response_seconds",
        "agent_runs",
        "fallback_runs",
    ):
        assert t[key] == brute[key], key
    assert {r["reason"]: r["count"] for r in api["handoff_reasons"]} == brute["reasons"]
    assert {r["question"]: r["count"] for r in api["unanswered_questions"]} == brute["unanswered"]
    assert {r["query"]: r["count"] for r in api["top_searches"]} == brute["searches"]
    assert {d["date"]: d["messages_in"] for d in api["days"] if d["messages_in"]} == dict(brute["per_day_in"])


async def test_overview_equals_brute_force_and_is_cached(app: FastAPI, client: httpx.AsyncClient) -> None:
    seed = await seed_tenant(app, unique("Stats"))
    await _fill(app, seed.id, 1)
    other = await seed_tenant(app, unique("Noise"))
    await _fill(app, other.id, 2)  # another tenant's rows must not count
    viewer = bearer(await token_for(app, seed, "viewer"))
    for start, end in [(date(2026, 3, 1), date(2026, 3, 8)), (date(2026, 3, 3), date(2026, 3, 4))]:
        url = f"/api/v1/analytics/overview?from={start}&to={end}"
        first = await client.get(url, headers=viewer)
        assert first.status_code == 200, first.text
        assert first.headers["X-Cache"] == "miss"
        _compare(first.json(), await _brute_force(app, seed.id, start, end))
        second = await client.get(url, headers=viewer)
        assert second.headers["X-Cache"] == "hit" and second.json() == first.json()
        assert len(first.json()["days"]) == (end - start).days + 1
    assert (
        await client.get("/api/v1/analytics/overview?from=2026-03-05&to=2026-03-01", headers=viewer)
    ).status_code == 400
    # clear_cache drops this tenant's keys only.
    redis = app.state.redis
    assert await redis.keys(f"nexus:analytics:{seed.id}:*")
    other_viewer = bearer(await token_for(app, other, "viewer"))
    await client.get("/api/v1/analytics/overview?from=2026-03-01&to=2026-03-08", headers=other_viewer)
    r = await client.post(
        "/api/v1/admin/actions/clear_cache", headers=bearer(await token_for(app, seed, "admin"))
    )
    assert r.json()["result"]["deleted_keys"] == 2
    assert await redis.keys(f"nexus:analytics:{seed.id}:*") == []
    assert len(await redis.keys(f"nexus:analytics:{other.id}:*")) == 1
    again = await client.get("/api/v1/analytics/overview?from=2026-03-01&to=2026-03-08", headers=viewer)
    assert again.headers["X-Cache"] == "miss"


async def test_same_answer_with_redis_stopped(app: FastAPI, client: httpx.AsyncClient) -> None:
    import redis.asyncio as aioredis

    seed = await seed_tenant(app, unique("NoRedis"))
    await _fill(app, seed.id, 3)
    viewer = bearer(await token_for(app, seed, "viewer"))
    url = "/api/v1/analytics/overview?from=2026-03-01&to=2026-03-08"
    expected = (await client.get(url, headers=viewer)).json()
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - a private Redis we can kill
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
    )
    shared = app.state.redis
    private = aioredis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        for _ in range(100):
            try:
                await private.ping()
                break
            except Exception:  # noqa: BLE001
                await asyncio.sleep(0.05)
        app.state.redis = private
        assert (await client.get(url, headers=viewer)).headers["X-Cache"] == "miss"
        assert (await client.get(url, headers=viewer)).headers["X-Cache"] == "hit"
        proc.kill()
        proc.wait(5)
        down = await client.get(url, headers=viewer)
        assert down.status_code == 200 and down.headers["X-Cache"] == "miss"
        assert down.json() == expected
        r = await client.post(
            "/api/v1/admin/actions/clear_cache", headers=bearer(await token_for(app, seed, "admin"))
        )
        assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
    finally:
        app.state.redis = shared
        await private.aclose()
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
