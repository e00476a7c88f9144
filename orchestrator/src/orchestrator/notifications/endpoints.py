"""`GET|PUT /api/v1/settings/notifications`, `GET /api/v1/analytics/notifications`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from nexus_common.errors import BadRequest

from ..auth import Admin, Viewer
from ..db import Session
from . import analytics
from . import settings as service
from .schemas import NotificationSettings, NotificationSettingsPatch

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.get("/settings/notifications", response_model=NotificationSettings)
async def get_notification_settings(principal: Viewer, session: Session) -> NotificationSettings:
    """Order updates (paid, packed, fulfilled, cancelled) and cart recovery: on/off, the template
    mapped to each, its language (empty: the customer's), and recovery's delay and cooldown."""
    return await service.load(session, principal.tenant)


@router.put("/settings/notifications", response_model=NotificationSettings)
async def put_notification_settings(
    body: NotificationSettingsPatch, principal: Admin, session: Session
) -> NotificationSettings:
    """Change any subset (events not sent, and fields of an event not sent, keep their values).
    A template must be one of the synced templates (422 otherwise)."""
    return await service.update(session, principal.tenant, body, principal.actor)


@router.get("/analytics/notifications")
async def notification_analytics(
    principal: Viewer,
    session: Session,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
) -> dict[str, Any]:
    """Messages Nexus sent first in the range (UTC days): sent, delivered, read, failed, skipped,
    per kind; and cart recovery: messages sent, checkouts recovered (an order by the same customer
    within 7 days) and their revenue per currency."""
    end_day = to or datetime.now(UTC).date()
    start_day = from_ or (end_day - timedelta(days=29))
    if start_day > end_day:
        raise BadRequest("`from` must not be after `to`")
    start = datetime.combine(start_day, time.min, UTC)
    end = datetime.combine(end_day + timedelta(days=1), time.min, UTC)
    return {
        "from": start_day,
        "to": end_day,
        **await analytics.summary(session, principal.tenant, start, end),
    }
