"""The outbox's "never twice" when a send's fate is unknown: whatsapp_service gives up on Graph
(2 s) while Graph either accepted the message (its status webhook names our row) or never got it
(the sweeper queues the row again). Either way exactly one message reaches the customer."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import httpx

from fakes.meta_graph import wa_message

from .conftest import APP_SECRET, PHONE_NUMBER_ID, Stack, eventually

WA = "5491155550001"


def outbound(stack: Stack) -> list[tuple[str, str | None, int]]:
    return stack.rows(
        "SELECT status, provider_message_id, attempts FROM chat_messages WHERE direction = 'outbound'"
    )


async def test_graph_accepted_but_the_answer_was_lost_status_webhook_settles_it(
    stack_factory: Callable[..., contextlib.AbstractAsyncContextManager[Stack]],
) -> None:
    # Grace well past Graph's late answer, so the status webhook is what settles the row.
    async with stack_factory(NEXUS_OUTBOX_GRACE_SECONDS="6") as stack:
        async with httpx.AsyncClient() as c:
            hook = {"url": f"{stack.orch_url}/webhooks/whatsapp", "app_secret": APP_SECRET}
            await c.post(f"{stack.graph_url}/_fake/config", json={"status_webhook": hook})
            await c.post(f"{stack.graph_url}/_fake/fail", json={"timeout": 2.5})
        await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, WA, text="hola"))

        # The send timed out in whatsapp_service (504: fate unknown) and the row waits in `sending`.
        await eventually(lambda: [r for r in outbound(stack) if r[0] == "sending"])
        # Graph did take it; its status webhook carries our row id and settles the row.
        sent = await eventually(lambda: stack.sent_to(WA))
        row = await eventually(lambda: [r for r in outbound(stack) if r[1] is not None])
        assert row == [("sent", sent[0]["id"], 1)]
        assert 200 in stack.graph.webhook_results
        # Past the grace period and several sweeps later: never sent a second time.
        await eventually(
            lambda: (
                stack.rows("SELECT now() > max(created_at) + interval '9 seconds' FROM chat_messages")
                == [(True,)]
            ),
            timeout=30,
        )
        assert len(stack.sent_to(WA)) == 1
        assert outbound(stack) == [("sent", sent[0]["id"], 1)]


async def test_a_send_lost_before_graph_took_it_is_swept_and_sent_once(stack: Stack) -> None:
    async with httpx.AsyncClient() as c:
        await c.post(f"{stack.graph_url}/_fake/fail", json={"lost": 2.5})
    await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, WA, text="hola"))

    await eventually(lambda: [r for r in outbound(stack) if r[0] == "sending"])
    # No status webhook can come (Graph never had it): past the grace period the sweeper queues
    # the row again and it goes out, once.
    sent = await eventually(lambda: stack.sent_to(WA), timeout=30)
    row = await eventually(lambda: [r for r in outbound(stack) if r[0] == "sent"])
    assert row == [("sent", sent[0]["id"], 2)]
    assert len(stack.sent_to(WA)) == 1
    graph_calls = [r for r in stack.graph.requests if r["json"] and r["json"].get("to") == WA]
    assert [r["status"] for r in graph_calls] == [500, 200]  # the lost attempt, then the real one
