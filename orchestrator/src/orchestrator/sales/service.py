"""The cart of a conversation: Tienda Nube variant ids and quantities, shown with names and prices
from the catalog mirror. No price is ever stored in a cart or taken from a client or a model: what
the customer pays is priced by Tienda Nube itself when the checkout is made (checkout.py).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from nexus_common.errors import NexusError, NotFound
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..events.publisher import publish
from ..models import Cart, ChatConversation, Product
from .schemas import CartItemIn, CartLine, CartOut


class Unprocessable(NexusError):
    status_code, code, message = 422, "unprocessable", "The request cannot be processed"


# ----- the catalog mirror -----
async def products_for_variants(
    session: AsyncSession, tenant_id: uuid.UUID, variant_ids: list[int]
) -> dict[int, tuple[Product, dict[str, Any]]]:
    """variant id → (product, variant) from the tenant's catalog mirror."""
    out: dict[int, tuple[Product, dict[str, Any]]] = {}
    for vid in dict.fromkeys(variant_ids):
        p = await session.scalar(
            select(Product).where(Product.tenant_id == tenant_id, Product.variants.contains([{"id": vid}]))
        )
        if p is not None:
            out[vid] = (p, next(v for v in p.variants if v.get("id") == vid))
    return out


def product_name(p: Product, lang: str | None = None) -> str:
    names = p.name or {}
    return str(names.get(lang or "") or next(iter(names.values()), "") or p.name_text)


def variant_label(v: dict[str, Any]) -> str:
    return " / ".join(str(x) for x in v.get("values") or [] if x)


def variant_price(v: dict[str, Any]) -> Decimal | None:
    raw = v.get("promotional_price") or v.get("price")
    return Decimal(str(raw)) if raw is not None else None


# ----- the cart -----
async def get_cart(session: AsyncSession, conv: ChatConversation, *, lock: bool = False) -> Cart | None:
    q = select(Cart).where(Cart.tenant_id == conv.tenant_id, Cart.conversation_id == conv.id)
    if lock:
        q = q.with_for_update()
    return await session.scalar(q)


async def _cart_for_update(session: AsyncSession, conv: ChatConversation) -> Cart:
    cart = await get_cart(session, conv, lock=True)
    if cart is None:
        cart = Cart(tenant_id=conv.tenant_id, conversation_id=conv.id, items=[])
        session.add(cart)
        await session.flush()
    return cart


async def view(session: AsyncSession, tenant_id: uuid.UUID, items: list[dict[str, Any]]) -> CartOut:
    found = await products_for_variants(session, tenant_id, [int(i["variant_id"]) for i in items])
    lines: list[CartLine] = []
    total = Decimal("0")
    currency: str | None = None
    for i in items:
        vid, qty = int(i["variant_id"]), int(i["quantity"])
        pv = found.get(vid)
        if pv is None:
            lines.append(
                CartLine(
                    variant_id=vid,
                    product_id=None,
                    quantity=qty,
                    name=None,
                    variant=None,
                    price=None,
                    subtotal=None,
                    available=False,
                )
            )
            continue
        p, v = pv
        price = variant_price(v)
        sub = price * qty if price is not None else None
        total += sub or 0
        currency = currency or p.currency
        stock = v.get("stock")
        lines.append(
            CartLine(
                variant_id=vid,
                product_id=str(p.id),
                quantity=qty,
                name=product_name(p),
                variant=variant_label(v) or None,
                price=price,
                subtotal=sub,
                available=p.published and price is not None and (stock is None or stock >= qty),
            )
        )
    return CartOut(items=lines, subtotal=total, currency=currency)


async def cart_view(session: AsyncSession, conv: ChatConversation) -> CartOut:
    cart = await get_cart(session, conv)
    return await view(session, conv.tenant_id, list(cart.items) if cart else [])


async def _changed(session: AsyncSession, conv: ChatConversation, cart: Cart, actor: str) -> CartOut:
    cart.updated_at = datetime.now(UTC)
    await session.flush()
    out = await view(session, conv.tenant_id, list(cart.items))
    await publish(
        session,
        conv.tenant_id,
        "cart.updated",
        {"conversation_id": str(conv.id), "cart": out.model_dump(mode="json"), "by": actor},
    )
    return out


async def set_items(
    session: AsyncSession, conv: ChatConversation, items: list[CartItemIn], *, actor: str
) -> CartOut:
    """Replace the cart (staff edit). Every variant must exist in the store's catalog."""
    merged: dict[int, int] = {}
    for it in items:
        merged[it.variant_id] = merged.get(it.variant_id, 0) + it.quantity
    found = await products_for_variants(session, conv.tenant_id, list(merged))
    unknown = [vid for vid in merged if vid not in found]
    if unknown:
        raise Unprocessable("unknown variant", details={"variant_ids": unknown})
    cart = await _cart_for_update(session, conv)
    cart.items = [
        {"variant_id": vid, "product_id": found[vid][0].external_id, "quantity": min(q, 100)}
        for vid, q in merged.items()
    ]
    return await _changed(session, conv, cart, actor)


async def add_variant(
    session: AsyncSession,
    conv: ChatConversation,
    product: Product,
    variant_id: int,
    quantity: int,
    *,
    actor: str,
) -> CartOut:
    cart = await _cart_for_update(session, conv)
    items = [dict(i) for i in cart.items]
    for i in items:
        if int(i["variant_id"]) == variant_id:
            i["quantity"] = min(int(i["quantity"]) + quantity, 100)
            break
    else:
        items.append({"variant_id": variant_id, "product_id": product.external_id, "quantity": quantity})
    cart.items = items
    return await _changed(session, conv, cart, actor)


async def change_quantity(
    session: AsyncSession, conv: ChatConversation, variant_id: int, quantity: int, *, actor: str
) -> CartOut:
    cart = await _cart_for_update(session, conv)
    items = [dict(i) for i in cart.items]
    if not any(int(i["variant_id"]) == variant_id for i in items):
        raise NotFound("that variant is not in the cart")
    if quantity == 0:
        items = [i for i in items if int(i["variant_id"]) != variant_id]
    else:
        for i in items:
            if int(i["variant_id"]) == variant_id:
                i["quantity"] = quantity
    cart.items = items
    return await _changed(session, conv, cart, actor)


_FOLD = str.maketrans("áéíóúàâêôãõçü", "aeiouaaeoaocu")


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.lower().translate(_FOLD)).strip()


def match_variants(product: Product, options: list[str]) -> list[dict[str, Any]]:
    """The product's variants whose values contain every option word (case and accents ignored)."""
    wanted = [_norm(o) for o in options if o.strip()]
    out = []
    for v in product.variants:
        values = [_norm(str(x)) for x in v.get("values") or []]
        if all(any(w == x or w in x.split(" ") for x in values) for w in wanted):
            out.append(v)
    return out
