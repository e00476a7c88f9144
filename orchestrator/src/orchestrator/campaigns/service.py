"""Campaign lifecycle: create, plan, start / pause / resume / cancel, counts and report.

Statuses: draft → scheduled (a future `schedule_at`) → running → done, with paused and cancelled
on the side. Recipients are written when the campaign starts (the audience as it is then; opted-out
and not-opted-in customers never enter), and each is sent by `sender` exactly once.
A start that the daily unique-user limit cannot cover in 24 h is spread over the following days,
and the plan says so before it starts: such a start needs `accept_spread`.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import structlog
from nexus_common.errors import Conflict, NexusError, NotFound
from sqlalchemy import and_, exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from .. import runtime
from ..audiences import reach
from ..audiences.schemas import AudienceFilter
from ..audiences.service import customers_matching
from ..audit import service as audit
from ..events.publisher import publish
from ..integrations.tiendanube.catalog import store_access
from ..models import Campaign, CampaignRecipient, ChatConversation, ChatMessage, OrderAttribution, Tenant
from ..notifications import proactive
from ..pipeline.accounts import Account, access_token, find_account
from ..pipeline.clients import whatsapp_client
from ..sales import coupons
from . import render
from .schemas import (
    CampaignCoupon,
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    Counts,
    Plan,
    Report,
    SendingSettings,
)

log = structlog.get_logger("orchestrator.campaigns")

DAY = timedelta(hours=24)
REVENUE_NOTE = (
    "paid orders within 7 days of the campaign's message to the same customer (phone or e-mail), "
    "or using the campaign's coupon"
)


# --- sending settings (per store) -------------------------------------------------------------


def sending_settings(tenant: Tenant) -> SendingSettings:
    raw = (tenant.settings or {}).get("sending") or {}
    return SendingSettings.model_validate(raw)


# Meta's portfolio messaging limits (`whatsapp_business_manager_messaging_limit`); None = unlimited.
TIERS: dict[str, int | None] = {
    "TIER_250": 250,
    "TIER_1K": 1000,
    "TIER_2K": 2000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    "TIER_UNLIMITED": None,
}
TIER_TTL = timedelta(minutes=10)


async def refresh_tier(
    session: AsyncSession, tenant_id: uuid.UUID, *, force: bool = False
) -> SendingSettings:
    """Read the number's messaging limit from the Graph API (at most every 10 minutes) into the
    store's sending settings; when it cannot be read, the owner's `daily_unique_limit` applies."""
    tenant = await _tenant(session, tenant_id)
    cfg = sending_settings(tenant)
    now = datetime.now(UTC)
    if not force and cfg.tier_checked_at is not None and now - cfg.tier_checked_at < TIER_TTL:
        return cfg
    tier = await _read_tier(session, tenant_id)
    if tier in TIERS:
        new = cfg.model_copy(
            update={
                "tier": tier,
                "tier_limit": TIERS[tier],
                "daily_limit_source": "graph",
                "tier_checked_at": now,
            }
        )
    else:  # not readable now: the owner's limit applies, and the next call asks Meta again
        new = cfg.model_copy(update={"daily_limit_source": "owner"})
        if tier is not None:
            log.warning("campaign.unknown_tier", tier=tier)
        if new == cfg:
            return cfg
    locked = await session.get(Tenant, tenant_id, with_for_update=True, populate_existing=True)
    assert locked is not None
    locked.settings = {**(locked.settings or {}), "sending": new.model_dump(mode="json")}
    await session.flush()
    return new


async def _read_tier(session: AsyncSession, tenant_id: uuid.UUID) -> str | None:
    account = await proactive.whatsapp_account(session, tenant_id)
    if account is None:
        return None
    rt = runtime.current()
    acc = await find_account(session, "whatsapp", account.external_id)
    token = await access_token(session, rt.settings.crypto, acc) if acc else None
    if not token:
        return None
    try:
        resp = await whatsapp_client(rt).get(
            f"/v1/phone_numbers/{account.external_id}/messaging_limit",
            headers={"X-Graph-Token": token},
            timeout=10.0,
        )
        data = resp.json() if resp.status_code == 200 else {}
    except (httpx.HTTPError, ValueError) as exc:
        log.info("campaign.tier_unreadable", error=type(exc).__name__)
        return None
    tier = data.get("tier") if isinstance(data, dict) else None
    return str(tier) if isinstance(tier, str) else None


async def used_last_24h(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """Unique users this store reached (or is reaching) in the moving 24-hour window."""
    since = datetime.now(UTC) - DAY
    return (
        await session.scalar(
            select(func.count(func.distinct(CampaignRecipient.customer_id))).where(
                CampaignRecipient.tenant_id == tenant_id,
                (CampaignRecipient.sent_at > since) | (CampaignRecipient.state == "sending"),
            )
        )
        or 0
    )


# --- create / read ----------------------------------------------------------------------------


def store_zone(tenant: Tenant) -> ZoneInfo:
    try:
        return ZoneInfo(str((tenant.settings or {}).get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def to_utc(at: datetime | None, tenant: Tenant) -> datetime | None:
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=store_zone(tenant))
    return at.astimezone(UTC)


async def _tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


async def whatsapp_account(session: AsyncSession, tenant_id: uuid.UUID) -> Account:
    """The store's WhatsApp number (the one order updates use), or a 422 naming what is missing."""
    account = await proactive.whatsapp_account(session, tenant_id)
    if account is None:
        raise NexusError("connect a WhatsApp number first", code="no_whatsapp_number", status_code=422)
    return account


