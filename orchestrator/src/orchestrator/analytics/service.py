"""The overview: a handful of indexed queries over hourly rollups (never a scan of messages).

Cache: Redis key `nexus:analytics:<tenant>:<from>:<to>` for ANALYTICS_CACHE_SECONDS (300); a
hit needs no database work beyond authentication. Changing the tenant's time zone clears its keys.
Any Redis error means the answer comes straight from Postgres.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger("orchestrator.analytics")

KEY_PREFIX = "nexus:analytics"
TOP_N = 10


def cache_key(tenant_id: uuid.UUID, start: date, end: date) -> str:
    return f"{KEY_PREFIX}:{tenant_id}:{start.isoformat()}:{end.isoformat()}"


def bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in the tenant's zone, as UTC instants."""
    lo = datetime.combine(start, time.min, tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC)
    return lo, hi


_DAYS = text(
    """
    SELECT (hour AT TIME ZONE :tz)::date AS day,
           sum(conversations)::int AS conversations, sum(messages_in)::int AS messages_in,
           sum(messages_out)::int AS messages_out, sum(out_ai)::int AS out_ai,
           sum(out_human)::int AS out_human, sum(agent_runs)::int AS agent_runs,
           sum(fallback_runs)::int AS fallback_runs
    FROM analytics_hourly WHERE tenant_id = :t AND hour >= :lo AND hour < :hi
    GROUP BY 1 ORDER BY 1
    """
)
_HANDOFF_DAYS = text(
    """
    SELECT (created_at AT TIME ZONE :tz)::date AS day, count(*)::int AS n
    FROM handoffs WHERE tenant_id = :t AND created_at >= :lo AND created_at < :hi GROUP BY 1
    """
)
_HANDOFF_TOTALS = text(
    """
    SELECT count(*)::int AS n, count(DISTINCT conversation_id)::int AS conversations
    FROM handoffs WHERE tenant_id = :t AND created_at >= :lo AND created_at < :hi
    """
)
_HANDOFF_REASONS = text(
    """
    SELECT reason, count(*)::int AS n FROM handoffs
    WHERE tenant_id = :t AND created_at >= :lo AND created_at < :hi
    GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT :top
    """
)
_MEDIAN_FRT = text(
    """
    SELECT percentile_cont(0.5)
           WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at - first_inbound_at))
    FROM conversation_response_times
    WHERE tenant_id = :t AND first_inbound_at >= :lo AND first_inbound_at < :hi
      AND first_response_at IS NOT NULL
    """
)
_TERMS = text(
    """
    SELECT term, sum(count)::int AS n FROM analytics_terms
    WHERE tenant_id = :t AND kind = :kind AND hour >= :lo AND hour < :hi
    GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT :top
    """
)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def compute(
    session: AsyncSession, tenant_id: uuid.UUID, start: date, end: date, tz_name: str
) -> dict[str, Any]:
    tz = ZoneInfo(tz_name)
    lo, hi = bounds(start, end, tz)
    p = {"t": tenant_id, "lo": lo, "hi": hi, "tz": tz_name, "top": TOP_N}
    days = {r.day: r._asdict() for r in (await session.execute(_DAYS, p)).all()}
    handoff_days = {r.day: r.n for r in (await session.execute(_HANDOFF_DAYS, p)).all()}
    ho = (await session.execute(_HANDOFF_TOTALS, p)).one()
    reasons = [{"reason": r.reason, "count": r.n} for r in (await session.execute(_HANDOFF_REASONS, p)).all()]
    median = (await session.execute(_MEDIAN_FRT, p)).scalar()
    searches = [
        {"query": r.term, "count": r.n}
        for r in (await session.execute(_TERMS, {**p, "kind": "search"})).all()
    ]
    unanswered = [
        {"question": r.term, "count": r.n}
        for r in (await session.execute(_TERMS, {**p, "kind": "unanswered"})).all()
    ]

    per_day = []
    keys = (
        "conversations",
        "messages_in",
        "messages_out",
        "out_ai",
        "out_human",
        "agent_runs",
        "fallback_runs",
    )
    totals = dict.fromkeys(keys, 0)
    d = start
    while d <= end:
        row = days.get(d, {})
        entry = {k: int(row.get(k) or 0) for k in keys}
        for k in keys:
            totals[k] += entry[k]
        per_day.append(
            {
                "date": d.isoformat(),
                "conversations": entry["conversations"],
                "messages_in": entry["messages_in"],
                "messages_out": entry["messages_out"],
                "answered_by_ai": entry["out_ai"],
                "answered_by_human": entry["out_human"],
                "handoffs": handoff_days.get(d, 0),
                "agent_runs": entry["agent_runs"],
                "fallback_runs": entry["fallback_runs"],
            }
        )
        d += timedelta(days=1)
    answered = totals["out_ai"] + totals["out_human"]
    return {
        "tenant_id": str(tenant_id),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "timezone": tz_name,
        "totals": {
            "conversations": totals["conversations"],
            "messages_in": totals["messages_in"],
            "messages_out": totals["messages_out"],
            "answered_by_ai": totals["out_ai"],
            "answered_by_human": totals["out_human"],
            "ai_share": _ratio(totals["out_ai"], answered),
            "human_share": _ratio(totals["out_human"], answered),
            "handoffs": ho.n,
            "handoff_conversations": ho.conversations,
            "handoff_rate": _ratio(ho.conversations, totals["conversations"]),
            "median_first_response_seconds": round(float(median), 3) if median is not None else None,
            "agent_runs": totals["agent_runs"],
            "fallback_runs": totals["fallback_runs"],
            "fallback_rate": _ratio(totals["fallback_runs"], totals["agent_runs"]),
        },
        "handoff_reasons": reasons,
        "top_searches": searches,
        "unanswered_questions": unanswered,
        "days": per_day,
    }


def encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


async def cached_get(redis: Redis | None, key: str) -> bytes | None:
    """The cached answer as the JSON bytes to send (no decode/re-encode on a hit)."""
    if redis is None:
        return None
    try:
        raw = await redis.get(key)
    except Exception as exc:  # noqa: BLE001 - Redis is only a cache
        log.warning("analytics.cache_unavailable", error=type(exc).__name__)
        return None
    return raw if isinstance(raw, bytes) else None


async def cached_put(redis: Redis | None, key: str, value: bytes, ttl: int) -> None:
    if redis is None:
        return
    try:
        await redis.set(key, value, ex=ttl)
    except Exception as exc:  # noqa: BLE001
        log.warning("analytics.cache_unavailable", error=type(exc).__name__)


async def clear_cache(redis: Redis | None, tenant_id: uuid.UUID) -> int:
    """Drop every cached overview of the tenant. Returns how many keys went."""
    if redis is None:
        return 0
    deleted = 0
    batch: list[Any] = []
    async for key in redis.scan_iter(match=f"{KEY_PREFIX}:{tenant_id}:*", count=500):
        batch.append(key)
        if len(batch) >= 500:
            deleted += await redis.unlink(*batch)
            batch = []
    if batch:
        deleted += await redis.unlink(*batch)
    return deleted
