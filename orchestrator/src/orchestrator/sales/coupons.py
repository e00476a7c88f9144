"""Coupons within the owner's policy. The policy is checked here, in code: whatever the customer
writes or the model asks for, a coupon over the maximum, past the daily cap, outside the allowed
occasions or for anyone but the conversation's own customer is never created.

Each coupon is unique (random code), single-use (`max_uses: 1`), valid `valid_hours`, created
through the Tienda Nube API and recorded with the conversation.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..audit import service as audit
from ..config import Settings
from ..integrations.tiendanube.catalog import store_access
from ..integrations.tiendanube.client import TiendanubeError, service_client
from ..models import ChatConversation, Coupon, Tenant
from .schemas import CouponPolicy

log = structlog.get_logger("orchestrator.sales.coupons")

CODE_ALPHABET = string.ascii_uppercase + string.digits
CODE_ATTEMPTS = 3


def store_coupon(
    policy: CouponPolicy, percent: Decimal, *, max_uses: int, now: datetime
) -> tuple[datetime, dict[str, Any]]:
    """When a coupon of `percent` issued `now` expires under `policy`, and the Tienda Nube
    `POST /coupons` body (without its code) that creates it."""
    valid_until = now + timedelta(hours=policy.valid_hours)
    body: dict[str, Any] = {
        "type": "percentage",
        "value": f"{percent:.2f}",
        "max_uses": max_uses,
        "start_date": now.date().isoformat(),
        "end_date": valid_until.date().isoformat(),
        "first_consumer_purchase": False,
        "combines_with_other_discounts": False,
    }
    if policy.min_purchase > 0:
        body["min_price"] = float(policy.min_purchase)
    return valid_until, body


def policy_of(tenant: Tenant) -> CouponPolicy:
    raw = (tenant.settings or {}).get("coupons")
    return CouponPolicy.model_validate(raw) if isinstance(raw, dict) else CouponPolicy()


async def set_policy(
    session: AsyncSession, tenant: Tenant, policy: CouponPolicy, *, actor: str
) -> CouponPolicy:
    tenant.settings = {**(tenant.settings or {}), "coupons": policy.model_dump(mode="json")}
    await audit.record(
        session,
        actor=actor,
        action="settings.coupons_updated",
        tenant_id=tenant.id,
        payload=policy.model_dump(mode="json"),
    )
    return policy


@dataclass
class CouponDecision:
    status: str  # issued | existing | refused
    reason: str | None = None
    coupon: Coupon | None = None
    max_percent: Decimal | None = None

    def as_tool_result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.reason:
            out["reason"] = self.reason
        if self.max_percent is not None:
            out["max_percent"] = str(self.max_percent)
        if self.coupon is not None:
            out.update(
                code=self.coupon.code,
                percent=f"{self.coupon.percent:.2f}",
                min_purchase=str(self.coupon.min_purchase) if self.coupon.min_purchase else None,
                valid_until=self.coupon.valid_until.isoformat(),
            )
        return out


def new_code() -> str:
    return "NX" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


async def request_coupon(
    session: AsyncSession,
    settings: Settings,
    conv: ChatConversation,
    *,
    reason: str,
    percent: Decimal | None,
    actor: str,
) -> CouponDecision:
    """Issue a coupon for the conversation's customer if, and only if, the policy allows it."""
    # The tenant row lock serialises issuing, so the daily cap holds under concurrency.
    tenant = await session.get(Tenant, conv.tenant_id, with_for_update=True)
    assert tenant is not None
    policy = policy_of(tenant)
    refuse = None
    if not policy.enabled:
        refuse = "coupons_disabled"
    elif reason == "on_request" and not policy.on_request:
        refuse = "not_allowed_on_request"
    elif reason == "on_recovery" and not policy.on_recovery:
        refuse = "not_allowed_on_recovery"
    elif policy.max_percent <= 0:
        refuse = "coupons_disabled"
    elif percent is not None and percent > policy.max_percent:
        refuse = "over_limit"
    if refuse:
        return await _refused(session, conv, refuse, policy, actor)
    now = datetime.now(UTC)
    existing = await session.scalar(
        select(Coupon)
        .where(
            Coupon.tenant_id == conv.tenant_id,
            Coupon.customer_id == conv.customer_id,
            Coupon.valid_until > now,
        )
        .order_by(Coupon.created_at.desc())
        .limit(1)
    )
    if existing is not None:
        return CouponDecision("existing", coupon=existing, max_percent=policy.max_percent)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = await session.scalar(
        select(func.count())
        .select_from(Coupon)
        .where(Coupon.tenant_id == conv.tenant_id, Coupon.created_at >= day_start)
    )
    if (today or 0) >= policy.daily_cap:
        return await _refused(session, conv, "daily_cap_reached", policy, actor)
    access = await store_access(session, settings.crypto, conv.tenant_id)
    if access is None:
        return await _refused(session, conv, "store_not_connected", policy, actor)
    value = percent if percent is not None and percent > 0 else policy.max_percent
    valid_until, body = store_coupon(policy, value, max_uses=1, now=now)
    try:
        created = await create_in_store(settings, access.store_id, access.token, body)
    except StoreRefused as exc:
        return await _refused(session, conv, exc.reason, policy, actor)
    coupon = Coupon(
        tenant_id=conv.tenant_id,
        conversation_id=conv.id,
        customer_id=conv.customer_id,
        code=body["code"],
        external_id=created.get("id") if isinstance(created.get("id"), int) else None,
        percent=value,
        min_purchase=policy.min_purchase if policy.min_purchase > 0 else None,
        valid_until=valid_until,
        reason=reason,
    )
    session.add(coupon)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="sales.coupon_issued",
        tenant_id=conv.tenant_id,
        target_type="coupon",
        target_id=str(coupon.id),
        conversation_id=conv.id,
        payload={"percent": str(value), "reason": reason},
    )
    log.info("sales.coupon_issued", conversation_id=str(conv.id), percent=str(value))
    return CouponDecision("issued", coupon=coupon, max_percent=policy.max_percent)


class StoreRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # store_unavailable | store_refused


async def create_in_store(
    settings: Settings, store_id: int, token: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Create the coupon `body` in Tienda Nube under a fresh random code (set in `body["code"]`)."""
    async with service_client(settings, request_timeout=30.0) as tn:
        for _ in range(CODE_ATTEMPTS):
            body["code"] = new_code()
            try:
                return await tn.create_coupon(store_id, token, body)
            except TiendanubeError as exc:
                if exc.status_code != 422:  # 422: the code is taken; try another
                    raise StoreRefused("store_unavailable") from exc
    raise StoreRefused("store_refused")


def campaign_refusal(policy: CouponPolicy, percent: Decimal) -> str | None:
    """Why the policy does not allow a campaign coupon of `percent`, or None."""
    if not policy.enabled or policy.max_percent <= 0:
        return "coupons_disabled"
    if not policy.on_campaign:
        return "not_allowed_on_campaign"
    if percent > policy.max_percent:
        return "over_limit"
    return None


async def _refused(
    session: AsyncSession, conv: ChatConversation, why: str, policy: CouponPolicy, actor: str
) -> CouponDecision:
    await audit.record(
        session,
        actor=actor,
        action="sales.coupon_refused",
        tenant_id=conv.tenant_id,
        conversation_id=conv.id,
        payload={"reason": why},
    )
    return CouponDecision(
        "refused",
        reason=why,
        max_percent=policy.max_percent if policy.enabled and policy.on_request else None,
    )
