"""Sales routes: the cart and checkout of a conversation (staff), the coupon policy (owner),
revenue analytics, and the internal routes the agent's tools call."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from nexus_common.errors import BadRequest, NexusError, NotFound
from sqlalchemy import select

from ..auth import Agent, Owner, Viewer
from ..conversations.service import get_conversation
from ..db import Session
from ..deps import AppSettings, InternalOnly
from ..events.commit import commit_and_announce
from ..models import ChatConversation, Checkout, Product, Tenant
from . import attribution, checkout, coupons, service
from .schemas import (
    AddItemIn,
    CartIn,
    CartOut,
    ChangeItemIn,
    CheckoutIn,
    CheckoutOut,
    Contact,
    CouponPolicy,
    CouponRequestIn,
)

router = APIRouter(prefix="/api/v1", tags=["sales"])
internal_router = APIRouter(prefix="/internal/conversations", tags=["internal"], dependencies=[InternalOnly])


async def _sales_panel(session: Any, conv: ChatConversation) -> dict[str, Any]:
    cart = await service.cart_view(session, conv)
    checkouts = (
        await session.scalars(
            select(Checkout)
            .where(Checkout.tenant_id == conv.tenant_id, Checkout.conversation_id == conv.id)
            .order_by(Checkout.created_at.desc())
            .limit(10)
        )
    ).all()
    return {
        **cart.model_dump(mode="json"),
        "checkouts": [
            {
                **checkout.checkout_out(c).model_dump(mode="json"),
                "source": c.source,
                "created_at": c.created_at,
            }
            for c in checkouts
        ],
        "orders": await attribution.conversation_orders(session, conv),
    }


@router.get("/conversations/{conversation_id}/cart")
async def get_cart(conversation_id: uuid.UUID, principal: Viewer, session: Session) -> dict[str, Any]:
    """The conversation's cart (names, prices and subtotal from the catalog), its checkout links
    and the orders it produced."""
    conv = await get_conversation(session, principal.tenant, conversation_id)
    return await _sales_panel(session, conv)


@router.put("/conversations/{conversation_id}/cart")
async def put_cart(
    conversation_id: uuid.UUID, body: CartIn, principal: Agent, session: Session, request: Request
) -> dict[str, Any]:
    """Replace the cart's items (variant ids and quantities; prices always come from the store)."""
    conv = await get_conversation(session, principal.tenant, conversation_id, lock=True)
    await service.set_items(session, conv, body.items, actor=principal.actor)
    out = await _sales_panel(session, conv)
    await commit_and_announce(session, request)
    return out


@router.post("/conversations/{conversation_id}/checkout", response_model=CheckoutOut)
async def post_checkout(
    conversation_id: uuid.UUID,
    body: CheckoutIn,
    principal: Agent,
    session: Session,
    settings: AppSettings,
    request: Request,
) -> CheckoutOut:
    """Create a Tienda Nube draft order (the given items or the cart, checked live) and send its
    checkout link to the customer. 409 lists the items that cannot be sold; 422 names a missing
    contact field."""
    conv = await get_conversation(session, principal.tenant, conversation_id, lock=True)
    row = await checkout.create_checkout(
        session,
        settings,
        conv,
        items=body.items,
        coupon_code=body.coupon_code,
        contact=body.contact,
        source="staff",
        actor=principal.actor,
    )
    await checkout.send_link_as_staff(session, conv, row, user_id=principal.user_id)
    await commit_and_announce(session, request)
    return checkout.checkout_out(row)


@router.get("/settings/coupons", response_model=CouponPolicy)
async def get_coupon_policy(principal: Viewer, session: Session) -> CouponPolicy:
    """The owner's coupon policy (off by default)."""
    tenant = await session.get(Tenant, principal.tenant)
    if tenant is None:
        raise NotFound("tenant not found")
    return coupons.policy_of(tenant)


@router.put("/settings/coupons", response_model=CouponPolicy)
async def put_coupon_policy(body: CouponPolicy, principal: Owner, session: Session) -> CouponPolicy:
    """Set the coupon policy: maximum percentage, minimum purchase, validity, daily cap, occasions."""
    tenant = await session.get(Tenant, principal.tenant, with_for_update=True)
    if tenant is None:
        raise NotFound("tenant not found")
    return await coupons.set_policy(session, tenant, body, actor=principal.actor)


@router.get("/analytics/revenue")
async def revenue(
    principal: Viewer,
    session: Session,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
) -> dict[str, Any]:
    """Revenue attributed to conversations (paid orders): total, orders, conversion rate, average
    order value, by source (ai, staff, recovery, campaign) and by day (UTC)."""
    if from_ and to and from_ > to:
        raise BadRequest("`from` must not be after `to`")
    start, end = attribution.default_range(from_, to)
    if (end - start).days > 367:
        raise BadRequest("the range may span at most 366 days")
    return await attribution.revenue(session, principal.tenant, start, end)


