"""Order webhooks → exactly one template per order and event, in the customer's language."""

from __future__ import annotations

import asyncio

from ..pipeline.conftest import eventually
from .conftest import BUYER_WA, World


async def map_templates(world: World) -> None:
    r = await world.api(
        "PUT",
        "/api/v1/settings/notifications",
        json={
            "order_paid": {"template": "pedido_pagado"},
            "order_fulfilled": {"template": "pedido_enviado"},
            "order_cancelled": {"template": "pedido_cancelado", "enabled": False},
        },
    )
    assert r.status_code == 200, r.text


async def test_templates_are_listed_from_the_graph_api(world: World) -> None:
    r = await world.api("GET", "/api/v1/templates")
    items = {(t["name"], t["language"]): t for t in r.json()["items"]}
    assert items[("pedido_enviado", "es_AR")]["parameters"] == 4
    assert items[("carrito_abandonado", "es_AR")]["category"] == "MARKETING"
    assert items[("promo_pendiente", "es_AR")]["status"] == "PENDING"


async def test_order_paid_delivered_14_times_sends_one_template(world: World) -> None:
    await map_templates(world)
    oid = world.add_order()
    results = await asyncio.gather(*(world.order_webhook("order/paid", oid) for _ in range(14)))
    assert results == [200] * 14
    await eventually(lambda: len(world.sent_templates()) == 1)
    [tpl] = world.sent_templates()
    assert tpl["name"] == "pedido_pagado" and tpl["language"] == {"code": "es_AR"}
    assert [p["text"] for p in tpl["components"][0]["parameters"]] == ["Ana", "1000", "ARS 5660.00"]
    # A redelivery with a different body (Tienda Nube retries carry the same one; be sure anyway).
    body, headers = world.fake.signed({"store_id": world.store_id, "event": "order/paid", "id": oid, "x": 1})
    r = await world.stack.client.post(
        f"{world.stack.orch_url}/webhooks/tiendanube", content=body, headers=headers
    )
    assert r.status_code == 200
    await asyncio.sleep(1.0)  # room for a duplicate to show up, if there were one
    assert len(world.sent_templates()) == 1
    rows = world.stack.rows(
        "SELECT m.sender, m.type, m.status, m.payload->>'proactive' FROM chat_messages m "
        "JOIN proactive_messages p ON p.message_id = m.id"
    )
    assert rows == [("system", "template", "sent", "order_paid")]
    # The customer was created from the order (by phone) and the conversation shows the message.
    [(phone, name)] = world.stack.rows("SELECT phone_number, name FROM customers")
    assert (phone, name) == ("+5491123456789", "Ana Pérez")


async def test_each_event_once_disabled_events_and_unmapped_ones_send_nothing(world: World) -> None:
    await map_templates(world)
    oid = world.add_order()
    for event in ("order/paid", "order/fulfilled", "order/cancelled", "order/packed", "order/fulfilled"):
        assert await world.order_webhook(event, oid) == 200
    await eventually(lambda: len(world.sent_templates()) == 2)
    await asyncio.sleep(1.0)
    names = sorted(t["name"] for t in world.sent_templates())
    assert names == ["pedido_enviado", "pedido_pagado"]
    shipped = next(t for t in world.sent_templates() if t["name"] == "pedido_enviado")
    assert shipped["components"][0]["parameters"][3]["text"] == "https://track.example.com/AR123"
    # cancelled is switched off (no ledger row); packed has no template mapped.
    expected = {"order_paid": "queued", "order_fulfilled": "queued", "order_packed": "no_template"}
    await eventually(
        lambda: (
            dict(world.stack.rows("SELECT kind, coalesce(reason, state) FROM proactive_messages")) == expected
        )
    )
    assert len(world.sent_templates()) == 2


async def test_an_opted_out_customer_gets_no_order_update(world: World) -> None:
    await map_templates(world)
    from fakes.meta_graph import wa_message

    from ..pipeline.conftest import PHONE_NUMBER_ID

    await world.stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, BUYER_WA, text="BAJA"))
    await eventually(lambda: world.stack.rows("SELECT state FROM customer_consents") == [("opted_out",)])
    oid = world.add_order()
    assert await world.order_webhook("order/paid", oid) == 200
    await eventually(lambda: world.stack.rows("SELECT reason FROM proactive_messages") == [("opted_out",)])
    assert world.sent_templates() == []


async def test_settings_reject_an_unknown_template_and_keep_unsent_values(world: World) -> None:
    await map_templates(world)
    r = await world.api("PUT", "/api/v1/settings/notifications", json={"order_paid": {"template": "nope"}})
    assert r.status_code == 422 and "nope" in r.json()["error"]["message"]
    r = await world.api("PUT", "/api/v1/settings/notifications", json={"cart_recovery": {"delay_minutes": 5}})
    assert r.status_code == 422
    r = await world.api("PUT", "/api/v1/settings/notifications", json={"cart_recovery": {"enabled": True}})
    body = r.json()
    assert body["order_paid"]["template"] == "pedido_pagado"
    assert body["cart_recovery"] == {
        "enabled": True,
        "template": None,
        "language": "",
        "delay_minutes": 60,
        "cooldown_days": 7,
    }
