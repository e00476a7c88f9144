"""The tenant's channels: list them, enable/disable or rename one. Secrets are never shown."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from nexus_common.errors import NotFound
from sqlalchemy import select

from ..audit import service as audit
from ..auth import Admin, Viewer
from ..db import Session
from ..models import ChannelAccount
from .schemas import ChannelPatch

router = APIRouter(prefix="/api/v1", tags=["settings"])


def _channel_out(c: ChannelAccount) -> dict[str, Any]:
    return {
        "id": c.id,
        "channel": c.channel,
        "external_id": c.external_id,
        "display_name": c.display_name,
        "enabled": c.enabled,
        "created_at": c.created_at,
    }


@router.get("/channels")
async def list_channels(principal: Viewer, session: Session) -> dict[str, Any]:
    """The tenant's WhatsApp numbers and Instagram/Messenger pages (secrets are never shown)."""
    rows = (
        await session.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.tenant_id == principal.tenant)
            .order_by(ChannelAccount.created_at)
        )
    ).all()
    return {"items": [_channel_out(c) for c in rows], "next_cursor": None}


@router.patch("/channels/{channel_id}")
async def patch_channel(
    channel_id: uuid.UUID, body: ChannelPatch, principal: Admin, session: Session
) -> dict[str, Any]:
    """Enable/disable a channel or rename it (admin)."""
    c = await session.scalar(
        select(ChannelAccount).where(
            ChannelAccount.id == channel_id, ChannelAccount.tenant_id == principal.tenant
        )
    )
    if c is None:
        raise NotFound("channel not found")
    if body.enabled is not None:
        c.enabled = body.enabled
    if body.display_name is not None:
        c.display_name = body.display_name
    await audit.record(
        session,
        actor=principal.actor,
        action="channel.updated",
        tenant_id=c.tenant_id,
        target_type="channel_account",
        target_id=str(c.id),
        payload=body.model_dump(exclude_none=True),
    )
    return _channel_out(c)
