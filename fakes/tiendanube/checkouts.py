"""Abandoned checkouts in the fake (EXTERNAL_APIS.md F2) and turning one into an order.

`GET /checkouts` pages like the other lists (`since_id`, `created_at_min` when the fake honours
it, `created_at_max`), and answers an empty result with Tienda Nube's 404 "Error finding result
with the parameters entered". `convert()` is what a buyer finishing the checkout does: an order
appears (paid) and the checkout is completed or vanishes, per the fake's setting.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .state import FakeTiendanube, now_iso

NOT_FOUND = {
    "code": 404,
    "message": "Not Found",
    "description": "Error finding result with the parameters entered",
}


def ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def add_checkout(
    fake: FakeTiendanube,
    store_id: int,
    *,
    phone: str,
    name: str = "Ana Pérez",
    email: str | None = None,
    total: str = "291.35",
    created_at: datetime | None = None,
    language: str = "es",
    checkout_id: int | None = None,
) -> dict[str, Any]:
    store = fake.stores[store_id]
    cid = checkout_id or fake.next_id()
    token = f"{cid:x}f00d"
    created = ts(created_at) if created_at else now_iso()
    checkout = {
        "id": cid,
        "token": token,
        "abandoned_checkout_url": f"{store.url}/checkout/v3/order/proxy/{cid}/{token}",
        "contact_email": email or f"buyer{cid}@example.com",
        "contact_name": name,
        "contact_phone": phone,
        "shipping_phone": "",
        "billing_phone": phone,
        "coupon": [],
        "subtotal": total,
        "total": total,
        "currency": store.currency,
        "language": language,
        "products": [{"variant_id": 332977991, "name": "Remera lisa (M)", "price": total, "quantity": 1}],
        "created_at": created,
        "updated_at": created,
        "completed_at": None,
    }
    with fake.lock:
        store.checkouts[cid] = checkout
    return checkout


def convert(fake: FakeTiendanube, store_id: int, checkout_id: int) -> dict[str, Any]:
    """The buyer completed the checkout: a paid order exists now. Returns the order."""
    with fake.lock:
        store = fake.stores[store_id]
        c = store.checkouts[checkout_id]
        oid = checkout_id if fake.order_keeps_checkout_id else fake.next_id()
        number = 100 + len(store.orders) + 1000
        order = {
            "id": oid,
            "number": number,
            "token": c["token"],
            "store_id": str(store_id),
            "status": "open",
            "payment_status": "paid",
            "shipping_status": "unpacked",
            "currency": c["currency"],
            "subtotal": c["subtotal"],
            "discount": "0.00",
            "total": c["total"],
            "contact_email": c["contact_email"],
            "contact_name": c["contact_name"],
            "contact_phone": c["contact_phone"],
            "language": c.get("language"),
            "customer": {
                "id": fake.next_id(),
                "name": c["contact_name"],
                "email": c["contact_email"],
                "phone": c["contact_phone"],
            },
            "products": [dict(p, id=fake.next_id(), quantity=str(p["quantity"])) for p in c["products"]],
            "shipping_tracking_number": None,
            "shipping_tracking_url": None,
            "gateway": "mercadopago",
            "storefront": "store",
            "created_at": now_iso(),
            "updated_at": now_iso(),
            "paid_at": now_iso(),
        }
        store.orders[oid] = order
        if fake.converted_checkouts == "vanish":
            del store.checkouts[checkout_id]
        else:
            c["completed_at"] = now_iso()
            c["updated_at"] = now_iso()
    return order


def route(
    fake: FakeTiendanube, store_id: int, method: str, parts: list[str], query: Any
) -> tuple[int, Any, dict[str, str]] | None:
    """`GET /checkouts[?…]` (the caller pages the result) and `GET /checkouts/{id}`; None: not ours."""
    store = fake.stores[store_id]
    if method != "GET":
        return None
    if len(parts) == 2 and parts[1].isdigit():
        c = store.checkouts.get(int(parts[1]))
        return (200, c, {}) if c else (404, {**NOT_FOUND, "description": None}, {})
    if len(parts) != 1:
        return None
    items = sorted(store.checkouts.values(), key=lambda c: c["id"])
    if (since := query.get("since_id")) and since.isdigit():
        items = [c for c in items if c["id"] > int(since)]
    if fake.checkouts_honour_created_at_min and (cmin := query.get("created_at_min")):
        items = [c for c in items if c["created_at"] >= _iso(cmin)]
    if cmax := query.get("created_at_max"):
        items = [c for c in items if c["created_at"] <= _iso(cmax)]
    if not items:
        return 404, NOT_FOUND, {}
    return 200, items, {}


def _iso(value: str) -> str:
    """A filter value in the API's own timestamp format, so strings compare in time order."""
    try:
        return ts(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return value
