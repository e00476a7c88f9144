"""Counts for the dashboard cards: notifications sent/delivered/read, checkouts recovered."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import ChatMessage, ProactiveMessage

SENT = ("sent", "delivered", "read")
DELIVERED = ("delivered", "read")


async def summary(
    session: AsyncSession, tenant_id: uuid.UUID, start: datetime, end: datetime
) -> dict[str, Any]:
    status = ChatMessage.status
    rows = (
        await session.execute(
            select(
                ProactiveMessage.kind,
                func.count().filter(ProactiveMessage.state == "queued").label("queued"),
                func.count().filter(ProactiveMessage.state == "skipped").label("skipped"),
                func.count().filter(status.in_(SENT)).label("sent"),
                func.count().filter(status.in_(DELIVERED)).label("delivered"),
                func.count().filter(status == "read").label("read"),
                func.count().filter(status == "failed").label("failed"),
                func.count(ProactiveMessage.recovered_order_id).label("recovered"),
            )
            .outerjoin(ChatMessage, ChatMessage.id == ProactiveMessage.message_id)
            .where(
                ProactiveMessage.tenant_id == tenant_id,
                ProactiveMessage.created_at >= start,
                ProactiveMessage.created_at < end,
            )
            .group_by(ProactiveMessage.kind)
        )
    ).all()
    by_kind = {
        r.kind: {k: int(getattr(r, k)) for k in ("queued", "skipped", "sent", "delivered", "read", "failed")}
        for r in rows
    }
    totals = {
        k: sum(v[k] for v in by_kind.values()) for k in ("sent", "delivered", "read", "failed", "skipped")
    }
    revenue_rows = (
        await session.execute(
            select(ProactiveMessage.currency, func.coalesce(func.sum(ProactiveMessage.recovered_amount), 0))
            .where(
                ProactiveMessage.tenant_id == tenant_id,
                ProactiveMessage.kind == "cart_recovery",
                ProactiveMessage.recovered_order_id.is_not(None),
                ProactiveMessage.created_at >= start,
                ProactiveMessage.created_at < end,
            )
            .group_by(ProactiveMessage.currency)
        )
    ).all()
    recovery = by_kind.get("cart_recovery", {})
    recovered = next((int(r.recovered) for r in rows if r.kind == "cart_recovery"), 0)
    return {
        "notifications": {**totals, "by_kind": by_kind},
        "recovery": {
            "sent": recovery.get("sent", 0),
            "recovered": recovered,
            "revenue": {str(cur or ""): str(Decimal(str(total))) for cur, total in revenue_rows},
        },
    }
