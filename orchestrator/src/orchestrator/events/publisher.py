"""Publish dashboard events (contract: nexus_common.contracts.events).

An event is a row in `events`, written in the caller's transaction, plus a `pg_notify` that
Postgres delivers only if that transaction commits: so a listener never hears of an event that
was rolled back, and events survive Redis being down. After commit the caller may also call
`announce()` to push the ids through Redis pub/sub (faster fan-out when Redis is up).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import structlog
from nexus_common.contracts.events import PG_CHANNEL, REDIS_CHANNEL, EventType
from redis.asyncio import Redis
from sqlalchemy import Text, cast, func, insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Event

log = structlog.get_logger("orchestrator.events")

PENDING_KEY = "nexus_pending_events"


async def publish(session: AsyncSession, tenant_id: uuid.UUID, type_: EventType, data: dict[str, Any]) -> int:
    # The row and its NOTIFY in one round trip (a reply publishes 8-10 events on its way).
    event_id: int = (
        await session.execute(
            insert(Event)
            .values(tenant_id=tenant_id, type=type_, data=data)
            .returning(Event.id, func.pg_notify(PG_CHANNEL, cast(Event.id, Text)))
        )
    ).first()[0]  # type: ignore[index]
    session.info.setdefault(PENDING_KEY, []).append((event_id, str(tenant_id)))
    return event_id


async def announce(session: AsyncSession, redis: Redis | None) -> None:
    """After a commit: push the ids of the events it published through Redis (best effort)."""
    pending = session.info.pop(PENDING_KEY, [])
    if not pending or redis is None:
        return
    try:
        # One round trip for all of them, in order.
        async with redis.pipeline(transaction=False) as pipe:
            for event_id, tenant_id in pending:
                pipe.publish(REDIS_CHANNEL, json.dumps({"id": event_id, "tenant_id": tenant_id}))
            await pipe.execute()
    except Exception as exc:  # noqa: BLE001 - Redis is an accelerator; NOTIFY already went out
        log.warning("events.redis_publish_failed", error=type(exc).__name__)