async def _checked(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    template: str,
    language: str,
    variables: list[str] | None,
    *,
    coupon: bool = False,
) -> tuple[list[str], reach.TemplateInfo]:
    info = await reach.approved_template(session, tenant_id, template, language)
    if info is None:
        raise NexusError(
            f"template {template!r} is not approved in {language!r}",
            code="template_not_approved",
            status_code=422,
        )
    if variables is None:
        variables = render.DEFAULT_VARIABLES
        if info.parameters is not None:
            variables = variables[: info.parameters]
    return render.validate(variables, info.parameters, coupon=coupon), info


# --- coupon (issue 15's policy) ---------------------------------------------------------------


def coupon_spec(tenant: Tenant, wanted: CampaignCoupon | None) -> dict[str, Any] | None:
    """The campaign's coupon as stored, or a 422 saying which limit of the owner's policy it breaks."""
    if wanted is None:
        return None
    policy = coupons.policy_of(tenant)
    why = coupons.campaign_refusal(policy, wanted.percent)
    if why is not None:
        messages = {
            "coupons_disabled": "coupons are turned off in the store's coupon policy",
            "not_allowed_on_campaign": "the coupon policy does not allow coupons in campaigns",
            "over_limit": f"the coupon policy allows at most {policy.max_percent}% off",
        }
        raise NexusError(
            messages[why],
            code="coupon_not_allowed",
            status_code=422,
            details={"reason": why, "max_percent": str(policy.max_percent), "requested": str(wanted.percent)},
        )
    return {"percent": f"{wanted.percent:.2f}"}


