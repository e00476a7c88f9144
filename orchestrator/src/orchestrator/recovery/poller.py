"""Read a store's abandoned checkouts into `abandoned_checkouts` (idempotent upserts)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..integrations.tiendanube import catalog
from ..integrations.tiendanube.client import service_client
from ..integrations.tiendanube.mapping import money, parse_ts
from ..models import AbandonedCheckout, CheckoutPoll, Tenant
from ..notifications import settings as notification_settings
from ..phones import to_e164
from ..runtime import Runtime

log = structlog.get_logger("orchestrator.recovery.poller")

LATE = timedelta(hours=6)  # a checkout can appear this long after it was abandoned
FIRST_LOOKBACK = timedelta(days=2)
MAX_PAGES = 500  # 100,000 checkouts: far beyond any real store's 30-day list


@dataclass
class PollResult:
    requests: int
    seen: int
    new: int


def abandoned_at(raw: dict[str, Any]) -> datetime | None:
    when = parse_ts(raw.get("updated_at")) or parse_ts(raw.get("created_at"))
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def row_values(raw: dict[str, Any], region: str, delay: timedelta) -> dict[str, Any] | None:
    cid = raw.get("id")
    when = abandoned_at(raw)
    if not isinstance(cid, int) or when is None:
        return None
    phone = None
    for p in (raw.get("contact_phone"), raw.get("billing_phone"), raw.get("shipping_phone")):
        if isinstance(p, str) and (phone := to_e164(p, region)):
            break
    email = raw.get("contact_email")
    lang = raw.get("language")
    url = raw.get("abandoned_checkout_url")
    return {
        "checkout_id": cid,
        "token": str(raw.get("token") or "")[:128] or None,
        "url": url if isinstance(url, str) and url.startswith("https://") else None,
        "contact_name": str(raw.get("contact_name") or "")[:200] or None,
        "contact_email": email.strip().lower()[:320] if isinstance(email, str) and "@" in email else None,
        "contact_phone": phone,
        "language": lang[:10] if isinstance(lang, str) else None,
        "total": money(raw.get("total")),
        "currency": str(raw.get("currency") or "")[:3] or None,
        "abandoned_at": when,
        "due_at": when + delay,
    }


async def _store_page(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    raws: list[dict[str, Any]],
    region: str,
    delay: timedelta,
    oldest: datetime,
) -> tuple[int, int]:
    fresh: list[dict[str, Any]] = []
    completed: list[int] = []
    for raw in raws:
        if not isinstance(raw, dict):
            continue
        if raw.get("completed_at"):
            if isinstance(raw.get("id"), int):
                completed.append(raw["id"])
            continue
        values = row_values(raw, region, delay)
        if values is None or values["abandoned_at"] < oldest:
            continue  # too old to recover politely (or unreadable)
        fresh.append({"tenant_id": tenant_id, **values})
    new = 0
    if fresh:
        inserted = await session.execute(
            insert(AbandonedCheckout)
            .on_conflict_do_nothing(index_elements=["tenant_id", "checkout_id"])
            .returning(AbandonedCheckout.id),
            fresh,
        )
        new = len(inserted.all())
    if completed:
        await session.execute(
            update(AbandonedCheckout)
            .where(
                AbandonedCheckout.tenant_id == tenant_id,
                AbandonedCheckout.checkout_id.in_(completed),
                AbandonedCheckout.state == "pending",
            )
            .values(state="skipped", reason="ordered")
        )
    return len(fresh), new


async def poll_store(rt: Runtime, tenant_id: uuid.UUID) -> PollResult:
    """One pass over the store's checkouts since the last pass (minus the 6-hour lateness). Its
    job then sends the first batch of what is due (`tasks.poll_store`)."""
    started = datetime.now(UTC)
    async with rt.sessionmaker() as session:
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            return PollResult(0, 0, 0)
        conf = notification_settings.of(tenant).cart_recovery
        access = await catalog.store_access(session, rt.settings.crypto, tenant_id)
        poll = await session.get(CheckoutPoll, tenant_id)
        region = str(((tenant.settings or {}).get("tiendanube") or {}).get("country") or "AR")
    if not conf.enabled or access is None:
        return PollResult(0, 0, 0)
    delay = timedelta(minutes=conf.delay_minutes)
    since = (poll.seen_until if poll is not None and poll.seen_until else started - FIRST_LOOKBACK) - LATE
    # Checkouts older than this are not recovered any more, even if the API lists them.
    oldest = started - max(FIRST_LOOKBACK, delay + LATE + timedelta(hours=1))
    requests = seen = new = 0
    page: int | None = 1
    async with service_client(rt.settings, background=True) as client:
        while page and page <= MAX_PAGES:
            body = await client.checkouts_page(
                access.store_id, access.token, page, created_at_min=since.strftime("%Y-%m-%dT%H:%M:%S+00:00")
            )
            requests += 1
            async with rt.sessionmaker() as session, session.begin():
                n, added = await _store_page(
                    session, tenant_id, list(body.get("items") or []), region, delay, oldest
                )
            seen += n
            new += added
            page = body.get("next_page")
    async with rt.sessionmaker() as session, session.begin():
        await session.execute(
            insert(CheckoutPoll)
            .values(
                tenant_id=tenant_id,
                last_started_at=started,
                last_finished_at=datetime.now(UTC),
                seen_until=started,
                requests=requests,
            )
            .on_conflict_do_update(
                index_elements=["tenant_id"],
                set_={
                    "last_finished_at": datetime.now(UTC),
                    "seen_until": started,
                    "requests": CheckoutPoll.requests + requests,
                    "last_error": None,
                    "updated_at": datetime.now(UTC),
                },
            )
        )
    log.info("recovery.polled", tenant_id=str(tenant_id), requests=requests, seen=seen, new=new)
    return PollResult(requests, seen, new)
