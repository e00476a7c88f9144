"""Campaigns: CRUD, start / pause / resume / cancel, plan, test send, report; sending settings."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from nexus_common.errors import BadRequest, NexusError
from sqlalchemy import select

from .. import runtime
from ..audit import service as audit
from ..auth import Admin, Owner, Viewer
from ..db import Session
from ..models import Campaign, Tenant
from ..phones import to_e164
from ..pipeline.accounts import access_token, find_account
from ..pipeline.clients import whatsapp_client
from . import render, service
from .schemas import (
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    Plan,
    Report,
    SendingSettings,
    SendingSettingsUpdate,
    StartRequest,
    TestSendRequest,
)

router = APIRouter(prefix="/api/v1", tags=["campaigns"])


@router.get("/campaigns")
async def list_campaigns(
    principal: Viewer, session: Session, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """The store's campaigns, newest first (`next_cursor` pages on)."""
    limit = max(1, min(limit, 200))
    q = select(Campaign).where(Campaign.tenant_id == principal.tenant)
    if cursor:
        try:
            before = await session.scalar(
                select(Campaign.created_at).where(
                    Campaign.id == uuid.UUID(cursor), Campaign.tenant_id == principal.tenant
                )
            )
        except ValueError:
            raise BadRequest("invalid cursor", code="invalid_cursor") from None
        if before is None:
            raise BadRequest("invalid cursor", code="invalid_cursor")
        q = q.where(Campaign.created_at < before)
    rows = (await session.scalars(q.order_by(Campaign.created_at.desc()).limit(limit + 1))).all()
    items = [service.out(c, await service.counts(session, c.id)) for c in rows[:limit]]
    return {"items": items, "next_cursor": str(rows[limit - 1].id) if len(rows) > limit else None}


@router.post("/campaigns", status_code=201)
async def create_campaign(body: CampaignCreate, principal: Admin, session: Session) -> dict[str, uuid.UUID]:
    """A draft campaign: an approved template, its variables (`customer.first_name`,
    `customer.name`, `store.name`, `coupon.code`, `coupon.percent`; default: first name then store
    name), the audience filter, an optional `coupon` (`{"percent": 15}`, within the owner's coupon
    policy, else 422 `coupon_not_allowed`) and an optional `schedule_at` (a time without offset is
    in the store's time zone)."""
    campaign = await service.create(session, principal.tenant, principal.actor, body)
    return {"id": campaign.id}


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
async def get_campaign(campaign_id: uuid.UUID, principal: Viewer, session: Session) -> CampaignOut:
    """One campaign with its counts (queued, sent, delivered, read, replied, failed, opted_out, skipped)."""
    campaign = await service.get(session, principal.tenant, campaign_id)
    return service.out(campaign, await service.counts(session, campaign.id))


@router.patch("/campaigns/{campaign_id}", response_model=CampaignOut)
async def edit_campaign(
    campaign_id: uuid.UUID, body: CampaignUpdate, principal: Admin, session: Session
) -> CampaignOut:
    """Change a draft or scheduled campaign."""
    return service.out(await service.edit(session, principal.tenant, campaign_id, body))


@router.get("/campaigns/{campaign_id}/plan", response_model=Plan)
async def get_plan(campaign_id: uuid.UUID, principal: Viewer, session: Session) -> Plan:
    """What a start would do: audience size, throughput, the daily limit left, and over how many
    days the sends are spread when the daily unique-user limit cannot cover them at once."""
    return await service.plan(session, await service.get(session, principal.tenant, campaign_id))


@router.get("/campaigns/{campaign_id}/report", response_model=Report)
async def get_report(campaign_id: uuid.UUID, principal: Viewer, session: Session) -> Report:
    """The funnel (sent → delivered → read → replied), failures by Meta error code, skips by reason."""
    return await service.report(session, await service.get(session, principal.tenant, campaign_id))


@router.post("/campaigns/{campaign_id}/start")
async def start_campaign(
    campaign_id: uuid.UUID, principal: Admin, session: Session, body: StartRequest | None = None
) -> dict[str, Any]:
    """Start now (or at `schedule_at`). 409 `spread_over_days` with the plan when the daily limit
    spreads the sends over several days: start again with `{"accept_spread": true}`."""
    accept = body.accept_spread if body else False
    campaign, plan = await service.start(
        session, principal.tenant, campaign_id, principal.actor, accept_spread=accept
    )
    return {"id": campaign.id, "status": campaign.status, "plan": plan}


@router.post("/campaigns/{campaign_id}/pause", response_model=CampaignOut)
async def pause_campaign(campaign_id: uuid.UUID, principal: Admin, session: Session) -> CampaignOut:
    return service.out(await service.pause(session, principal.tenant, campaign_id, principal.actor))


