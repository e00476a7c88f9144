"""`GET /events/stream`: the dashboard's server-sent events.

Auth: the staff member's bearer token (`Authorization: Bearer …`, or `?access_token=` because
browsers' EventSource cannot set headers). The orchestrator checks it (`GET /internal/auth/verify`,
which also knows about revocation) when the stream opens and again every SSE_RECHECK_SECONDS
(30 s): a stream ends when its session is revoked (logout, deactivated user, password reset) or
when the token expires. The stream carries only that user's tenant's events. While the
orchestrator cannot answer a re-check, the stream goes on until the token's expiry (availability
over an immediate cut; a stolen token still dies within its 15 minutes).
`Last-Event-ID` (or `?last_event_id=`) replays what was missed from the
`events` table, then the stream continues live from the shared hub. Heartbeats keep proxies open.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import httpx
import structlog
from fastapi import APIRouter, Header, Query, Request
from nexus_common.errors import BadRequest, ServiceUnavailable, Unauthorized
from sse_starlette import EventSourceResponse, ServerSentEvent

from .hub import Event, EventHub

log = structlog.get_logger("bff.stream")

router = APIRouter(tags=["events"])


@dataclass(frozen=True)
class Verified:
    tenant: uuid.UUID
    expires_in: float | None  # seconds until the token expires; None: never


async def verify(request: Request, token: str, tenant_header: str | None) -> Verified:
    settings = request.app.state.settings
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Internal-Token": settings.internal_api_token.get_secret_value(),
    }
    if tenant_header:
        headers["X-Tenant-Id"] = tenant_header
    client: httpx.AsyncClient = request.app.state.http
    try:
        r = await client.get(
            f"{str(settings.orchestrator_url).rstrip('/')}/internal/auth/verify", headers=headers
        )
    except httpx.HTTPError:
        raise ServiceUnavailable("cannot verify the token right now") from None
    if r.status_code in (401, 403):
        raise Unauthorized("missing, invalid, expired or revoked token")
    if r.status_code in (400, 404):
        raise BadRequest("name an existing tenant (super-admin: tenant_id)")
    if r.status_code != 200:
        raise ServiceUnavailable("cannot verify the token right now")
    body = r.json()
    tenant = body.get("tenant_id")
    if not tenant:
        raise BadRequest("super-admin streams need tenant_id")
    expires = body.get("expires_at")
    expires_in = datetime.fromisoformat(expires).timestamp() - time.time() if expires else None
    return Verified(uuid.UUID(tenant), expires_in)


def _closed(reason: str) -> ServerSentEvent:
    """The last event of a stream the server ends: the dashboard signs in again (or refreshes)."""
    return ServerSentEvent(data=json.dumps({"reason": reason}), event="stream.closed")


def _sse(event: Event) -> ServerSentEvent:
    return ServerSentEvent(data=event.envelope(), event=event.type, id=str(event.id))


@router.get("/events/stream")
async def stream(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    access_token: Annotated[str | None, Query(max_length=4096)] = None,
    last_event_id: Annotated[int | None, Query(ge=0)] = None,
    tenant_id: Annotated[uuid.UUID | None, Query()] = None,
) -> EventSourceResponse:
    """Live dashboard events of the caller's tenant (`message.created`, `conversation.updated`,
    `agent.step`, `handoff`, `catalog.sync`, ...). Each SSE `id` is the event id."""
    hub: EventHub | None = request.app.state.hub
    if hub is None or hub.pool is None:
        raise ServiceUnavailable("events are not available (POSTGRES_DSN not set)")
    token = access_token
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    if not token:
        raise Unauthorized("missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    tenant_param = str(tenant_id) if tenant_id else None
    verified = await verify(request, token, tenant_param)
    tenant = verified.tenant
    expires_at = time.monotonic() + verified.expires_in if verified.expires_in is not None else None
    after = last_event_id
    if last_event_id_header:
        try:
            after = int(last_event_id_header)
        except ValueError:
            raise BadRequest("Last-Event-ID must be an event id") from None
    settings = request.app.state.settings

    async def still_valid() -> bool:
        try:
            again = await verify(request, token, tenant_param)
        except (Unauthorized, BadRequest):
            return False
        except ServiceUnavailable:
            return True  # see the module docstring: the expiry still ends the stream
        return again.tenant == tenant

    async def events() -> AsyncIterator[ServerSentEvent]:
        async with hub.subscribe(tenant) as sub:
            replayed: set[int] = set()
            if after is not None:
                # Subscribed first, then read the backlog: nothing falls between the two.
                for event in await hub.replay(tenant, after, settings.sse_replay_limit):
                    replayed.add(event.id)
                    yield _sse(event)
            recheck_at = time.monotonic() + settings.sse_recheck_seconds
            while not sub.overflowed.is_set():
                now = time.monotonic()
                if expires_at is not None and now >= expires_at:
                    log.info("sse.token_expired", tenant_id=str(tenant))
                    yield _closed("token_expired")
                    return
                if now >= recheck_at:
                    if not await still_valid():
                        log.info("sse.revoked", tenant_id=str(tenant))
                        yield _closed("revoked")
                        return
                    recheck_at = time.monotonic() + settings.sse_recheck_seconds
                    continue
                wake = min(recheck_at, expires_at) if expires_at is not None else recheck_at
                try:
                    event = await asyncio.wait_for(sub.queue.get(), max(wake - now, 0.0))
                except TimeoutError:
                    continue
                if event.id in replayed:
                    continue
                yield _sse(event)
            log.info("sse.overflow_disconnect", tenant_id=str(tenant))

    return EventSourceResponse(
        events(),
        ping=settings.sse_heartbeat_seconds,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
