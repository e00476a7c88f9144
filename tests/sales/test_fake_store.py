"""The fake Tienda Nube's sales resources speak the wire format (EXTERNAL_APIS.md F1, F3)."""

from __future__ import annotations

import httpx

from fakes.tiendanube import FakeTiendanube, add_store, create_app

from .conftest import AURORA_VARIANTS, add_aurora

STORE = 881001


async def test_draft_orders_and_coupons() -> None:
    fake = FakeTiendanube(rate_limit=False)
    add_aurora(add_store(fake, store_id=STORE, name="Tienda Fake", products=1))
    token = fake.token_for(STORE)
    headers = {"Authentication": f"bearer {token}", "User-Agent": "Nexus tests (dev@example.com)"}
    transport = httpx.ASGITransport(app=create_app(fake))
    async with httpx.AsyncClient(
        transport=transport, base_url=f"http://fake/v1/{STORE}", headers=headers
    ) as c:
        coupon = {"code": "NXTEST1234", "type": "percentage", "value": "10.00", "max_uses": 1}
        r = await c.post("/coupons", json=coupon)
        assert r.status_code == 201 and r.json()["code"] == "NXTEST1234" and r.json()["used"] == 0
        r = await c.post("/coupons", json=coupon)
        assert r.status_code == 422 and r.json() == {"code": ["has already been taken"]}
        r = await c.post("/coupons", json={**coupon, "code": "NO-DASHES"})
        assert r.status_code == 422 and "code" in r.json()

        vid = AURORA_VARIANTS[("M", "Negro")][0]
        draft = {"contact_name": "Ana", "contact_lastname": "Pérez", "contact_email": "ana@example.com"}
        r = await c.post("/draft_orders", json={**draft, "payment_status": "unpaid"})
        assert r.status_code == 422 and r.json() == {"products": ["can't be blank"]}
        body = {**draft, "payment_status": "unpaid", "products": [{"variant_id": vid, "quantity": 2}]}
        r = await c.post("/draft_orders", json={**body, "discount": "10", "discount_type": "percentage"})
        assert r.status_code == 201, r.text
        d = r.json()
        assert d["contact_name"] == "Ana Pérez" and d["total"] == "27000.00" and d["currency"] == "ARS"
        assert d["checkout_url"].startswith("https://") and d["abandoned_checkout_url"] == d["checkout_url"]
        r = await c.post("/draft_orders", json={**body, "products": [{"variant_id": 1, "quantity": 1}]})
        assert r.status_code == 422

        r = await c.post(f"/draft_orders/{d['id']}/confirm", json={})
        assert r.status_code == 200
        order = r.json()
        assert (
            order["id"] == d["id"]
            and order["storefront"] == "form"
            and order["next_action"] == "waiting_packing"
        )
        assert (await c.get(f"/orders/{d['id']}")).json()["total"] == "27000.00"
        r = await c.get(f"/draft_orders/{d['id']}")
        assert r.status_code == 404 and r.json()["description"] == f"Invalid draft order {d['id']}"
