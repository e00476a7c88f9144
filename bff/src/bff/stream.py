"""`GET /events/stream`: the dashboard's server-sent events.

Auth: the staff member's bearer token (`Authorization: Bearer …`, or `?access_token=` because
browsers' EventSource cannot set headers). It is checked once per connection by the orchestrator
(`GET /internal/auth/verify`), which also knows about revocation; the stream carries only that
user's tenant's events. `Last-Event-ID` (or `?last_event_id=`) replays what was missed from the
`events` table, then the stream continues live from the shared hub. Heartbeats keep proxies open.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import structlog
from fastapi import APIRouter, Header, Query, Request
from nexus_common.errors import BadRequest, ServiceUnavailable, Unauthorized
from sse_starlette import EventSourceResponse, ServerSentEvent

from .hub import Event, EventHub

log = structlog.get_logger("bff.stream")

router = APIRouter(tags=["events"])


async def verify(request: Request, token: str, tenant_header: str | None) -> uuid.UUID:
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
    tenant = r.json().get("tenant_id")
    if not tenant:
        raise BadRequest("super-admin streams need tenant_id")
    return uuid.UUID(tenant)


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
    tenant = await verify(request, token, str(tenant_id) if tenant_id else None)
    after = last_event_id
    if last_event_id_header:
        try:
            after = int(last_event_id_header)
        except ValueError:
            raise BadRequest("Last-Event-ID must be an event id") from None
    settings = request.app.state.settings

    async def events() -> AsyncIterator[ServerSentEvent]:
        async with hub.subscribe(tenant) as sub:
            replayed: set[int] = set()
            if after is not None:
                # Subscribed first, then read the backlog: nothing falls between the two.
                for event in await hub.replay(tenant, after, settings.sse_replay_limit):
                    replayed.add(event.id)
                    yield _sse(event)
            while not sub.overflowed.is_set():
                event = await sub.queue.get()
                if event.id in replayed:
                    continue
                yield _sse(event)
            log.info("sse.overflow_disconnect", tenant_id=str(tenant))

    return EventSourceResponse(
        events(),
        ping=settings.sse_heartbeat_seconds,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
