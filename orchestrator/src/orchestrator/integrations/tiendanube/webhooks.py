"""`POST /webhooks/tiendanube`: verify, store durably, queue; the job does the work.

The HMAC (hex SHA-256 of the raw body with the app secret, header `x-linkedstore-hmac-sha256`)
is checked before the body is parsed. A redelivered identical body is a no-op (unique
`body_sha256`); processing re-GETs the resource, so duplicates and reordering are harmless.
The privacy webhooks carry no `event` field: their topic comes from `?event=` (the URL set in the
partner portal) or, failing that, from the body's shape.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import structlog
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ... import order_events
from ...audit import service as audit
from ...config import Settings
from ...db import rowcount
from ...jobs import defer, names
from ...models import Credential, InboundEvent, Tenant
from . import catalog, orders, privacy

log = structlog.get_logger("orchestrator.tiendanube.webhooks")

SOURCE = "tiendanube"
SIGNATURE_HEADER = "x-linkedstore-hmac-sha256"
PRIVACY_TOPICS = ("store/redact", "customers/redact", "customers/data_request")


def signature_valid(secret: str | None, body: bytes, presented: str | None) -> bool:
    if not secret or not presented:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), presented.strip().lower().encode())


def topic_of(payload: dict[str, Any], hint: str | None) -> str | None:
    if hint in PRIVACY_TOPICS:
        return hint
    event = payload.get("event")
    if isinstance(event, str) and event:
        return event
    if "data_request" in payload or "orders_requested" in payload:
        return "customers/data_request"
    if "customer" in payload or "orders_to_redact" in payload:
        return "customers/redact"
    if set(payload) == {"store_id"}:
        return "store/redact"
    return None


def store_id_of(payload: dict[str, Any]) -> int | None:
    raw = payload.get("store_id")  # an integer in webhooks, a string elsewhere
    try:
        sid = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return sid if sid > 0 else None


async def store_event(
    session: AsyncSession, body: bytes, payload: dict[str, Any], topic: str
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """Insert the event (once). Returns (event id if new, tenant id)."""
    sid = store_id_of(payload)
    tenant_id = None
    if sid is not None:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.tiendanube_store_id == sid))
    stored = dict(payload)
    stored["_topic"] = topic
    stmt = (
        insert(InboundEvent)
        .values(
            source=SOURCE,
            body_sha256=hashlib.sha256(body).hexdigest(),
            payload=stored,
            tenant_id=tenant_id,
            state="pending" if tenant_id else "ignored",
        )
        .on_conflict_do_nothing(constraint="uq_inbound_events_source_body_sha256")
        .returning(InboundEvent.id)
    )
    event_id = (await session.execute(stmt)).scalar_one_or_none()
    return (event_id if tenant_id else None), tenant_id


async def defer_event(
    session: AsyncSession, event_id: uuid.UUID, tenant_id: uuid.UUID | None, resource: str
) -> None:
    """Queue the event's processing job in the caller's transaction. Events about one resource
    run one at a time (a product update never races its delete); different products in parallel."""
    await defer(
        session,
        names.TN_PROCESS_EVENT,
        {"event_id": str(event_id)},
        lock=names.tiendanube_event_lock(tenant_id, resource),
    )


def resource_key(payload: dict[str, Any], topic: str) -> str:
    """What an event is about (its processing lock): e.g. "product:123", "store/redact"."""
    family = topic.split("/", 1)[0]
    if family in ("product", "order", "customer", "category") and payload.get("id") is not None:
        return f"{family}:{payload.get('id')}"
    return topic


async def stale_events(
    session: AsyncSession, age_seconds: float
) -> list[tuple[uuid.UUID, uuid.UUID | None, str]]:
    rows = await session.execute(
        select(InboundEvent.id, InboundEvent.tenant_id, InboundEvent.payload).where(
            InboundEvent.source == SOURCE,
            InboundEvent.state == "pending",
            InboundEvent.attempts < 10,
            InboundEvent.received_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, age_seconds),
        )
    )
    return [(r[0], r[1], resource_key(r[2], str(r[2].get("_topic") or ""))) for r in rows.all()]


async def process_event(
    maker: async_sessionmaker[AsyncSession], settings: Settings, event_id: uuid.UUID
) -> str:
    async with maker() as session, session.begin():
        ev = await session.scalar(
            select(InboundEvent).where(InboundEvent.id == event_id).with_for_update(skip_locked=True)
        )
        if ev is None or ev.state not in ("pending", "failed", "processing"):
            return "skipped"
        ev.state = "processing"
        ev.attempts += 1
        payload, tenant_id = dict(ev.payload), ev.tenant_id
    topic = str(payload.get("_topic") or "")
    try:
        outcome = await _dispatch(maker, settings, tenant_id, topic, payload, event_id)
    except Exception as exc:
        async with maker() as session, session.begin():
            await session.execute(
                update(InboundEvent)
                .where(InboundEvent.id == event_id)
                .values(state="pending", error=type(exc).__name__)
            )
        log.warning("tiendanube.event_failed", topic=topic, error=type(exc).__name__)
        raise
    async with maker() as session, session.begin():
        values: dict[str, Any] = {"state": "done", "processed_at": func.now(), "error": None}
        if topic in PRIVACY_TOPICS:
            # The request itself names the customer: keep only what proves it was handled.
            values["payload"] = {"store_id": payload.get("store_id"), "_topic": topic, "redacted": True}
        await session.execute(update(InboundEvent).where(InboundEvent.id == event_id).values(**values))
    return outcome


async def _dispatch(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tenant_id: uuid.UUID | None,
    topic: str,
    payload: dict[str, Any],
    event_id: uuid.UUID,
) -> str:
    if tenant_id is None:
        return "ignored"
    if topic.startswith("product/"):
        rid = payload.get("id")
        if not isinstance(rid, int):
            return "ignored"
        return await catalog.refresh_product(maker, settings, tenant_id, rid)
    if topic.startswith("order/"):
        await orders.invalidate_tenant_cache(tenant_id)
        oid = payload.get("id")
        if not isinstance(oid, int):
            return "orders_cache_invalidated"
        return await order_events.dispatch(order_events.OrderEvent(maker, settings, tenant_id, topic, oid))
    if topic == "app/uninstalled":
        async with maker() as session, session.begin():
            await uninstall(session, tenant_id)
        return "uninstalled"
    if topic == "store/redact":
        async with maker() as session, session.begin():
            await privacy.redact_store(session, tenant_id, keep_event=event_id)
        return "store_redacted"
    if topic == "customers/redact":
        async with maker() as session, session.begin():
            await privacy.redact_customer(session, tenant_id, payload)
        return "customer_redacted"
    if topic == "customers/data_request":
        async with maker() as session, session.begin():
            await privacy.export_customer(session, settings, tenant_id, payload)
        return "customer_exported"
    return "ignored"


async def uninstall(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """The app was removed from the store: stop serving it and forget its token."""
    await session.execute(update(Tenant).where(Tenant.id == tenant_id).values(status="disabled"))
    res = await session.execute(
        delete(Credential).where(Credential.tenant_id == tenant_id, Credential.kind == catalog.TOKEN_KIND)
    )
    await audit.record(
        session,
        actor="tiendanube",
        action="tiendanube.uninstalled",
        tenant_id=tenant_id,
        payload={"token_wiped": bool(rowcount(res))},
    )


def parse_body(body: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None
