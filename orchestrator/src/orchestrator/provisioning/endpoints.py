"""`POST /api/v1/tenants`, `PUT /api/v1/tenants/{id}/channels/{whatsapp|meta}` (super-admin)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends
from nexus_common.crypto import Crypto

from ..auth import require_super_admin
from ..credentials.service import mask
from ..db import Session
from ..deps import AppSettings
from ..models import ChannelAccount
from .schemas import ChannelAccountOut, ChannelsOut, MetaChannel, TenantCreate, TenantCreated, WhatsAppChannel
from .service import create_tenant, put_channel_account

router = APIRouter(
    prefix="/api/v1/tenants", tags=["provisioning"], dependencies=[Depends(require_super_admin)]
)

ACTOR = "super-admin"


def _out(row: ChannelAccount, access_token: str, app_secret: str, verify_token: str) -> ChannelAccountOut:
    def m(v: str) -> str:
        return mask(v[-4:] if len(v) >= 12 else None)

    return ChannelAccountOut(
        id=row.id,
        channel=row.channel,
        external_id=row.external_id,
        display_name=row.display_name,
        access_token=m(access_token),
        app_secret=m(app_secret),
        verify_token=m(verify_token),
    )


@router.post("", status_code=201, response_model=TenantCreated)
async def post_tenant(body: TenantCreate, session: Session) -> TenantCreated:
    """Create a tenant (a store). Super-admin only."""
    tenant = await create_tenant(session, body.name, ACTOR)
    return TenantCreated(id=tenant.id)


@router.put("/{tenant_id}/channels/whatsapp", response_model=ChannelsOut)
async def put_whatsapp(
    tenant_id: uuid.UUID, body: WhatsAppChannel, session: Session, settings: AppSettings
) -> ChannelsOut:
    """Connect (or update) the tenant's WhatsApp number. Secrets are stored encrypted and shown
    masked; webhooks for `phone_number_id` are routed to this tenant."""
    crypto: Crypto = settings.crypto
    extra: dict[str, Any] = (
        {"reengagement_template": body.reengagement_template.model_dump()}
        if body.reengagement_template
        else {}
    )
    if body.waba_id:
        extra["waba_id"] = body.waba_id
    secrets = (
        body.access_token.get_secret_value(),
        body.app_secret.get_secret_value(),
        body.verify_token.get_secret_value(),
    )
    row = await put_channel_account(
        session,
        crypto,
        tenant_id,
        channel="whatsapp",
        external_id=body.phone_number_id,
        access_token=secrets[0],
        app_secret=secrets[1],
        verify_token=secrets[2],
        display_name=body.display_name,
        settings=extra,
        actor=ACTOR,
    )
    return ChannelsOut(items=[_out(row, *secrets)])


@router.put("/{tenant_id}/channels/meta", response_model=ChannelsOut)
async def put_meta(
    tenant_id: uuid.UUID, body: MetaChannel, session: Session, settings: AppSettings
) -> ChannelsOut:
    """Connect (or update) the tenant's Messenger page and/or Instagram account."""
    secrets = (
        body.access_token.get_secret_value(),
        body.app_secret.get_secret_value(),
        body.verify_token.get_secret_value(),
    )
    items = []
    for channel, external_id in (("messenger", body.page_id), ("instagram", body.instagram_account_id)):
        if not external_id:
            continue
        row = await put_channel_account(
            session,
            settings.crypto,
            tenant_id,
            channel=channel,
            external_id=external_id,
            access_token=secrets[0],
            app_secret=secrets[1],
            verify_token=secrets[2],
            display_name=body.display_name,
            settings={},
            actor=ACTOR,
        )
        items.append(_out(row, *secrets))
    return ChannelsOut(items=items)