@router.post("/campaigns/{campaign_id}/resume", response_model=CampaignOut)
async def resume_campaign(campaign_id: uuid.UUID, principal: Admin, session: Session) -> CampaignOut:
    return service.out(await service.resume(session, principal.tenant, campaign_id, principal.actor))


@router.post("/campaigns/{campaign_id}/cancel", response_model=CampaignOut)
async def cancel_campaign(campaign_id: uuid.UUID, principal: Admin, session: Session) -> CampaignOut:
    """Stop for good: recipients not yet sent are cancelled."""
    return service.out(await service.cancel(session, principal.tenant, campaign_id, principal.actor))


@router.post("/campaigns/{campaign_id}/test")
async def test_send(
    campaign_id: uuid.UUID, body: TestSendRequest, principal: Admin, session: Session
) -> dict[str, str]:
    """Send the campaign's message once to a staff phone (variables filled with `name` and the
    store's name). Not counted in the campaign."""
    campaign = await service.get(session, principal.tenant, campaign_id)
    e164 = to_e164(body.phone)
    if e164 is None:
        raise BadRequest("phone is not a valid phone number", code="invalid_phone")
    tenant = await session.get(Tenant, principal.tenant)
    code, percent = render.coupon_context(campaign.coupon)
    if campaign.coupon and code is None:  # the real code is created when sending starts
        code, percent = render.TEST_COUPON_CODE, render.coupon_context({**campaign.coupon, "code": "-"})[1]
    params, reason = render.render(
        campaign.variables, render.Context(body.name, tenant.name if tenant else None, code, percent)
    )
    if params is None:
        raise NexusError(f"cannot fill the template: {reason}", code="missing_variable", status_code=422)
    rt = runtime.current()
    account = await service.whatsapp_account(session, principal.tenant)
    acc = await find_account(session, "whatsapp", account.external_id)
    token = await access_token(session, rt.settings.crypto, acc) if acc else None
    if not token:
        raise NexusError("the WhatsApp number has no access token", code="no_access_token", status_code=422)
    resp = await whatsapp_client(rt).post(
        "/v1/messages",
        json={
            "channel": "whatsapp",
            "account_id": account.external_id,
            "to": e164.lstrip("+"),
            "type": "template",
            "template": {
                "name": campaign.template,
                "language": {"code": campaign.language},
                "components": render.components(params),
            },
        },
        headers={"X-Graph-Token": token},
    )
    data = resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}
    await audit.record(
        session,
        actor=principal.actor,
        action="campaign.test_send",
        tenant_id=principal.tenant,
        target_type="campaign",
        target_id=str(campaign.id),
        payload={"status": resp.status_code},
    )
    if resp.status_code != 200:
        details = (data.get("error") or {}).get("details") or {}
        raise NexusError(
            "WhatsApp did not accept the test message",
            code="test_send_failed",
            status_code=502,
            details={"graph_code": details.get("graph_code")},
        )
    return {"provider_message_id": str(data.get("provider_message_id"))}


@router.get("/settings/sending", response_model=SendingSettings)
async def get_sending(principal: Viewer, session: Session) -> SendingSettings:
    """Throughput (messages/s, 80 by default, up to 1,000) and the rolling 24-hour unique-user
    limit: Meta's messaging tier read from the Graph API (`daily_limit_source: graph`, `tier`,
    `tier_limit`), else the owner's `daily_unique_limit` (`daily_limit_source: owner`)."""
    return await service.refresh_tier(session, principal.tenant)


@router.put("/settings/sending", response_model=SendingSettings)
async def put_sending(body: SendingSettingsUpdate, principal: Owner, session: Session) -> SendingSettings:
    """Set `messages_per_second` (1–1,000) and/or `daily_unique_limit` (Meta's tier: 250, 2000,
    10000, 100000; `unlimited: true` for none). Fields not sent keep their values."""
    tenant = await session.scalar(select(Tenant).where(Tenant.id == principal.tenant).with_for_update())
    assert tenant is not None
    current = service.sending_settings(tenant).model_dump()
    if body.messages_per_second is not None:
        current["messages_per_second"] = body.messages_per_second
    if body.daily_unique_limit is not None:
        current["daily_unique_limit"] = body.daily_unique_limit
    if body.unlimited:
        current["daily_unique_limit"] = None
    new = SendingSettings.model_validate(current)
    tenant.settings = {**(tenant.settings or {}), "sending": new.model_dump(mode="json")}
    await audit.record(
        session,
        actor=principal.actor,
        action="settings.sending",
        tenant_id=principal.tenant,
        payload=new.model_dump(mode="json", include={"messages_per_second", "daily_unique_limit"}),
    )
    return new
