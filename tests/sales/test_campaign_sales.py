"""Campaigns meet selling (issues 13 and 15) on the real services: a campaign coupon within the
owner's policy, campaign messages in the customers' conversations (a reply is answered there),
orders credited to the campaign (7-day window or its coupon) and audiences built from orders."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from fakes.meta_graph.templates import template
from fakes.tiendanube.sales import place_order

from ..tiendanube.conftest import wait_for
from .conftest import ADMIN, AURORA_ID, AURORA_VARIANTS, PHONE_NUMBER_ID, STORE_ID, WA_SECRET, Shop

Factory = Callable[..., contextlib.AbstractAsyncContextManager[Shop]]
M_BLANCO = AURORA_VARIANTS[("M", "Blanco")][0]
S_NEGRO = AURORA_VARIANTS[("S", "Negro")][0]
WABA_ID = "102290129340398"
PROMO = template(
    "promo_cupon",
    "es_AR",
    body="Hola {{1}}, usá {{2}} y llevate {{3}} de descuento",
    category="MARKETING",
)
ANA, BETO, CARLA = "+5491155550001", "+5491155550002", "+5491155550003"


async def _templates(shop: Shop) -> None:
    shop.graph.templates[WABA_ID] = [PROMO]
    shop.graph.phone_wabas[PHONE_NUMBER_ID] = WABA_ID
    r = await shop.client.put(
        f"{shop.orch_url}/api/v1/tenants/{shop.tenant_id}/channels/whatsapp",
        json={
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": "EAAG-fake-access-token-for-tests",
            "app_secret": WA_SECRET,
            "verify_token": "wa-verify-token-for-tests",
            "waba_id": WABA_ID,
        },
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert r.status_code == 200, r.text
    r = await shop.api("POST", "/api/v1/templates/sync")
    assert r.status_code == 200, r.text


async def _import(shop: Shop) -> None:
    csv = "phone,name,language,consent_source,tags\n" + "".join(
        f"{p},{n},es,web_form,promo\n" for p, n in ((ANA, "Ana"), (BETO, "Beto"), (CARLA, "Carla"))
    )
    r = await shop.client.post(
        f"{shop.orch_url}/api/v1/customers/import",
        content=csv.encode(),
        headers={"Authorization": f"Bearer {shop.owner_token}", "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 3


async def _create(shop: Shop, **extra: Any) -> httpx.Response:
    body = {
        "name": "Cupón de verano",
        "template": "promo_cupon",
        "language": "es_AR",
        "audience": {"filter": {"tags": ["promo"]}},
        "variables": ["customer.first_name", "coupon.code", "coupon.percent"],
        **extra,
    }
    return await shop.api("POST", "/api/v1/campaigns", body)


async def _policy(shop: Shop, **p: Any) -> None:
    body = {"enabled": True, "max_percent": "15", "valid_hours": 72, "daily_cap": 5, **p}
    r = await shop.api("PUT", "/api/v1/settings/coupons", body)
    assert r.status_code == 200, r.text


async def _preview(shop: Shop, flt: dict[str, Any]) -> int:
    r = await shop.api("POST", "/api/v1/audiences/preview", {"filter": flt})
    assert r.status_code == 200, r.text
    return int(r.json()["count"])


async def test_campaign_coupon_conversations_revenue_and_order_audiences(shop_factory: Factory) -> None:
    async with shop_factory(llm=False) as shop:
        await _templates(shop)
        await _import(shop)

        # The coupon is held to the owner's policy, with a JSON error naming the limit broken.
        no_coupon = await _create(shop)
        assert no_coupon.status_code == 422
        assert no_coupon.json()["error"]["code"] == "coupon_variable_without_coupon"
        for policy, percent, reason in (
            (None, 10, "coupons_disabled"),
            ({"on_campaign": False}, 10, "not_allowed_on_campaign"),
            ({"on_campaign": True}, 20, "over_limit"),
        ):
            if policy is not None:
                await _policy(shop, **policy)
            r = await _create(shop, coupon={"percent": percent})
            assert r.status_code == 422, r.text
            err = r.json()["error"]
            assert err["code"] == "coupon_not_allowed" and err["details"]["reason"] == reason
        assert shop.rows("SELECT count(*) FROM campaigns") == [(0,)]
        r = await _create(shop, coupon={"percent": 15})
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        assert not shop.store.coupons  # the code is created when sending starts

        r = await shop.api("POST", f"/api/v1/campaigns/{cid}/start")
        assert r.status_code == 200, r.text

        async def done() -> dict[str, Any] | None:
            c = (await shop.api("GET", f"/api/v1/campaigns/{cid}")).json()
            return c if c["status"] == "done" else None

        c = await wait_for(done, 45)
        assert c["counts"]["sent"] == 3
        [coupon] = shop.store.coupons.values()
        code = c["coupon"]["code"]
        assert coupon["code"] == code and coupon["value"] == "15.00" and coupon["max_uses"] == 3
        sends = [m for m in shop.graph.sent if m["type"] == "template"]
        assert sorted(m["to"] for m in sends) == [ANA[1:], BETO[1:], CARLA[1:]]
        for m in sends:
            params = [p["text"] for p in m["body"]["template"]["components"][0]["parameters"]]
            assert params[1:] == [code, "15%"]

        # Each send is in its customer's conversation, marked as a campaign message.
        msgs = shop.rows(
            "SELECT cu.phone_number, m.text, m.sender, m.status FROM chat_messages m"
            " JOIN chat_conversations c ON c.id = m.conversation_id"
            " JOIN customers cu ON cu.id = c.customer_id"
            " WHERE m.payload->>'proactive' = 'campaign' AND m.payload->>'campaign_id' = %s ORDER BY 1",
            cid,
        )
        assert [(p, s, st) for p, _, s, st in msgs] == [(p, "system", "sent") for p in (ANA, BETO, CARLA)]
        assert msgs[0][1] == f"Hola Ana, usá {code} y llevate 15% de descuento"

        # Ana replies: her message lands in that conversation and the AI answers it there.
        await shop.say("hola! me interesa la remera aurora")
        await shop.next_sent(1)
        [(conv_id, kinds)] = shop.rows(
            "SELECT c.id, array_agg(m.sender ORDER BY m.created_at) FROM chat_conversations c"
            " JOIN customers cu ON cu.id = c.customer_id JOIN chat_messages m ON m.conversation_id = c.id"
            " WHERE cu.phone_number = %s GROUP BY c.id",
            ANA,
        )
        assert kinds[:2] == ["system", "customer"] and kinds[-1] == "ai"
        assert shop.rows("SELECT count(*) FROM agent_runs WHERE conversation_id = %s", conv_id) == [(1,)]

        # Orders: Ana buys within 7 days of the campaign message (she also talked to the AI: the
        # campaign keeps the credit); a friend uses the campaign's code; a stranger buys alone.
        ana = place_order(shop.fake, STORE_ID, email="ana@example.com", phone=ANA, variant_id=M_BLANCO)
        friend = place_order(
            shop.fake, STORE_ID, email="amiga@example.com", variant_id=S_NEGRO, coupon_code=code
        )
        stranger = place_order(shop.fake, STORE_ID, email="otro@example.com", variant_id=M_BLANCO)
        for order in (ana, friend, stranger):
            assert await shop.fake.deliver(STORE_ID, "order/paid", order["id"]) == [200]

        async def credited() -> list[tuple[Any, ...]] | None:
            rows = shop.rows(
                "SELECT order_id, source, matched_by, campaign_id::text, conversation_id::text"
                " FROM order_attributions ORDER BY order_id"
            )
            facts = shop.rows("SELECT count(*) FROM customer_orders")[0][0]
            return rows if len(rows) == 2 and facts == 3 else None

        rows = await wait_for(credited, 45)
        assert rows == [
            (ana["id"], "campaign", "campaign_window", cid, str(conv_id)),
            (friend["id"], "campaign", "campaign_coupon", cid, None),
        ]
        report = (await shop.api("GET", f"/api/v1/campaigns/{cid}/report")).json()
        assert report["orders"] == 2 and report["paid_orders"] == 2
        assert Decimal(report["revenue"]) == Decimal(ana["total"]) + Decimal(friend["total"])
        assert report["currency"] == ana["currency"]
        # A cancelled order leaves the revenue.
        shop.store.orders[ana["id"]]["status"] = "cancelled"
        assert await shop.fake.deliver(STORE_ID, "order/cancelled", ana["id"]) == [200]

        async def cancelled() -> dict[str, Any] | None:
            rep = (await shop.api("GET", f"/api/v1/campaigns/{cid}/report")).json()
            return rep if rep["orders"] == 1 else None

        report = await wait_for(cancelled, 30)
        assert Decimal(report["revenue"]) == Decimal(friend["total"]) and report["paid_orders"] == 1

        # Audiences from the order facts Nexus now keeps (customer_orders).
        await _idle(shop)
        beto_order = place_order(
            shop.fake, STORE_ID, email="beto@example.com", phone=BETO, variant_id=S_NEGRO
        )
        assert await shop.fake.deliver(STORE_ID, "order/created", beto_order["id"]) == [200]

        async def beto_known() -> bool:
            return shop.rows(
                "SELECT count(*) FROM customer_orders o JOIN customers c ON c.id = o.customer_id"
                " WHERE c.phone_number = %s",
                BETO,
            ) == [(1,)]

        await wait_for(beto_known, 30)
        shop.rows(
            "UPDATE products SET categories = '{Remeras}' WHERE external_id = %s RETURNING id", AURORA_ID
        )
        yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        assert await _preview(shop, {"bought_product_ids": [AURORA_ID]}) == 1  # Beto (Ana's was cancelled)
        assert await _preview(shop, {"bought_product_ids": [AURORA_ID + 999]}) == 0
        assert await _preview(shop, {"bought_categories": ["remeras"]}) == 1
        assert await _preview(shop, {"bought_categories": ["zapatos"]}) == 0
        assert await _preview(shop, {"last_order_after": yesterday}) == 1
        assert await _preview(shop, {"last_order_before": yesterday}) == 0
        assert await _preview(shop, {"last_order_before": tomorrow, "tags": ["promo"]}) == 1
        assert await _preview(shop, {"tags": ["promo"]}) == 3


async def _idle(shop: Shop) -> None:
    async def idle() -> bool:
        return shop.rows(
            "SELECT count(*) FROM inbound_events"
            " WHERE source = 'tiendanube' AND state NOT IN ('done', 'ignored')"
        ) == [(0,)]

    await wait_for(idle, 30)
