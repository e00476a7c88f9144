"""The webhook group commit: two batches in flight, one person's events never in both."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import Any

import psycopg
from orchestrator.pipeline.accounts import Account
from orchestrator.pipeline.endpoints import GroupCommit, PendingEvent
from orchestrator.pipeline.parsing import parse_whatsapp

from fakes.meta_graph import wa_message
from fakes.meta_graph.payloads import encode

from .conftest import PHONE_NUMBER_ID, eventually


def pending(account: Account, wa: str, text: str) -> PendingEvent:
    raw = encode(wa_message(PHONE_NUMBER_ID, wa, text=text, message_id=f"wamid.GC.{uuid.uuid4().hex}"))
    data = json.loads(raw)
    return PendingEvent(
        "whatsapp", raw, data, parse_whatsapp(data), {("whatsapp", PHONE_NUMBER_ID): account}, raw.decode()
    )


async def test_a_batch_stuck_in_postgres_holds_up_its_own_person_only(
    migrated_engine: Any, fresh_dsn: str
) -> None:
    """A batch waits on Postgres (here: another transaction holds the unique key of its body).
    Someone else's webhook is committed and acknowledged meanwhile in the second batch; the same
    person's next webhook waits for the first batch, and its ingest job comes after it (the
    order its conversation lock runs them in)."""
    tenant_id = uuid.uuid4()
    with psycopg.connect(fresh_dsn, autocommit=True) as c:
        c.execute("INSERT INTO tenants (id, name) VALUES (%s, 'GC')", (tenant_id,))
    account = Account(uuid.uuid4(), tenant_id, "whatsapp", PHONE_NUMBER_ID, True, {})
    first, other, second = (
        pending(account, "5491100000001", "hola"),
        pending(account, "5491100000002", "hola"),
        pending(account, "5491100000001", "sigo yo"),
    )
    gc = GroupCommit(migrated_engine)
    blocker = psycopg.connect(fresh_dsn)
    try:
        blocker.execute(
            "INSERT INTO inbound_events (tenant_id, source, body_sha256, payload) "
            "VALUES (%s, 'whatsapp', %s, '{}')",
            (tenant_id, hashlib.sha256(first.raw).hexdigest()),
        )
        stuck = asyncio.create_task(gc.submit(first))

        def waiting_on_lock() -> bool:
            with psycopg.connect(fresh_dsn) as c:
                row = c.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%%INSERT INTO inbound_events%%'"
                ).fetchone()
                return bool(row and row[0])

        await eventually(waiting_on_lock)
        # Another person: committed and acknowledged while the first batch is still waiting.
        other_id = await asyncio.wait_for(gc.submit(other), 30)
        assert other_id is not None
        assert not stuck.done()
        # The same person again: held back behind the batch in flight (not in a batch of its own).
        after = asyncio.create_task(gc.submit(second))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not second.taken and not after.done()
        blocker.rollback()  # the first body's key is free: its batch commits, then the next one
        first_id, second_id = await asyncio.wait_for(asyncio.gather(stuck, after), 30)
    finally:
        blocker.close()
        await gc.close()
    assert first_id is not None and second_id is not None
    with psycopg.connect(fresh_dsn) as c:
        jobs = c.execute(
            "SELECT args->>'event_id' FROM procrastinate.procrastinate_jobs WHERE lock = %s ORDER BY id",
            (next(iter(first.keys)),),
        ).fetchall()
    assert [j[0] for j in jobs] == [str(first_id), str(second_id)]
