"""The checkout of a cart: a Tienda Nube draft order, created after a live check, and its link.

Invariants:
- Before a draft order is created, every product in it is read live from Tienda Nube: an
  unpublished, deleted, priceless or out-of-stock variant refuses the whole checkout with a
  reason per line, and nothing is created.
- Tienda Nube prices the draft order from its live catalog; Nexus sends only variants and
  quantities (and a coupon's percentage).
- A coupon on a checkout must be one Nexus issued to this conversation's customer, still valid,
  and the live subtotal must reach its minimum purchase.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import structlog
from nexus_common.errors import NexusError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..audit import service as audit
from ..config import Settings
from ..conversations import service as conversations
from ..events.publisher import publish
from ..integrations.tiendanube.catalog import store_access
from ..integrations.tiendanube.client import TiendanubeError, TiendanubeNotFound, service_client
from ..models import ChatConversation, ChatMessage, Checkout, Coupon, Customer, Tenant
from .schemas import CartItemIn, CheckoutOut, Contact
from .service import Unprocessable, get_cart, products_for_variants

log = structlog.get_logger("orchestrator.sales.checkout")

LINK_TEXT = {
    "es": "¡Listo! Tu pedido por {total} está preparado. Tocá el botón para pagarlo:",
    "pt": "Pronto! Seu pedido de {total} está preparado. Toque no botão para pagar:",
    "en": "Done! Your order of {total} is ready. Tap the button to pay:",
}
LINK_BUTTON = {"es": "Pagar ahora", "pt": "Pagar agora", "en": "Pay now"}


class CheckoutRefused(NexusError):
    """The live check failed: `details.lines` says which variant and why."""

    status_code, code, message = 409, "checkout_refused", "Some items cannot be sold right now"


# ----- checkout -----
@dataclass
class LiveCheck:
    lines: list[dict[str, Any]] = field(default_factory=list)  # refused lines with a reason
    subtotal: Decimal = Decimal("0")
    currency: str | None = None


async def live_check(settings: Settings, store_id: int, token: str, items: list[dict[str, Any]]) -> LiveCheck:
    """Read every product of the cart live from Tienda Nube and refuse what cannot be sold."""
    check = LiveCheck()
    by_product: dict[int, list[dict[str, Any]]] = {}
    for i in items:
        by_product.setdefault(int(i["product_id"]), []).append(i)
    async with service_client(settings, request_timeout=30.0) as tn:
        for pid, lines in by_product.items():
            try:
                raw = await tn.product(store_id, token, pid)
            except TiendanubeNotFound:
                raw = None
            for line in lines:
                vid, qty = int(line["variant_id"]), int(line["quantity"])
                reason = None
                variant = None
                if raw is None:
                    reason = "deleted"
                else:
                    variant = next((v for v in raw.get("variants") or [] if v.get("id") == vid), None)
                    if variant is None:
                        reason = "deleted"
                    elif not raw.get("published", True):
                        reason = "unpublished"
                    elif variant.get("price") is None:
                        reason = "no_price"
                    elif variant.get("stock_management") and variant.get("stock") is not None:
                        stock = int(variant["stock"])
                        if stock <= 0:
                            reason = "out_of_stock"
                        elif stock < qty:
                            reason = "insufficient_stock"
                if reason:
                    entry: dict[str, Any] = {"variant_id": vid, "reason": reason}
                    if reason == "insufficient_stock" and variant is not None:
                        entry["available"] = int(variant["stock"])
                    check.lines.append(entry)
                elif variant is not None:
                    price = Decimal(str(variant.get("promotional_price") or variant["price"]))
                    check.subtotal += price * qty
    return check


def split_name(name: str | None) -> tuple[str | None, str | None]:
    parts = (name or "").split()
    if len(parts) < 2:
        return (parts[0] if parts else None), None
    return " ".join(parts[:-1]), parts[-1]


async def create_checkout(
    session: AsyncSession,
    settings: Settings,
    conv: ChatConversation,
    *,
    items: list[CartItemIn] | None,
    coupon_code: str | None,
    contact: Contact | None,
    source: str,
    actor: str,
    coupon_optional: bool = False,
) -> Checkout:
    """Create the draft order (after the live check) and record it; raises on any refusal."""
    customer = await session.get(Customer, conv.customer_id)
    assert customer is not None
    if items is not None:
        found = await products_for_variants(session, conv.tenant_id, [i.variant_id for i in items])
        unknown = [i.variant_id for i in items if i.variant_id not in found]
        if unknown:
            raise Unprocessable("unknown variant", details={"variant_ids": unknown})
        lines = [
            {
                "variant_id": i.variant_id,
                "product_id": found[i.variant_id][0].external_id,
                "quantity": i.quantity,
            }
            for i in items
        ]
        cart = None
    else:
        cart = await get_cart(session, conv, lock=True)
        lines = [dict(i) for i in (cart.items if cart else [])]
    if not lines:
        raise Unprocessable("the cart is empty", code="cart_empty")
    first, last = split_name(customer.name)
    c = contact or Contact()
    fields = {"name": c.name or first, "lastname": c.lastname or last, "email": c.email or customer.email}
    missing = [k for k, v in fields.items() if not v]
    if missing:
        raise Unprocessable(
            f"missing contact: {', '.join(missing)}", code="contact_missing", details={"missing": missing}
        )
    if c.email and not customer.email:
        customer.email = str(c.email)
    if (c.name or c.lastname) and (not customer.name or len(customer.name.split()) < 2):
        customer.name = f"{fields['name']} {fields['lastname']}"[:200]
    access = await store_access(session, settings.crypto, conv.tenant_id)
    if access is None:
        raise Unprocessable("the store has no connected Tienda Nube account", code="store_not_connected")
    try:
        check = await live_check(settings, access.store_id, access.token, lines)
    except TiendanubeError as exc:
        raise NexusError(
            "Tienda Nube is not reachable right now", code="unavailable", status_code=503
        ) from exc
    if check.lines:
        raise CheckoutRefused(details={"lines": check.lines})
    body: dict[str, Any] = {
        "contact_name": fields["name"],
        "contact_lastname": fields["lastname"],
        "contact_email": fields["email"],
        "payment_status": "unpaid",
        "products": [{"variant_id": int(i["variant_id"]), "quantity": int(i["quantity"])} for i in lines],
    }
    if customer.phone_number:
        body["contact_phone"] = customer.phone_number
    coupon = None
    if coupon_code:
        try:
            coupon = await usable_coupon(session, conv, coupon_code, check.subtotal)
        except Unprocessable:
            if not coupon_optional:
                raise
    if coupon is not None:
        body.update(discount=f"{coupon.percent:.2f}", discount_type="percentage")
    try:
        async with service_client(settings, request_timeout=30.0) as tn:
            draft = await tn.create_draft_order(access.store_id, access.token, body)
    except TiendanubeError as exc:
        if exc.status_code == 422:
            raise Unprocessable(
                "Tienda Nube refused the order", code="draft_refused", details=exc.details
            ) from exc
        raise NexusError(
            "Tienda Nube is not reachable right now", code="unavailable", status_code=503
        ) from exc
    url = draft.get("checkout_url")
    if not isinstance(url, str) or not url.startswith("https://") or not isinstance(draft.get("id"), int):
        raise NexusError(
            "Tienda Nube answered without a checkout URL", code="upstream_bad_response", status_code=502
        )
    total = draft.get("total")
    row = Checkout(
        tenant_id=conv.tenant_id,
        conversation_id=conv.id,
        customer_id=customer.id,
        draft_order_id=int(draft["id"]),
        checkout_url=url,
        items=lines,
        total=Decimal(str(total)) if total is not None else None,
        currency=str(draft.get("currency") or access.currency or "")[:3] or None,
        coupon_code=coupon.code if coupon else None,
        source=source,
        created_by=actor[:120],
    )
    session.add(row)
    if cart is not None:
        cart.items = []
    await session.flush()
    await publish(
        session,
        conv.tenant_id,
        "cart.updated",
        {"conversation_id": str(conv.id), "cart": None if cart is None else {"items": []}, "by": actor},
    )
    await audit.record(
        session,
        actor=actor,
        action="sales.checkout_created",
        tenant_id=conv.tenant_id,
        target_type="draft_order",
        target_id=str(row.draft_order_id),
        conversation_id=conv.id,
        payload={"lines": len(lines), "coupon": bool(coupon), "source": source},
    )
    log.info("sales.checkout_created", conversation_id=str(conv.id), draft_order_id=row.draft_order_id)
    return row


async def active_coupon_code(session: AsyncSession, conv: ChatConversation) -> str | None:
    """A valid coupon Nexus issued to this customer applies to their next checkout by itself."""
    return await session.scalar(
        select(Coupon.code)
        .where(
            Coupon.tenant_id == conv.tenant_id,
            Coupon.customer_id == conv.customer_id,
            Coupon.valid_until > datetime.now(UTC),
        )
        .order_by(Coupon.created_at.desc())
        .limit(1)
    )


async def usable_coupon(
    session: AsyncSession, conv: ChatConversation, code: str, subtotal: Decimal
) -> Coupon:
    coupon = await session.scalar(
        select(Coupon).where(
            Coupon.tenant_id == conv.tenant_id, Coupon.code == code, Coupon.customer_id == conv.customer_id
        )
    )
    if coupon is None:
        raise Unprocessable("unknown coupon for this customer", code="coupon_invalid")
    if coupon.valid_until <= datetime.now(UTC):
        raise Unprocessable("the coupon has expired", code="coupon_expired")
    if coupon.min_purchase is not None and subtotal < coupon.min_purchase:
        raise Unprocessable(
            "the purchase is below the coupon's minimum",
            code="coupon_min_purchase",
            details={"min_purchase": str(coupon.min_purchase)},
        )
    return coupon


def checkout_out(row: Checkout) -> CheckoutOut:
    return CheckoutOut(
        checkout_url=row.checkout_url,
        draft_order_id=row.draft_order_id,
        total=row.total,
        currency=row.currency,
        coupon_code=row.coupon_code,
    )


def money(total: Decimal | None, currency: str | None) -> str:
    symbol = {"BRL": "R$", "USD": "US$"}.get(currency or "", "$")
    return f"{symbol} {total}" if total is not None else ""


async def language_of(session: AsyncSession, conv: ChatConversation) -> str:
    customer = await session.get(Customer, conv.customer_id)
    tenant = await session.get(Tenant, conv.tenant_id)
    lang = customer.locale if customer else None
    if not lang and tenant is not None:
        lang = (tenant.settings or {}).get("language")
    lang = str(lang or "es")[:2].lower()
    return lang if lang in LINK_TEXT else "es"


def link_message_parts(row: Checkout, lang: str) -> tuple[str, dict[str, Any]]:
    """The text and the interactive payload of a checkout-link message."""
    text = LINK_TEXT.get(lang, LINK_TEXT["es"]).format(total=money(row.total, row.currency))
    return text, {
        "cta_url": {"display_text": LINK_BUTTON.get(lang, LINK_BUTTON["es"]), "url": row.checkout_url}
    }


async def send_link_as_staff(
    session: AsyncSession, conv: ChatConversation, row: Checkout, *, user_id: uuid.UUID | None
) -> ChatMessage:
    """Queue the link message in the outbox (a button on WhatsApp, text with the URL elsewhere)."""
    text, payload = link_message_parts(row, await language_of(session, conv))
    return await conversations.queue_outbound(
        session, conv, sender="human", text=text, type_="interactive", payload=payload, user_id=user_id
    )
