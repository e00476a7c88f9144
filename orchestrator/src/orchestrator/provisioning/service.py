"""Tenants and channel accounts; secrets go to `credentials` (Fernet), never back out in clear."""

from __future__ import annotations

import uuid
from typing import Any

from nexus_common.crypto import Crypto
from nexus_common.errors import Conflict, NotFound
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..audit import service as audit
from ..credentials import service as credentials
from ..models import ChannelAccount, Tenant
from ..pipeline import accounts


async def create_tenant(session: AsyncSession, name: str, actor: str) -> Tenant:
    tenant = Tenant(name=name.strip())
    session.add(tenant)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="tenant.create",
        tenant_id=tenant.id,
        target_type="tenant",
        target_id=str(tenant.id),
    )
    return tenant


async def put_channel_account(
    session: AsyncSession,
    crypto: Crypto,
    tenant_id: uuid.UUID,
    *,
    channel: str,
    external_id: str,
    access_token: str,
    app_secret: str,
    verify_token: str,
    display_name: str | None,
    settings: dict[str, Any],
    actor: str,
) -> ChannelAccount:
    if await session.get(Tenant, tenant_id) is None:
        raise NotFound("tenant not found")
    row = await session.scalar(
        select(ChannelAccount)
        .where(ChannelAccount.channel == channel, ChannelAccount.external_id == external_id)
        .with_for_update()
    )
    if row is not None and row.tenant_id != tenant_id:
        raise Conflict(f"this {channel} account belongs to another tenant")
    if row is None:
        row = ChannelAccount(tenant_id=tenant_id, channel=channel, external_id=external_id)
        session.add(row)
    row.display_name = display_name
    row.enabled = True
    row.settings = {**(row.settings or {}), **settings}
    await session.flush()
    prefix = accounts.credential_prefix(channel)
    for kind, value in (
        ("access_token", access_token),
        ("app_secret", app_secret),
        ("verify_token", verify_token),
    ):
        await credentials.put(session, crypto, tenant_id, f"{prefix}_{kind}", value, scope=external_id)
    await audit.record(
        session,
        actor=actor,
        action="channel.configure",
        tenant_id=tenant_id,
        target_type="channel_account",
        target_id=str(row.id),
        payload={"channel": channel},
    )
    accounts.forget(channel, external_id)
    return row