async def issue_coupon(session: AsyncSession, campaign: Campaign) -> None:
    """Create the campaign's one code in Tienda Nube when sending starts (once: a resume keeps it).

    The policy is checked again (it may have changed since the draft); the code is valid
    `valid_hours` from now, usable by as many orders as the campaign has recipients, with the
    policy's minimum purchase. One shared code rather than one per recipient: Tienda Nube's API
    allows ~2 requests/s per store, so 100,000 codes would take half a day to create."""
    spec = campaign.coupon
    if not spec or spec.get("code"):
        return
    tenant = await session.get(Tenant, campaign.tenant_id, with_for_update=True)
    assert tenant is not None
    policy = coupons.policy_of(tenant)
    coupon_spec(tenant, CampaignCoupon(percent=Decimal(str(spec["percent"]))))
    rt = runtime.current()
    access = await store_access(session, rt.settings.crypto, campaign.tenant_id)
    if access is None:
        raise NexusError(
            "connect the Tienda Nube store to issue the campaign's coupon",
            code="store_not_connected",
            status_code=422,
        )
    recipients = await session.scalar(
        select(func.count()).where(CampaignRecipient.campaign_id == campaign.id)
    )
    now = datetime.now(UTC)
    valid_until, body = coupons.store_coupon(
        policy, Decimal(str(spec["percent"])), max_uses=max(1, int(recipients or 0)), now=now
    )
    try:
        created = await coupons.create_in_store(rt.settings, access.store_id, access.token, body)
    except coupons.StoreRefused as exc:
        raise NexusError(
            "Tienda Nube did not create the campaign's coupon; try again later",
            code="coupon_store_error",
            status_code=502,
            details={"reason": exc.reason},
        ) from None
    campaign.coupon = {
        **spec,
        "code": body["code"],
        "external_id": created.get("id") if isinstance(created.get("id"), int) else None,
        "valid_until": valid_until.isoformat(),
        "max_uses": body["max_uses"],
        "min_purchase": str(policy.min_purchase) if policy.min_purchase > 0 else None,
    }
    await audit.record(
        session,
        actor="system",
        action="campaign.coupon_issued",
        tenant_id=campaign.tenant_id,
        target_type="campaign",
        target_id=str(campaign.id),
        payload={"percent": str(spec["percent"]), "max_uses": body["max_uses"]},
    )


async def create(session: AsyncSession, tenant_id: uuid.UUID, actor: str, body: CampaignCreate) -> Campaign:
    tenant = await _tenant(session, tenant_id)
    coupon = coupon_spec(tenant, body.coupon)
    variables, info = await _checked(
        session, tenant_id, body.template, body.language, body.variables, coupon=coupon is not None
    )
    customers_matching(tenant_id, body.audience.filter, marketing=True)  # 422 on unusable keys
    account = await whatsapp_account(session, tenant_id)
    campaign = Campaign(
        tenant_id=tenant_id,
        channel_account_id=account.id,
        name=body.name,
        template=info.name,
        language=info.language,
        audience=body.audience.filter.model_dump(mode="json", exclude_none=True),
        variables=variables,
        coupon=coupon,
        schedule_at=to_utc(body.schedule_at, tenant),
        created_by=actor,
    )
    session.add(campaign)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="campaign.create",
        tenant_id=tenant_id,
        target_type="campaign",
        target_id=str(campaign.id),
    )
    return campaign


async def get(
    session: AsyncSession, tenant_id: uuid.UUID, campaign_id: uuid.UUID, *, lock: bool = False
) -> Campaign:
    q = select(Campaign).where(Campaign.id == campaign_id, Campaign.tenant_id == tenant_id)
    campaign = await session.scalar(q.with_for_update() if lock else q)
    if campaign is None:
        raise NotFound("campaign not found")
    return campaign


async def edit(
    session: AsyncSession, tenant_id: uuid.UUID, campaign_id: uuid.UUID, body: CampaignUpdate
) -> Campaign:
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    if campaign.status not in ("draft", "scheduled"):
        raise Conflict(f"a {campaign.status} campaign cannot be edited", code="campaign_not_editable")
    tenant = await _tenant(session, tenant_id)
    fields = body.model_fields_set
    template = body.template or campaign.template
    language = body.language or campaign.language
    if "coupon" in fields:
        campaign.coupon = coupon_spec(tenant, body.coupon)
    if {"template", "language", "variables", "coupon"} & fields:
        variables, info = await _checked(
            session,
            tenant_id,
            template,
            language,
            body.variables if "variables" in fields else list(campaign.variables),
            coupon=campaign.coupon is not None,
        )
        campaign.variables, template, language = variables, info.name, info.language
    campaign.template, campaign.language = template, language
    if body.name:
        campaign.name = body.name
    if body.audience is not None:
        customers_matching(tenant_id, body.audience.filter, marketing=True)
        campaign.audience = body.audience.filter.model_dump(mode="json", exclude_none=True)
    if "schedule_at" in fields:
        campaign.schedule_at = to_utc(body.schedule_at, tenant)
    await session.flush()
    return campaign


