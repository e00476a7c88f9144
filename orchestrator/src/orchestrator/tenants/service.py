"""Tenant lookups and the agent settings stored in `tenants.settings`."""

from __future__ import annotations

import uuid

from nexus_common.errors import NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Tenant
from .schemas import AgentSettings

AGENT_SETTING_KEYS = (
    "persona",
    "language",
    "timezone",
    "business_hours",
    "handoff_emails",
    "handoff_timeout_minutes",
)


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    """The tenant, or 404."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


def agent_settings_of(tenant: Tenant) -> AgentSettings:
    raw = {k: v for k, v in (tenant.settings or {}).items() if k in AGENT_SETTING_KEYS}
    return AgentSettings.model_validate(raw)
