"""Draft orders and coupons of the fake store (EXTERNAL_APIS.md F1, F3), and the "customer paid"
step a test or the demo triggers: the draft order becomes an order with the same id, and
`order/created` + `order/paid` are delivered like the platform's webhooks.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from typing import Any

from .state import FakeTiendanube, Store, now_iso

CODE_RE = re.compile(r"^[A-Za-z0-9]+$")
Route = tuple[int, Any, dict[str, str]]


def _err422(description: str) -> Route:
    return 422, {"code": 422, "message": "Unprocessable Entity", "description": description}, {}


def _variant(store: Store, variant_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
    for p in store.products.values():
        for v in p["variants"]:
            if v["id"] == variant_id:
                return p, v
    return None


def create_draft_order(fake: FakeTiendanube, store: Store, body: dict[str, Any]) -> Route:
    missing = {
        k: ["can't be blank"]
        for k in ("contact_name", "contact_lastname", "contact_email", "payment_status")
        if not body.get(k)
    }
    products = body.get("products")
    if not isinstance(products, list) or not products:
        missing["products"] = ["can't be blank"]
    if missing:
        return 422, missing, {}
    lines = []
    subtotal = Decimal("0")
    for item in products:
        try:
            vid, qty = int(item["variant_id"]), int(item["quantity"])
        except (KeyError, TypeError, ValueError):
            return 422, {"products": ["variant_id and quantity are required"]}, {}
        found = _variant(store, vid)
        if found is None or qty < 1:
            return _err422(f"Invalid variant {vid}")
        p, v = found
        price = Decimal(str(v.get("promotional_price") or v["price"]))
        subtotal += price * qty
        values = " / ".join(x.get(store.main_language, "") for x in v.get("values") or [])
        name = p["name"].get(store.main_language, "")
        lines.append(
            {
                "variant_id": vid,
                "product_id": p["id"],
                "name": f"{name} ({values})" if values else name,
                "quantity": qty,
                "price": f"{price:.2f}",
                "sku": v.get("sku"),
            }
        )
    discount = Decimal(str(body.get("discount") or "0"))
    if body.get("discount_type", "percentage") == "percentage":
        discount = (subtotal * discount / 100).quantize(Decimal("0.01"))
    total = max(subtotal - discount, Decimal("0"))
    did = fake.next_id()
    token = secrets.token_hex(16)
    draft = {
        "id": did,
        "token": token,
        "contact_name": f"{body['contact_name']} {body['contact_lastname']}",
        "contact_email": body["contact_email"],
        "contact_phone": body.get("contact_phone"),
        "payment_status": "pending",
        "subtotal": f"{subtotal:.2f}",
        "discount": f"{discount:.2f}",
        "total": f"{total:.2f}",
        "currency": store.currency,
        "storefront": "form",
        "completed_at": None,
        "products": lines,
        "checkout_url": f"{store.url}/checkout/v3/proxy/{did}/{token}",
        "created_at": now_iso(),
    }
    with fake.lock:
        store.draft_orders[did] = draft
    return 201, {**draft, "abandoned_checkout_url": draft["checkout_url"]}, {}


def create_coupon(fake: FakeTiendanube, store: Store, body: dict[str, Any]) -> Route:
    code = str(body.get("code") or "")
    errors: dict[str, list[str]] = {}
    if not CODE_RE.match(code):
        errors["code"] = ["must be alphanumeric"]
    elif any(c["code"] == code for c in store.coupons.values()):
        errors["code"] = ["has already been taken"]
    if body.get("type") not in ("percentage", "absolute", "shipping"):
        errors["type"] = ["is invalid"]
    if body.get("type") != "shipping" and body.get("value") in (None, ""):
        errors["value"] = ["can't be blank"]
    if errors:
        return 422, errors, {}
    cid = fake.next_id()
    coupon = {
        "id": cid,
        "code": code,
        "type": body["type"],
        "value": body.get("value"),
        "valid": True,
        "used": 0,
        "max_uses": body.get("max_uses"),
        "min_price": body.get("min_price"),
        "start_date": body.get("start_date"),
        "end_date": body.get("end_date"),
        "includes_shipping": False,
        "first_consumer_purchase": bool(body.get("first_consumer_purchase", False)),
        "combines_with_other_discounts": bool(body.get("combines_with_other_discounts", True)),
        "categories": None,
        "deleted_at": None,
    }
    with fake.lock:
        store.coupons[cid] = coupon
    return 201, coupon, {}


def route(
    fake: FakeTiendanube, store: Store, method: str, parts: list[str], q: Any, body: Any
) -> Route | None:
    """The draft order and coupon resources; None when the path is not one of them."""
    if parts[:1] == ["draft_orders"]:
        if len(parts) == 1 and method == "POST":
            return create_draft_order(fake, store, body or {})
        if len(parts) == 1 and method == "GET":
            return 200, sorted(store.draft_orders.values(), key=lambda d: d["id"]), {}
        if len(parts) >= 2 and parts[1].isdigit():
            did = int(parts[1])
            d = store.draft_orders.get(did)
            if d is None:
                return (
                    404,
                    {"code": 404, "message": "Not Found", "description": f"Invalid draft order {did}"},
                    {},
                )
            if len(parts) == 2 and method == "GET":
                return 200, d, {}
            if len(parts) == 2 and method == "DELETE":
                del store.draft_orders[did]
                return 200, {}, {}
            if parts[2:] == ["confirm"] and method == "POST":
                return 200, confirm(fake, store, did, paid=False), {}
        return 404, "Not Found", {}
    if parts[:1] == ["coupons"]:
        if len(parts) == 1 and method == "POST":
            return create_coupon(fake, store, body or {})
        if len(parts) == 1 and method == "GET":
            items = sorted(store.coupons.values(), key=lambda c: c["id"])
            if term := q.get("q"):
                items = [c for c in items if c["code"] == term]
            return 200, items, {}
        if len(parts) == 2 and parts[1].isdigit():
            c = store.coupons.get(int(parts[1]))
            if c is None:
                return 404, "Not Found", {}
            if method == "GET":
                return 200, c, {}
            if method == "DELETE":
                c["deleted_at"] = now_iso()
                del store.coupons[int(parts[1])]
                return 200, {}, {}
        return 404, "Not Found", {}
    return None


def confirm(
    fake: FakeTiendanube, store: Store, draft_id: int, *, paid: bool, coupon_code: str | None = None
) -> dict[str, Any]:
    """The draft order becomes an order keeping its id (F1); `paid` as if the buyer paid it."""
    with fake.lock:
        d = store.draft_orders.pop(draft_id)
        ts = now_iso()
        number = 100 + len(store.orders)
        while any(o["number"] == number for o in store.orders.values()):
            number += 1
        customer = next((c for c in store.customers.values() if c.get("email") == d["contact_email"]), None)
        order = {
            "id": d["id"],
            "number": number,
            "token": d["token"],
            "store_id": str(store.id),
            "status": "open",
            "payment_status": "paid" if paid else "pending",
            "shipping_status": "unpacked",
            "currency": d["currency"],
            "subtotal": d["subtotal"],
            "discount": d["discount"],
            "total": d["total"],
            "contact_name": d["contact_name"],
            "contact_email": d["contact_email"],
            "contact_phone": d.get("contact_phone"),
            "customer": {
                "id": customer["id"] if customer else fake.next_id(),
                "name": d["contact_name"],
                "email": d["contact_email"],
                "phone": d.get("contact_phone"),
            },
            "products": [
                {
                    **line,
                    "id": fake.next_id(),
                    "variant_id": str(line["variant_id"]),
                    "quantity": str(line["quantity"]),
                }
                for line in d["products"]
            ],
            "coupon": [{"code": coupon_code}] if coupon_code else [],
            "gateway": "mercadopago",
            "storefront": "form",
            "next_action": "waiting_packing",
            "created_at": ts,
            "updated_at": ts,
            "paid_at": ts if paid else None,
        }
        store.orders[order["id"]] = order
        if coupon_code:
            for c in store.coupons.values():
                if c["code"] == coupon_code:
                    c["used"] = int(c.get("used") or 0) + 1
        return order


async def pay_draft_order(
    fake: FakeTiendanube, store_id: int, draft_id: int, coupon_code: str | None = None
) -> dict[str, Any]:
    """The buyer paid at the checkout: the order exists, then `order/created` and `order/paid`."""
    store = fake.stores[store_id]
    order = confirm(fake, store, draft_id, paid=True, coupon_code=coupon_code)
    statuses = []
    for event in ("order/created", "order/paid"):
        statuses += await fake.deliver(store_id, event, order["id"])
    return {"order": order, "statuses": statuses}


def place_order(
    fake: FakeTiendanube,
    store_id: int,
    *,
    email: str,
    variant_id: int,
    quantity: int = 1,
    phone: str | None = None,
    coupon_code: str | None = None,
    paid: bool = True,
) -> dict[str, Any]:
    """A buyer orders on the storefront by themselves (no Nexus draft order)."""
    store = fake.stores[store_id]
    body = {
        "contact_name": "Cliente",
        "contact_lastname": "Tienda",
        "contact_email": email,
        "contact_phone": phone,
        "payment_status": "unpaid",
        "products": [{"variant_id": variant_id, "quantity": quantity}],
    }
    status, draft, _ = create_draft_order(fake, store, body)
    if status != 201:
        raise ValueError(f"cannot place the order: {draft}")
    order = confirm(fake, store, draft["id"], paid=paid, coupon_code=coupon_code)
    with fake.lock:
        order["storefront"] = "store"
    return order
