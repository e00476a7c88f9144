"""Meta's send error codes, synchronous and asynchronous, on messages Nexus sends first."""

from __future__ import annotations

import asyncio

import pytest

from fakes.meta_graph import wa_message

from ..pipeline.conftest import PHONE_NUMBER_ID, eventually
from .conftest import BUYER_WA, World
from .test_order_notifications import map_templates


def outbound(world: World) -> list[tuple[str, str, str | None, int]]:
    return world.stack.rows(
        "SELECT type, status, error_code, attempts FROM chat_messages "
        "WHERE direction = 'outbound' AND payload ? 'proactive' ORDER BY created_at"
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_131050_records_an_opt_out_and_is_not_retried(world: World, mode: str) -> None:
    world.stack.graph.status_webhook = {
        "url": f"{world.stack.orch_url}/webhooks/whatsapp",
        "app_secret": "wa-app-secret-for-tests",
    }
    await map_templates(world)
    world.stack.graph.recipient_failures[BUYER_WA] = {"code": 131050, "mode": mode, "times": None}
    assert await world.order_webhook("order/paid", world.add_order()) == 200
    await eventually(
        lambda: world.stack.rows("SELECT state, source FROM customer_consents") == [("opted_out", "meta")]
    )
    assert outbound(world) == [("template", "failed", "131050", 1)]
    # And from now on nothing goes to them, whatever sends it.
    del world.stack.graph.recipient_failures[BUYER_WA]
    assert await world.order_webhook("order/fulfilled", world.add_order()) == 200
    await eventually(lambda: ("opted_out",) in world.stack.rows("SELECT reason FROM proactive_messages"))
    assert world.sent_templates() == []


async def test_131047_inside_a_supposed_window_is_resent_as_the_template(world: World) -> None:
    await map_templates(world)
    await world.stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, BUYER_WA, text="hola"))
    await eventually(lambda: len(world.stack.sent_to(BUYER_WA)) == 1)  # the AI's answer
    world.stack.graph.recipient_failures[BUYER_WA] = {"code": 131047, "mode": "sync", "times": 1}
    assert await world.order_webhook("order/paid", world.add_order()) == 200
    await eventually(lambda: len(world.sent_templates()) == 1)
    assert world.sent_templates()[0]["name"] == "pedido_pagado"
    await eventually(lambda: [(r[0], r[1], r[3]) for r in outbound(world)] == [("template", "sent", 2)])


async def test_throughput_limit_backs_off_and_retries_once_sent(world: World) -> None:
    await map_templates(world)
    world.stack.graph.recipient_failures[BUYER_WA] = {"code": 130429, "mode": "sync", "times": 2}
    assert await world.order_webhook("order/paid", world.add_order()) == 200
    await eventually(lambda: outbound(world) == [("template", "sent", None, 3)], timeout=30)
    assert len(world.sent_templates()) == 1


@pytest.mark.parametrize(("code", "mode"), [(131026, "async"), (131049, "sync")])
async def test_undeliverable_and_marketing_limit_fail_without_retry(
    world: World, code: int, mode: str
) -> None:
    world.stack.graph.status_webhook = {
        "url": f"{world.stack.orch_url}/webhooks/whatsapp",
        "app_secret": "wa-app-secret-for-tests",
    }
    await map_templates(world)
    world.stack.graph.recipient_failures[BUYER_WA] = {"code": code, "mode": mode, "times": None}
    assert await world.order_webhook("order/paid", world.add_order()) == 200
    await eventually(lambda: [r[1] for r in outbound(world)] == ["failed"])
    await asyncio.sleep(1.0)
    assert outbound(world) == [("template", "failed", str(code), 1)]
    assert world.stack.rows("SELECT count(*) FROM customer_consents") == [(0,)]  # not an opt-out
    if code == 131026:
        assert world.stack.rows(
            "SELECT payload->>'undeliverable' FROM chat_messages WHERE payload ? 'proactive'"
        ) == [("true",)]