# ----- internal: the agent's tools -----
async def _conv(session: Any, tenant_id: uuid.UUID, conversation_id: uuid.UUID) -> ChatConversation:
    return await get_conversation(session, tenant_id, conversation_id, lock=True)


@internal_router.get("/{conversation_id}/cart", response_model=CartOut)
async def internal_cart(conversation_id: uuid.UUID, tenant_id: uuid.UUID, session: Session) -> CartOut:
    conv = await get_conversation(session, tenant_id, conversation_id)
    return await service.cart_view(session, conv)


@internal_router.post("/{conversation_id}/cart/items")
async def internal_add(
    conversation_id: uuid.UUID, tenant_id: uuid.UUID, body: AddItemIn, session: Session
) -> dict[str, Any]:
    """Add a product: with several variants and no variant or option words that pick exactly one,
    answers `choose_variant` with the options to ask about."""
    conv = await _conv(session, tenant_id, conversation_id)
    try:
        pid = uuid.UUID(body.product_id)
    except ValueError:
        return {"status": "unknown_product"}
    product = await session.scalar(select(Product).where(Product.id == pid, Product.tenant_id == tenant_id))
    if product is None or not product.published:
        return {"status": "unknown_product"}
    if body.variant_id is not None:
        candidates = [v for v in product.variants if v.get("id") == body.variant_id]
    else:
        candidates = service.match_variants(product, body.options)
    in_stock = [v for v in candidates if v.get("stock") is None or int(v["stock"]) > 0]
    if len(in_stock) != 1:
        options = [
            {
                "variant_id": v.get("id"),
                "label": service.variant_label(v),
                "price": str(service.variant_price(v)),
                "stock": v.get("stock"),
            }
            for v in product.variants
            if v.get("stock") is None or int(v["stock"]) > 0
        ]
        if not options:
            return {"status": "out_of_stock", "product": service.product_name(product)}
        if candidates and not in_stock:
            return {"status": "out_of_stock", "product": service.product_name(product), "options": options}
        return {"status": "choose_variant", "product": service.product_name(product), "options": options[:10]}
    cart = await service.add_variant(
        session, conv, product, int(in_stock[0]["id"]), body.quantity, actor="ai"
    )
    return {"status": "added", "cart": cart.model_dump(mode="json")}


@internal_router.patch("/{conversation_id}/cart/items")
async def internal_change(
    conversation_id: uuid.UUID, tenant_id: uuid.UUID, body: ChangeItemIn, session: Session
) -> dict[str, Any]:
    conv = await _conv(session, tenant_id, conversation_id)
    try:
        cart = await service.change_quantity(session, conv, body.variant_id, body.quantity, actor="ai")
    except NotFound:
        return {"status": "not_in_cart"}
    return {"status": "removed" if body.quantity == 0 else "changed", "cart": cart.model_dump(mode="json")}


@internal_router.post("/{conversation_id}/checkout")
async def internal_checkout(
    conversation_id: uuid.UUID,
    tenant_id: uuid.UUID,
    session: Session,
    settings: AppSettings,
    contact: Contact | None = None,
) -> dict[str, Any]:
    """The agent's checkout: the cart, checked live. Refusals are answers, not errors, so the
    assistant can explain them to the customer."""
    conv = await _conv(session, tenant_id, conversation_id)
    try:
        row = await checkout.create_checkout(
            session,
            settings,
            conv,
            items=None,
            coupon_code=await checkout.active_coupon_code(session, conv),
            coupon_optional=True,
            contact=contact,
            source="ai",
            actor="ai",
        )
    except checkout.CheckoutRefused as exc:
        return {"status": "refused", "lines": (exc.details or {}).get("lines", [])}
    except service.Unprocessable as exc:
        return {"status": exc.code, "message": exc.message, **(exc.details or {})}
    except NexusError as exc:
        if exc.status_code >= 500:
            return {"status": "unavailable"}
        raise
    text, payload = checkout.link_message_parts(row, await checkout.language_of(session, conv))
    return {
        "status": "created",
        **checkout.checkout_out(row).model_dump(mode="json"),
        "message": {"text": text, **payload},
    }


@internal_router.post("/{conversation_id}/coupons")
async def internal_coupon(
    conversation_id: uuid.UUID,
    tenant_id: uuid.UUID,
    body: CouponRequestIn,
    session: Session,
    settings: AppSettings,
) -> dict[str, Any]:
    """The agent asks for a coupon; the policy decides (never the model)."""
    conv = await _conv(session, tenant_id, conversation_id)
    decision = await coupons.request_coupon(
        session, settings, conv, reason=body.reason, percent=body.percent, actor="ai"
    )
    return decision.as_tool_result()
