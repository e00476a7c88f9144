"""The acknowledgement path (one statement per batch of webhooks) and the reply's hop timings."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from orchestrator.pipeline import accounts
from orchestrator.pipeline.trace import HOPS

from fakes.meta_graph import signed, wa_message

from .conftest import APP_SECRET, PHONE_NUMBER_ID, Stack, eventually


async def test_concurrent_webhooks_each_stored_once_with_exactly_one_job(stack: Stack) -> None:
    """Thirty people write at once and Meta delivers every body twice, the copies racing each
    other into the same batches: thirty events, thirty ingest jobs (one per event), thirty replies."""
    people = [f"54911{5000000 + i:07d}" for i in range(30)]
    bodies = [signed(wa_message(PHONE_NUMBER_ID, wa, text="hola"), APP_SECRET) for wa in people]
    posts = [
        stack.client.post(f"{stack.orch_url}/webhooks/whatsapp", content=body, headers=headers)
        for body, headers in bodies
        for _ in range(2)
    ]
    answers = await asyncio.gather(*posts)
    assert [r.status_code for r in answers] == [200] * 60
    assert all(r.json() == {"status": "received"} for r in answers)

    assert stack.rows("SELECT count(*), count(DISTINCT body_sha256) FROM inbound_events") == [(30, 30)]
    jobs = stack.rows(
        "SELECT args->>'event_id', count(*) FROM procrastinate.procrastinate_jobs "
        "WHERE task_name = 'pipeline:ingest' GROUP BY 1"
    )
    events = {r[0] for r in stack.rows("SELECT id::text FROM inbound_events")}
    assert {e for e, _ in jobs} == events
    assert all(n == 1 for _, n in jobs)
    # The event row holds the webhook as received (stored from its own bytes).
    payloads = stack.rows("SELECT payload FROM inbound_events")
    senders = [p[0]["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] for p in payloads]
    assert sorted(senders) == sorted(people)

    await eventually(lambda: all(len(stack.sent_to(wa)) == 1 for wa in people), timeout=60)
    await asyncio.sleep(0.5)  # a second reply would have been sent by now
    assert all(len(stack.sent_to(wa)) == 1 for wa in people)
    assert stack.rows("SELECT count(*) FROM chat_messages WHERE direction = 'inbound'") == [(30,)]


async def test_a_reply_has_its_hop_timings_in_the_thinking_log(stack: Stack) -> None:
    wa = "5491133334444"
    message_id = f"wamid.TRACE.{uuid.uuid4().hex}"
    r = await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, wa, text="hola", message_id=message_id))
    assert r.status_code == 200
    await eventually(lambda: stack.sent_to(wa), timeout=30)

    def timing_steps() -> list[dict[str, object]]:
        rows = stack.rows(
            "SELECT r.steps FROM agent_runs r JOIN chat_messages m ON m.agent_run_id = r.id "
            "WHERE m.provider_message_id = %s",
            message_id,
        )
        return [st for st in (rows[0][0] if rows else []) if st.get("kind") == "timing"]

    steps = await eventually(timing_steps, timeout=10)
    # Every hop from the webhook to Graph, in pipeline order, each with its duration.
    assert [st["name"] for st in steps] == [name for name, _, _ in HOPS]
    for st in steps:
        assert isinstance(st["duration_ms"], int | float)
        assert st["duration_ms"] >= 0
    # The marks travelled with the jobs: the ingest job carried the webhook's arrival time.
    [(trace,)] = stack.rows(
        "SELECT j.args->'trace' FROM procrastinate.procrastinate_jobs j "
        "JOIN inbound_events e ON e.id::text = j.args->>'event_id' "
        "WHERE e.payload->'entry'->0->'changes'->0->'value'->'messages'->0->>'id' = %s",
        message_id,
    )
    assert set(trace) == {"received"}
    # The run's other steps are still there (the timings were appended, nothing replaced).
    [(kinds,)] = stack.rows(
        "SELECT array_agg(DISTINCT st->>'kind') FROM agent_runs r "
        "JOIN chat_messages m ON m.agent_run_id = r.id, jsonb_array_elements(r.steps) st "
        "WHERE m.provider_message_id = %s",
        message_id,
    )
    assert "timing" in kinds and len(kinds) > 1


async def test_a_nul_character_in_one_webhook_does_not_fail_its_batch(stack: Stack) -> None:
    """Postgres cannot store U+0000: the body that carries one is stored without it, and the
    webhooks committed in the same batch are acknowledged and answered like any other."""
    people = [f"54911{6000000 + i:07d}" for i in range(8)]
    texts = ["hola\u0000 quiero una remera" if i == 0 else "hola" for i in range(len(people))]
    bodies = [
        signed(wa_message(PHONE_NUMBER_ID, wa, text=t), APP_SECRET)
        for wa, t in zip(people, texts, strict=True)
    ]
    assert b"\\u0000" in bodies[0][0]
    answers = await asyncio.gather(
        *(
            stack.client.post(f"{stack.orch_url}/webhooks/whatsapp", content=body, headers=headers)
            for body, headers in bodies
        )
    )
    assert [r.status_code for r in answers] == [200] * len(people)
    await eventually(lambda: all(len(stack.sent_to(wa)) == 1 for wa in people), timeout=60)
    stored = stack.rows(
        "SELECT text FROM chat_messages WHERE direction = 'inbound' AND text LIKE '%%remera%%'"
    )
    assert stored == [("hola quiero una remera",)]


async def test_webhooks_that_miss_the_account_cache_together_read_the_account_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the cached account expires under load, the webhooks that miss it at the same moment
    share one read (and one decrypt of the app secret), not a session each."""
    reads: list[str] = []
    real = accounts.find_account

    async def counting(session: Any, channel: str, external_id: str) -> Any:
        reads.append(external_id)
        return await real(session, channel, external_id)

    monkeypatch.setattr(accounts, "find_account", counting)
    accounts._cache.clear()  # expired
    people = [f"54911{7000000 + i:07d}" for i in range(20)]
    bodies = [signed(wa_message(PHONE_NUMBER_ID, wa, text="hola"), APP_SECRET) for wa in people]
    answers = await asyncio.gather(
        *(
            stack.client.post(f"{stack.orch_url}/webhooks/whatsapp", content=body, headers=headers)
            for body, headers in bodies
        )
    )
    assert [r.status_code for r in answers] == [200] * len(people)
    assert reads == [PHONE_NUMBER_ID]
    assert stack.rows("SELECT count(*) FROM inbound_events") == [(len(people),)]