async def counts(session: AsyncSession, campaign_id: uuid.UUID) -> Counts:
    rows = (
        await session.execute(
            select(CampaignRecipient.state, func.count())
            .where(CampaignRecipient.campaign_id == campaign_id)
            .group_by(CampaignRecipient.state)
        )
    ).all()
    by = {state: n for state, n in rows}
    replied = await session.scalar(
        select(func.count()).where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.sent_at.is_not(None),
            exists(
                select(ChatMessage.id)
                .join(ChatConversation, ChatConversation.id == ChatMessage.conversation_id)
                .where(
                    ChatConversation.customer_id == CampaignRecipient.customer_id,
                    ChatConversation.tenant_id == CampaignRecipient.tenant_id,
                    ChatMessage.direction == "inbound",
                    ChatMessage.created_at > CampaignRecipient.sent_at,
                )
            ),
        )
    )
    # `sent` counts every message Meta accepted (delivered and read ones too): a funnel.
    read = by.get("read", 0)
    delivered = by.get("delivered", 0) + read
    return Counts(
        total=sum(by.values()),
        queued=by.get("pending", 0) + by.get("sending", 0),
        sent=by.get("sent", 0) + delivered,
        delivered=delivered,
        read=read,
        replied=replied or 0,
        failed=by.get("failed", 0),
        opted_out=by.get("opted_out", 0),
        skipped=by.get("skipped", 0),
        cancelled=by.get("cancelled", 0),
    )


async def report(session: AsyncSession, campaign: Campaign) -> Report:
    failed = (
        await session.execute(
            select(CampaignRecipient.error_code, func.count())
            .where(CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.state == "failed")
            .group_by(CampaignRecipient.error_code)
        )
    ).all()
    skipped = (
        await session.execute(
            select(CampaignRecipient.reason, func.count())
            .where(CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.state == "skipped")
            .group_by(CampaignRecipient.reason)
        )
    ).all()
    return Report(
        counts=await counts(session, campaign.id),
        failed_by_code={code or "unknown": n for code, n in failed},
        skipped_by_reason={reason or "unknown": n for reason, n in skipped},
        **await revenue(session, campaign),
    )


async def revenue(session: AsyncSession, campaign: Campaign) -> dict[str, Any]:
    """Orders credited to the campaign (see sales.attribution): paid ones make the revenue."""
    orders, paid, total = (
        await session.execute(
            select(
                func.count().filter(OrderAttribution.payment_status.is_distinct_from("cancelled")),
                func.count().filter(OrderAttribution.payment_status == "paid"),
                func.coalesce(
                    func.sum(OrderAttribution.total).filter(OrderAttribution.payment_status == "paid"), 0
                ),
            ).where(
                OrderAttribution.tenant_id == campaign.tenant_id, OrderAttribution.campaign_id == campaign.id
            )
        )
    ).one()
    currency = await session.scalar(
        select(OrderAttribution.currency)
        .where(OrderAttribution.campaign_id == campaign.id, OrderAttribution.currency.is_not(None))
        .order_by(OrderAttribution.ordered_at.desc())
        .limit(1)
    )
    return {
        "revenue": Decimal(total),
        "orders": int(orders),
        "paid_orders": int(paid),
        "currency": currency,
        "revenue_note": REVENUE_NOTE,
    }


def out(campaign: Campaign, c: Counts | None = None) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        template=campaign.template,
        language=campaign.language,
        audience=campaign.audience,
        variables=campaign.variables,
        status=campaign.status,
        schedule_at=campaign.schedule_at,
        started_at=campaign.started_at,
        finished_at=campaign.finished_at,
        paused_reason=campaign.paused_reason,
        plan=campaign.plan,
        coupon=campaign.coupon,
        created_at=campaign.created_at,
        counts=c,
    )


# --- plan and lifecycle -----------------------------------------------------------------------


