"""Events: a row plus a NOTIFY that only a committed transaction delivers."""

from __future__ import annotations

import asyncio

import psycopg
from orchestrator.events.publisher import publish
from orchestrator.models import Tenant
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker


async def test_notify_is_delivered_only_on_commit(migrated_engine: AsyncEngine, env: dict[str, str]) -> None:
    listener = await psycopg.AsyncConnection.connect(env["POSTGRES_DSN"], autocommit=True)
    await listener.execute("LISTEN nexus_events")
    maker = async_sessionmaker(migrated_engine)
    async with maker() as s, s.begin():
        t = Tenant(name="S")
        s.add(t)
        await s.flush()
        tid = t.id
    async with maker() as s:
        await publish(s, tid, "handoff", {"conversation_id": "x"})
        await s.rollback()
    async with maker() as s, s.begin():
        committed_id = await publish(s, tid, "message.created", {"message": {"id": "m1"}})

    got: list[str] = []

    async def read() -> None:
        async for n in listener.notifies():
            got.append(n.payload)
            break

    await asyncio.wait_for(read(), 5)
    await listener.close()
    assert got == [str(committed_id)]
    with psycopg.connect(env["POSTGRES_DSN"]) as conn:
        rows = conn.execute("SELECT id, type FROM events").fetchall()
    assert rows == [(committed_id, "message.created")]
