"""Orders linked to the conversation that produced them: by draft order (see test_purchase), by a
Nexus coupon, or by the same customer within 7 days of a conversation the AI answered."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC
from decimal import Decimal

from fakes.tiendanube.sales import place_order

from ..tiendanube.conftest import wait_for
from .conftest import AURORA_VARIANTS, INTERNAL, STORE_ID, Shop

Factory = Callable[..., contextlib.AbstractAsyncContextManager[Shop]]
M_BLANCO = AURORA_VARIANTS[("M", "Blanco")][0]


async def _delivered(shop: Shop, order_id: int, *events: str) -> None:
    for event in events:
        assert await shop.fake.deliver(STORE_ID, event, order_id) == [200]


async def _attributed(shop: Shop, order_id: int, status: str = "paid") -> tuple[str, str]:
    async def row() -> list[tuple[str, str]]:
        return shop.rows(  # type: ignore[return-value]
            "SELECT source, matched_by FROM order_attributions WHERE order_id = %s AND payment_status = %s",
            order_id,
            status,
        )

    [(source, matched_by)] = await wait_for(row, 30)
    return source, matched_by


async def test_coupon_and_customer_window_attribution(shop_factory: Factory) -> None:
    async with shop_factory(llm=False) as shop:
        await shop.say("hola, busco la remera aurora")
        await shop.next_sent(0)
        conv = shop.conversation_id()
        with_email = "UPDATE customers SET email = 'ana@example.com', name = 'Ana Pérez'"
        shop.rows(with_email + " RETURNING id")

        # The same customer orders on the storefront by themselves: the AI conversation of the
        # last 7 days gets the sale.
        order = place_order(shop.fake, STORE_ID, email="ANA@example.com", variant_id=M_BLANCO)
        # Tienda Nube stamps orders to the second: an order placed in the second the AI answered
        # carries a stamp earlier than the answer's and must still count as after it.
        [(answered,)] = shop.rows("SELECT max(created_at) FROM agent_runs WHERE conversation_id = %s", conv)
        with shop.fake.lock:
            order["created_at"] = answered.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
        await _delivered(shop, order["id"], "order/created", "order/paid")
        assert await _attributed(shop, order["id"]) == ("ai", "customer_window")
        # The dashboard hears of it at once: the conversation's cart panel reloads on this event.
        announced = shop.rows(
            "SELECT data->>'conversation_id', data->>'payment_status', data->>'source' FROM events "
            "WHERE type = 'order.attributed' AND (data->>'order_id')::bigint = %s",
            order["id"],
        )
        assert (str(conv), "paid", "ai") in announced

        # A Nexus coupon used by someone else's e-mail still points at the conversation that got it.
        r = await shop.api(
            "PUT",
            "/api/v1/settings/coupons",
            {"enabled": True, "max_percent": "15", "valid_hours": 2, "daily_cap": 1, "on_request": True},
        )
        assert r.status_code == 200, r.text
        r = await shop.client.post(
            f"{shop.orch_url}/internal/conversations/{conv}/coupons",
            params={"tenant_id": shop.tenant_id},
            json={"reason": "on_request"},
            headers={"X-Internal-Token": INTERNAL},
        )
        assert r.json()["status"] == "issued" and r.json()["percent"] == "15.00"
        code = r.json()["code"]
        # Asking again returns the customer's live coupon; the daily cap (1) is not spent twice.
        again = await shop.client.post(
            f"{shop.orch_url}/internal/conversations/{conv}/coupons",
            params={"tenant_id": shop.tenant_id},
            json={"reason": "on_request", "percent": 5},
            headers={"X-Internal-Token": INTERNAL},
        )
        assert again.json()["status"] == "existing" and again.json()["code"] == code
        assert len(shop.store.coupons) == 1
        gift = place_order(
            shop.fake, STORE_ID, email="amiga@example.com", variant_id=M_BLANCO, coupon_code=code
        )
        await _delivered(shop, gift["id"], "order/paid")
        assert await _attributed(shop, gift["id"]) == ("ai", "coupon")

        # A stranger's order is nobody's; a cancelled order leaves the revenue.
        stranger = place_order(shop.fake, STORE_ID, email="otro@example.com", variant_id=M_BLANCO)
        await _delivered(shop, stranger["id"], "order/paid")
        shop.store.orders[order["id"]]["status"] = "cancelled"
        await _delivered(shop, order["id"], "order/cancelled")
        await _attributed(shop, order["id"], "cancelled")
        assert shop.rows("SELECT count(*) FROM order_attributions WHERE order_id = %s", stranger["id"]) == [
            (0,)
        ]
        r = await shop.api("GET", "/api/v1/analytics/revenue")
        rev = r.json()
        assert rev["orders"] == 1 and Decimal(rev["revenue"]) == Decimal(gift["total"])
        # Redelivered webhooks change nothing.
        await _delivered(shop, gift["id"], "order/paid")
        await wait_for(lambda: _idle(shop), 30)
        assert shop.rows("SELECT count(*) FROM order_attributions") == [(2,)]


async def _idle(shop: Shop) -> bool:
    return shop.rows(
        "SELECT count(*) FROM inbound_events WHERE source = 'tiendanube' AND state NOT IN ('done', 'ignored')"
    ) == [(0,)]
