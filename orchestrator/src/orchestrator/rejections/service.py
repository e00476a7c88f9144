"""Count rejected webhooks per source, reason and minute.

An unauthenticated sender must not be able to write one row per request: a flood of forged
webhooks adds 1 to one counter row per (source, reason, minute), an upsert that takes no more
than a row lock. The log line says the same, without the body or any secret.
"""

from __future__ import annotations

import structlog
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..models import WebhookRejection

log = structlog.get_logger("orchestrator.rejections")


async def count(maker: async_sessionmaker[AsyncSession], source: str, reason: str) -> None:
    log.warning("webhook.rejected", source=source, reason=reason)
    minute = func.date_trunc("minute", func.now())
    stmt = insert(WebhookRejection).values(source=source[:20], reason=reason[:60], minute=minute, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[WebhookRejection.source, WebhookRejection.reason, WebhookRejection.minute],
        set_={"count": WebhookRejection.count + 1},
    )
    try:
        async with maker() as session, session.begin():
            await session.execute(stmt)
    except Exception as exc:  # noqa: BLE001 - the 401 stands even if counting fails
        log.warning("webhook.rejection_count_failed", error=type(exc).__name__)