async def plan(session: AsyncSession, campaign: Campaign) -> Plan:
    cfg = await refresh_tier(session, campaign.tenant_id)
    materialized = await session.scalar(
        select(func.count()).where(
            CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.state.in_(("pending", "sending"))
        )
    )
    if campaign.status in ("draft", "scheduled"):
        query = customers_matching(
            campaign.tenant_id, AudienceFilter.model_validate(campaign.audience), marketing=True
        )
        audience = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    else:
        audience = materialized or 0
    limit = cfg.effective_limit()
    available = None if limit is None else max(0, limit - await used_last_24h(session, campaign.tenant_id))
    if limit is None or available is None or audience <= available:
        days = 1
    else:
        days = 1 + math.ceil((audience - available) / limit)
    seconds = audience / cfg.messages_per_second
    if days > 1:
        note = (
            f"{audience} recipients exceed the {limit} unique users per 24 h this number may reach "
            f"({available} left now): the sends are spread over {days} days."
        )
    else:
        note = f"{audience} recipients at {cfg.messages_per_second} messages/s: about {math.ceil(seconds)} s."
    return Plan(
        audience=audience,
        messages_per_second=cfg.messages_per_second,
        daily_unique_limit=limit,
        available_today=available,
        days=days,
        spread=days > 1,
        estimated_seconds=round(seconds, 1),
        note=note,
    )


async def materialize(session: AsyncSession, campaign: Campaign) -> int:
    """Write the recipients: the audience as it is now, marketing consent required."""
    query = customers_matching(
        campaign.tenant_id, AudienceFilter.model_validate(campaign.audience), marketing=True
    )
    result = await session.execute(_insert_recipients(campaign, query.subquery()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _insert_recipients(campaign: Campaign, sub: Any) -> Any:
    source = select(
        literal(campaign.tenant_id), literal(campaign.id), sub.c.id, func.left(sub.c.wa_id, 32)
    ).ext(distinct_on(sub.c.wa_id))
    return (
        insert(CampaignRecipient)
        .from_select(["tenant_id", "campaign_id", "customer_id", "wa_id"], source, include_defaults=False)
        .on_conflict_do_nothing(index_elements=["campaign_id", "customer_id"])
    )


async def changed(session: AsyncSession, campaign: Campaign) -> None:
    await publish(
        session,
        campaign.tenant_id,
        "campaign.updated",
        {"campaign_id": str(campaign.id), "status": campaign.status, "paused_reason": campaign.paused_reason},
    )


async def start(
    session: AsyncSession, tenant_id: uuid.UUID, campaign_id: uuid.UUID, actor: str, *, accept_spread: bool
) -> tuple[Campaign, Plan]:
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    if campaign.status not in ("draft", "scheduled"):
        raise Conflict(f"a {campaign.status} campaign cannot be started", code="campaign_not_startable")
    p = await plan(session, campaign)
    if p.spread and not accept_spread:
        raise Conflict(
            p.note + " Start again with accept_spread to go ahead.",
            code="spread_over_days",
            details={"plan": p.model_dump()},
        )
    if p.audience == 0:
        raise NexusError(
            "the audience has no opted-in customer to send to", code="empty_audience", status_code=422
        )
    campaign.plan = p.model_dump()
    now = datetime.now(UTC)
    if campaign.schedule_at is not None and campaign.schedule_at > now:
        campaign.status = "scheduled"
    else:
        await begin(session, campaign)
    await audit.record(
        session,
        actor=actor,
        action="campaign.start",
        tenant_id=tenant_id,
        target_type="campaign",
        target_id=str(campaign.id),
        payload={"audience": p.audience, "days": p.days},
    )
    await changed(session, campaign)
    return campaign, p


async def begin(session: AsyncSession, campaign: Campaign) -> None:
    """scheduled/draft → running: the recipients are written now."""
    await materialize(session, campaign)
    await issue_coupon(session, campaign)
    campaign.status = "running"
    campaign.started_at = campaign.started_at or datetime.now(UTC)
    campaign.paused_reason = None
    await session.flush()


async def start_due(session: AsyncSession) -> list[Campaign]:
    """Scheduled campaigns whose time has come (any replica; SKIP LOCKED keeps it to one)."""
    due = (
        await session.scalars(
            select(Campaign)
            .where(Campaign.status == "scheduled", Campaign.schedule_at <= func.now())
            .with_for_update(skip_locked=True)
            .limit(20)
        )
    ).all()
    for campaign in due:
        await begin(session, campaign)
        await changed(session, campaign)
    return list(due)


async def pause(session: AsyncSession, tenant_id: uuid.UUID, campaign_id: uuid.UUID, actor: str) -> Campaign:
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    if campaign.status not in ("running", "scheduled"):
        raise Conflict(f"a {campaign.status} campaign cannot be paused", code="campaign_not_running")
    campaign.status, campaign.paused_reason = "paused", "paused by staff"
    await audit.record(
        session,
        actor=actor,
        action="campaign.pause",
        tenant_id=tenant_id,
        target_type="campaign",
        target_id=str(campaign.id),
    )
    await changed(session, campaign)
    return campaign


async def resume(session: AsyncSession, tenant_id: uuid.UUID, campaign_id: uuid.UUID, actor: str) -> Campaign:
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    if campaign.status != "paused":
        raise Conflict(f"a {campaign.status} campaign cannot be resumed", code="campaign_not_paused")
    if (
        campaign.started_at is None
        and campaign.schedule_at is not None
        and campaign.schedule_at > datetime.now(UTC)
    ):
        campaign.status, campaign.paused_reason = "scheduled", None
    else:
        await begin(session, campaign)
    await audit.record(
        session,
        actor=actor,
        action="campaign.resume",
        tenant_id=tenant_id,
        target_type="campaign",
        target_id=str(campaign.id),
    )
    await changed(session, campaign)
    return campaign


async def cancel(session: AsyncSession, tenant_id: uuid.UUID, campaign_id: uuid.UUID, actor: str) -> Campaign:
    campaign = await get(session, tenant_id, campaign_id, lock=True)
    if campaign.status in ("done", "cancelled"):
        raise Conflict(f"a {campaign.status} campaign cannot be cancelled", code="campaign_finished")
    campaign.status = "cancelled"
    campaign.finished_at = datetime.now(UTC)
    await session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.state == "pending")
        .values(state="cancelled", next_attempt_at=None)
    )
    await audit.record(
        session,
        actor=actor,
        action="campaign.cancel",
        tenant_id=tenant_id,
        target_type="campaign",
        target_id=str(campaign.id),
    )
    await changed(session, campaign)
    return campaign


