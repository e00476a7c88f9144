"""Staff see and edit the cart, send the checkout link; the live check refuses clearly."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from fakes.tiendanube.sales import pay_draft_order

from ..tiendanube.conftest import wait_for
from .conftest import AURORA_ID, AURORA_VARIANTS, STORE_ID, Shop, interactive

Factory = Callable[..., contextlib.AbstractAsyncContextManager[Shop]]
S_NEGRO = AURORA_VARIANTS[("S", "Negro")][0]
M_NEGRO = AURORA_VARIANTS[("M", "Negro")][0]
S_BLANCO = AURORA_VARIANTS[("S", "Blanco")][0]


async def test_staff_cart_checkout_and_refusals(shop_factory: Factory) -> None:
    async with shop_factory(llm=False) as shop:
        await shop.say("hola")
        await shop.next_sent(0)
        conv = shop.conversation_id()
        path = f"/api/v1/conversations/{conv}"

        # Only variants and quantities: a price is refused, an unknown variant too.
        r = await shop.api(
            "PUT", f"{path}/cart", {"items": [{"variant_id": M_NEGRO, "quantity": 1, "price": "1"}]}
        )
        assert r.status_code == 422
        r = await shop.api("PUT", f"{path}/cart", {"items": [{"variant_id": 123, "quantity": 1}]})
        assert r.status_code == 422 and r.json()["error"]["details"]["variant_ids"] == [123]
        r = await shop.api("PUT", f"{path}/cart", {"items": [{"variant_id": M_NEGRO, "quantity": 2}]})
        assert r.status_code == 200, r.text
        assert r.json()["subtotal"] == "30000.00" and r.json()["items"][0]["name"] == "Remera Aurora"
        r = await shop.api("GET", "/api/v1/conversations/00000000-0000-0000-0000-000000000000/cart")
        assert r.status_code == 404

        # The customer record has neither last name nor e-mail: the 422 names them.
        r = await shop.api("POST", f"{path}/checkout", {})
        assert r.status_code == 422 and r.json()["error"]["details"]["missing"] == ["lastname", "email"]

        # Live check: out of stock, unpublished, deleted → 409 with a reason per line, nothing created.
        contact = {"name": "Ana", "lastname": "Pérez", "email": "ana@example.com"}
        r = await shop.api(
            "POST",
            f"{path}/checkout",
            {
                "items": [{"variant_id": S_BLANCO, "quantity": 1}, {"variant_id": S_NEGRO, "quantity": 9}],
                "contact": contact,
            },
        )
        assert r.status_code == 409, r.text
        assert r.json()["error"]["details"]["lines"] == [
            {"variant_id": S_BLANCO, "reason": "out_of_stock"},
            {"variant_id": S_NEGRO, "reason": "insufficient_stock", "available": 5},
        ]
        shop.store.products[AURORA_ID]["published"] = False
        r = await shop.api("POST", f"{path}/checkout", {"contact": contact})
        assert r.status_code == 409 and r.json()["error"]["details"]["lines"][0]["reason"] == "unpublished"
        saved = shop.store.products.pop(AURORA_ID)
        r = await shop.api("POST", f"{path}/checkout", {"contact": contact})
        assert r.status_code == 409 and r.json()["error"]["details"]["lines"][0]["reason"] == "deleted"
        assert shop.store.draft_orders == {} and shop.rows("SELECT count(*) FROM checkouts") == [(0,)]

        saved["published"] = True
        shop.store.products[AURORA_ID] = saved
        seen = len(shop.sent())
        r = await shop.api("POST", f"{path}/checkout", {"contact": contact})
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["total"] == "30000.00" and out["currency"] == "ARS"
        assert out["checkout_url"] == shop.store.draft_orders[out["draft_order_id"]]["checkout_url"]
        [link] = await shop.next_sent(seen)
        assert interactive(link)["action"]["parameters"]["url"] == out["checkout_url"]
        r = await shop.api("GET", f"{path}/cart")
        body = r.json()
        assert body["items"] == [] and body["checkouts"][0]["draft_order_id"] == out["draft_order_id"]
        assert body["checkouts"][0]["source"] == "staff"
        # The customer's record now has what the store needed.
        assert shop.rows("SELECT name, email FROM customers") == [("Ana Pérez", "ana@example.com")]

        await pay_draft_order(shop.fake, STORE_ID, out["draft_order_id"])

        async def staff_sale() -> bool:
            return shop.rows("SELECT source, payment_status FROM order_attributions") == [("staff", "paid")]

        await wait_for(staff_sale, 30)
        r = await shop.api("GET", "/api/v1/analytics/revenue")
        assert r.json()["by_source"]["staff"] == {"revenue": "30000.00", "orders": 1}
