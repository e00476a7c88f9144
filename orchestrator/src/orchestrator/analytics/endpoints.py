from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query, Request, Response
from nexus_common.errors import BadRequest

from ..auth import Viewer
from ..db import Session
from ..deps import AppSettings
from ..models import Tenant
from . import service

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

MAX_DAYS = 366


@router.get("/overview", response_model=None, responses={200: {"content": {"application/json": {}}}})
async def overview(
    principal: Viewer,
    session: Session,
    request: Request,
    settings: AppSettings,
    from_: Annotated[date | None, Query(alias="from", description="First day (tenant's zone)")] = None,
    to: Annotated[date | None, Query(description="Last day, inclusive")] = None,
) -> Response:
    """Conversations, messages in/out, AI vs human share, handoffs and reasons, median first-response
    time, AI fallback rate, top searches and unanswered questions, per day (tenant's time zone).

    Cached for 300 s per tenant and range (`X-Cache: hit|miss`); straight from Postgres without Redis.
    """
    redis = request.app.state.redis
    if from_ and to:
        # The common case (explicit range): answer a hit before touching the database again.
        if from_ > to:
            raise BadRequest("`from` must not be after `to`")
        cached = await service.cached_get(redis, service.cache_key(principal.tenant, from_, to))
        if cached is not None:
            return Response(cached, media_type="application/json", headers={"X-Cache": "hit"})
    tenant = await session.get(Tenant, principal.tenant)
    assert tenant is not None
    tz_name = str((tenant.settings or {}).get("timezone") or "UTC")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        tz_name, tz = "UTC", ZoneInfo("UTC")
    today = datetime.now(UTC).astimezone(tz).date()
    end = to or today
    start = from_ or (end - timedelta(days=29))
    if start > end:
        raise BadRequest("`from` must not be after `to`")
    if (end - start).days >= MAX_DAYS:
        raise BadRequest(f"the range may span at most {MAX_DAYS} days")
    key = service.cache_key(tenant.id, start, end)
    if not (from_ and to):
        cached = await service.cached_get(redis, key)
        if cached is not None:
            return Response(cached, media_type="application/json", headers={"X-Cache": "hit"})
    body = service.encode(await service.compute(session, tenant.id, start, end, tz_name))
    await service.cached_put(redis, key, body, settings.analytics_cache_seconds)
    return Response(body, media_type="application/json", headers={"X-Cache": "miss"})