async def pause_for(session: AsyncSession, campaign_id: uuid.UUID, reason: str) -> bool:
    """The platform pauses a running campaign (template paused, error-rate spike) and tells the owner."""
    campaign = await session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None or campaign.status != "running":
        return False
    campaign.status, campaign.paused_reason = "paused", reason[:200]
    await audit.record(
        session,
        actor="system",
        action="campaign.auto_pause",
        tenant_id=campaign.tenant_id,
        level="warning",
        target_type="campaign",
        target_id=str(campaign.id),
        payload={"reason": reason, "name": campaign.name},
    )
    await changed(session, campaign)
    await notify_owner(session, campaign, reason)
    log.warning("campaign.auto_paused", campaign_id=str(campaign.id), reason=reason)
    return True


async def notify_owner(session: AsyncSession, campaign: Campaign, reason: str) -> None:
    """Owners hear of an automatic pause on the dashboard (event + audit log) and by e-mail."""
    from . import notify

    await notify.campaign_paused(session, campaign, reason)


async def finish_if_drained(session: AsyncSession, campaign_id: uuid.UUID) -> bool:
    left = await session.scalar(
        select(
            exists().where(
                and_(
                    CampaignRecipient.campaign_id == campaign_id,
                    CampaignRecipient.state.in_(("pending", "sending")),
                )
            )
        )
    )
    if left:
        return False
    campaign = await session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None or campaign.status != "running":
        return False
    campaign.status = "done"
    campaign.finished_at = datetime.now(UTC)
    await changed(session, campaign)
    return True
