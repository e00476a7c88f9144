"""A whole purchase in the chat, on the real services: ask, choose a variant, get the checkout
link, the (fake) store confirms payment, the order appears attributed in analytics."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from decimal import Decimal

from fakes.tiendanube.sales import pay_draft_order

from ..tiendanube.conftest import wait_for
from .conftest import AURORA_VARIANTS, STORE_ID, Shop, interactive, product_uuid

Factory = Callable[..., contextlib.AbstractAsyncContextManager[Shop]]


async def _paid_and_attributed(shop: Shop, draft_id: int, source: str) -> None:
    result = await pay_draft_order(shop.fake, STORE_ID, draft_id)
    assert result["statuses"] == [200, 200]  # order/created and order/paid, signed and accepted

    async def attributed() -> bool:
        rows = shop.rows("SELECT source, matched_by, payment_status, total FROM order_attributions")
        return bool(rows) and rows[0][2] == "paid"

    await wait_for(attributed, 30)
    [(src, matched_by, _, total)] = shop.rows(
        "SELECT source, matched_by, payment_status, total FROM order_attributions"
    )
    assert (src, matched_by) == (source, "draft_order")
    r = await shop.api("GET", "/api/v1/analytics/revenue")
    assert r.status_code == 200, r.text
    rev = r.json()
    assert Decimal(rev["revenue"]) == total and rev["orders"] == 1
    assert rev["by_source"][source]["orders"] == 1 and Decimal(rev["average_order_value"]) == total
    assert rev["by_day"] and rev["conversion_rate"] > 0
    r = await shop.api("GET", f"/api/v1/conversations/{shop.conversation_id()}/cart")
    assert [o["order_id"] for o in r.json()["orders"]] == [draft_id]  # the conversation shows its order


async def test_purchase_without_any_llm(shop_factory: Factory) -> None:
    async with shop_factory(llm=False) as shop:
        aurora = product_uuid(shop)
        await shop.say("Hola! tienen la remera aurora?")
        [products, listing] = await shop.next_sent(0)
        assert "Remera Aurora" in products["body"]["text"]["body"]
        rows = interactive(listing)["action"]["sections"][0]["rows"]
        assert interactive(listing)["type"] == "list" and f"p:{aurora}" in [r["id"] for r in rows]

        await shop.say(reply=(f"p:{aurora}", "Remera Aurora"))
        [variants] = await shop.next_sent(2)
        vrows = interactive(variants)["action"]["sections"][0]["rows"]
        # Out-of-stock variants are not offered.
        assert {r["title"] for r in vrows} == {"S / Negro", "M / Negro", "M / Blanco"}
        m_negro = AURORA_VARIANTS[("M", "Negro")][0]

        await shop.say(reply=(f"v:{aurora}:{m_negro}", "M / Negro"))
        [added] = await shop.next_sent(3)
        assert "Agregué Remera Aurora (M / Negro) al carrito" in added["body"]["text"]["body"]
        r = await shop.api("GET", f"/api/v1/conversations/{shop.conversation_id()}/cart")
        cart = r.json()
        assert [(i["variant_id"], i["quantity"], i["price"]) for i in cart["items"]] == [
            (m_negro, 1, "15000.00")
        ]

        await shop.say("comprar")
        [ask] = await shop.next_sent(4)  # the customer record has no last name nor e-mail yet
        assert "nombre, apellido y e-mail" in ask["body"]["text"]["body"]

        await shop.say("Ana Pérez ana.perez@example.com")
        [link] = await shop.next_sent(5)
        cta = interactive(link)
        assert cta["type"] == "cta_url" and cta["action"]["parameters"]["display_text"] == "Pagar ahora"
        [(draft_id, url)] = shop.rows("SELECT draft_order_id, checkout_url FROM checkouts")
        assert cta["action"]["parameters"]["url"] == url
        draft = shop.store.draft_orders[draft_id]
        assert draft["contact_email"] == "ana.perez@example.com" and draft["total"] == "15000.00"
        assert [(p["variant_id"], p["quantity"]) for p in draft["products"]] == [(m_negro, 1)]
        # Nobody paused the AI along the way: the platform's own responder sold it.
        assert shop.rows("SELECT ai_paused, status FROM chat_conversations") == [(False, "open")]
        await _paid_and_attributed(shop, draft_id, "ai")


async def test_purchase_with_the_fake_openai(shop_factory: Factory) -> None:
    async with shop_factory(llm=True) as shop:
        aurora = product_uuid(shop)
        script = shop.openai.state.script.responses  # type: ignore[union-attr]
        script.extend(
            [
                {"tool_calls": [{"name": "search_products", "arguments": {"query": "remera aurora"}}]},
                {"tool_calls": [{"name": "add_to_cart", "arguments": {"product_id": aurora}}]},
                {"text": "¡La tenemos! ¿En qué talle y color la querés?"},
            ]
        )
        await shop.say("Hola! quiero la remera aurora")
        [question] = await shop.next_sent(0)
        assert "talle y color" in question["body"]["text"]["body"]
        assert shop.rows("SELECT count(*) FROM carts WHERE items <> '[]'") == [(0,)]  # ambiguous: asked

        script.extend(
            [
                {
                    "tool_calls": [
                        {
                            "name": "add_to_cart",
                            "arguments": {"product_id": aurora, "options": ["m", "NEGRO"]},
                        }
                    ]
                },
                {"text": "Listo, la agregué al carrito."},
            ]
        )
        await shop.say("M negra")
        await shop.next_sent(1)
        m_negro = AURORA_VARIANTS[("M", "Negro")][0]
        r = await shop.api("GET", f"/api/v1/conversations/{shop.conversation_id()}/cart")
        assert [(i["variant_id"], i["quantity"]) for i in r.json()["items"]] == [(m_negro, 1)]

        script.extend(
            [
                {
                    "tool_calls": [
                        {
                            "name": "create_checkout",
                            "arguments": {"name": "Ana", "lastname": "Pérez", "email": "ana@example.com"},
                        }
                    ]
                },
                {"text": "¡Perfecto! Te mando el link de pago."},
            ]
        )
        await shop.say("finalizar compra, soy Ana Pérez, ana@example.com")
        [text, link] = await shop.next_sent(2)
        assert text["body"]["text"]["body"] == "¡Perfecto! Te mando el link de pago."
        [(draft_id, url)] = shop.rows("SELECT draft_order_id, checkout_url FROM checkouts")
        assert interactive(link)["action"]["parameters"]["url"] == url
        await _paid_and_attributed(shop, draft_id, "ai")
