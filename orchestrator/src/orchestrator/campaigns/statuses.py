"""Delivery statuses of campaign messages (WhatsApp echoes `cr:<recipient id>` in each one).

Applied in bulk (Meta batches statuses; a campaign makes thousands a minute), monotonically: a
recipient moves only forward (sending < sent < delivered < read; failed is final). A `sent` for a
row still `sending`/`pending` is how a send whose answer was lost (crash, timeout) is recognised:
the row is settled as sent and is never sent again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..pipeline.parsing import StatusUpdate

PREFIX = "cr:"

# state → the states it may move on from
BEFORE = {
    "sent": ("pending", "sending"),
    "delivered": ("pending", "sending", "sent"),
    "read": ("pending", "sending", "sent", "delivered"),
    "failed": ("pending", "sending", "sent", "delivered"),
}

_APPLY = text(
    """
    UPDATE campaign_recipients r SET
        state = CASE WHEN r.state = ANY(CAST(:before AS text[])) THEN :state ELSE r.state END,
        provider_message_id = coalesce(r.provider_message_id, v.pid),
        sent_at = CASE WHEN :state <> 'failed' THEN coalesce(r.sent_at, v.at) ELSE r.sent_at END,
        delivered_at = CASE WHEN :state IN ('delivered', 'read') THEN coalesce(r.delivered_at, v.at)
                       ELSE r.delivered_at END,
        read_at = CASE WHEN :state = 'read' THEN coalesce(r.read_at, v.at) ELSE r.read_at END,
        error_code = CASE WHEN :state = 'failed' AND r.state = ANY(CAST(:before AS text[])) THEN v.code
                     ELSE r.error_code END,
        next_attempt_at = NULL,
        updated_at = now()
    FROM unnest(CAST(:ids AS uuid[]), CAST(:pids AS text[]), CAST(:ats AS timestamptz[]),
                CAST(:codes AS text[])) AS v(id, pid, at, code)
    WHERE r.id = v.id AND r.tenant_id = :tenant
    RETURNING r.campaign_id
    """
)


def is_campaign(st: StatusUpdate) -> bool:
    return bool(st.callback_data and st.callback_data.startswith(PREFIX))


def recipient_id(st: StatusUpdate) -> uuid.UUID | None:
    try:
        return uuid.UUID((st.callback_data or "")[len(PREFIX) :])
    except ValueError:
        return None


async def apply(session: AsyncSession, tenant_id: uuid.UUID, statuses: list[StatusUpdate]) -> set[uuid.UUID]:
    """Apply campaign statuses; returns the campaigns touched."""
    by_state: dict[str, list[tuple[uuid.UUID, str, datetime, str | None]]] = {}
    now = datetime.now(UTC)
    for st in statuses:
        rid = recipient_id(st)
        if rid is None or st.status not in BEFORE:
            continue
        code = (st.error_code or "unknown")[:32] if st.status == "failed" else None
        by_state.setdefault(st.status, []).append(
            (rid, st.provider_message_id[:128], st.timestamp or now, code)
        )
    touched: set[uuid.UUID] = set()
    # In rank order, so a batch holding sent + delivered + read of one message ends at read.
    for state in ("sent", "delivered", "read", "failed"):
        rows = by_state.get(state)
        if not rows:
            continue
        params: dict[str, Any] = {
            "state": state,
            "before": list(BEFORE[state]),
            "ids": [r[0] for r in rows],
            "pids": [r[1] for r in rows],
            "ats": [r[2] for r in rows],
            "codes": [r[3] for r in rows],
            "tenant": tenant_id,
        }
        touched.update((await session.execute(_APPLY, params)).scalars().all())
    return touched
