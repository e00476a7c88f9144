"""Notification settings live in the tenant's settings (`notifications`)."""

from __future__ import annotations

import uuid
from typing import Any

from nexus_common.errors import NexusError, NotFound
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ..audit import service as audit
from ..models import Tenant
from ..templates import service as templates
from .schemas import ALL_EVENTS, NotificationSettings, NotificationSettingsPatch

KEY = "notifications"


class InvalidSettings(NexusError):
    status_code, code, message = 422, "invalid_settings", "invalid notification settings"


def of(tenant: Tenant) -> NotificationSettings:
    raw = (tenant.settings or {}).get(KEY) or {}
    try:
        return NotificationSettings.model_validate(raw)
    except ValidationError:
        return NotificationSettings()  # an unreadable stored value: the defaults, not a 500


async def load(session: AsyncSession, tenant_id: uuid.UUID) -> NotificationSettings:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return of(tenant)


async def update(
    session: AsyncSession, tenant_id: uuid.UUID, patch: NotificationSettingsPatch, actor: str
) -> NotificationSettings:
    tenant = await session.get(Tenant, tenant_id, with_for_update=True)
    if tenant is None:
        raise NotFound("tenant not found")
    current = of(tenant).model_dump(mode="json")
    changed: list[str] = []
    for event in ALL_EVENTS:
        part = getattr(patch, event)
        if part is None:
            continue
        current[event] = {**current[event], **part}
        changed.append(event)
    try:
        merged = NotificationSettings.model_validate(current)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = [
            {"field": ".".join(str(x) for x in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise InvalidSettings("invalid notification settings", details={"errors": errors}) from None
    for event in changed:
        name = getattr(merged, event).template
        if name and not await templates.exists(session, tenant_id, name):
            raise InvalidSettings(
                f"{event}.template: no template named {name!r} (sync the templates first)",
                details={"field": f"{event}.template"},
            )
    tenant.settings = {**(tenant.settings or {}), KEY: merged.model_dump(mode="json")}
    await audit.record(
        session,
        actor=actor,
        action="settings.notifications_updated",
        tenant_id=tenant_id,
        payload={"events": changed},
    )
    return merged
