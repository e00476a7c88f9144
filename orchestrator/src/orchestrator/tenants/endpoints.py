"""The caller's tenant and its agent settings; every tenant for the platform super-admin."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from redis.exceptions import RedisError
from sqlalchemy import select

from ..analytics import service as analytics
from ..audit import service as audit
from ..auth import Admin, Owner, SuperAdmin, Viewer
from ..db import Session
from ..models import Tenant
from . import service
from .schemas import AgentSettings, TenantOut, TenantPatch, tenant_out

router = APIRouter(prefix="/api/v1", tags=["settings"])


@router.get("/tenant")
async def get_tenant(principal: Viewer, session: Session) -> TenantOut:
    """The tenant you work in."""
    return tenant_out(await service.get_tenant(session, principal.tenant))


@router.patch("/tenant")
async def patch_tenant(body: TenantPatch, principal: Owner, session: Session) -> TenantOut:
    """Rename the tenant (owner). Disabling a tenant is for the platform super-admin."""
    tenant = await service.get_tenant(session, principal.tenant)
    if body.name:
        tenant.name = body.name
    await audit.record(session, actor=principal.actor, action="tenant.updated", tenant_id=tenant.id)
    return tenant_out(tenant)


@router.get("/settings/agent")
async def get_agent_settings(principal: Viewer, session: Session) -> AgentSettings:
    """Persona, language, time zone, business hours, handoff e-mails and the pause timeout."""
    return service.agent_settings_of(await service.get_tenant(session, principal.tenant))


@router.put("/settings/agent")
async def put_agent_settings(
    body: AgentSettings, principal: Admin, session: Session, request: Request
) -> AgentSettings:
    """Replace the agent settings (admin). `handoff_timeout_minutes` returns paused conversations to
    the AI after that long without a human reply (unset: never)."""
    tenant = await service.get_tenant(session, principal.tenant)
    merged = {k: v for k, v in (tenant.settings or {}).items() if k not in service.AGENT_SETTING_KEYS}
    old_timezone = (tenant.settings or {}).get("timezone")
    merged.update(body.model_dump(mode="json"))
    tenant.settings = merged
    if old_timezone != body.timezone:
        # Cached analytics were cut into days of the old zone.
        with contextlib.suppress(RedisError):
            await analytics.clear_cache(request.app.state.redis, tenant.id)
    await audit.record(
        session,
        actor=principal.actor,
        action="settings.agent_updated",
        tenant_id=tenant.id,
        payload={"keys": sorted(body.model_fields_set)},
    )
    return body


# --- platform super-admin ---------------------------------------------------------------------------


@router.get("/tenants")
async def list_tenants(
    principal: SuperAdmin,
    session: Session,
    cursor: Annotated[uuid.UUID | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> dict[str, Any]:
    """Every tenant (super-admin)."""
    stmt = select(Tenant).order_by(Tenant.id).limit(limit + 1)
    if cursor:
        stmt = stmt.where(Tenant.id > cursor)
    rows = (await session.scalars(stmt)).all()
    return {
        "items": [tenant_out(t) for t in rows[:limit]],
        "next_cursor": str(rows[limit - 1].id) if len(rows) > limit else None,
    }


@router.patch("/tenants/{tenant_id}")
async def patch_any_tenant(
    tenant_id: uuid.UUID, body: TenantPatch, principal: SuperAdmin, session: Session
) -> TenantOut:
    """Rename, disable or re-enable a tenant (super-admin). A disabled tenant's staff cannot sign in."""
    tenant = await service.get_tenant(session, tenant_id)
    if body.name:
        tenant.name = body.name
    if body.status:
        tenant.status = body.status
        # A platform disable survives the store reinstalling the app (integrations/tiendanube).
        tenant.platform_disabled_at = datetime.now(UTC) if body.status == "disabled" else None
    await audit.record(
        session,
        actor=principal.actor,
        action="tenant.updated",
        tenant_id=tenant.id,
        payload=body.model_dump(exclude_none=True),
    )
    return tenant_out(tenant)
