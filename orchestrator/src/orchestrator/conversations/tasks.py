"""Conversation jobs: conversation e-mails (handoff, transcript) and the pause timeout."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .. import runtime
from ..events.publisher import announce
from ..jobs import names, task
from ..models import ChatConversation
from . import handoff, service

log = structlog.get_logger("orchestrator.conversations")


@task(names.SEND_CONVERSATION_MAIL, queue="default")
async def send_conversation_mail(conversation_id: str, kind: str, to: list[str], reason: str | None) -> None:
    rt = runtime.current()
    async with rt.sessionmaker() as session, session.begin():
        await handoff.send_conversation_mail(
            session, rt.settings, uuid.UUID(conversation_id), kind, to, reason
        )


# A paused conversation returns to the AI when the tenant set `handoff_timeout_minutes` and no
# human has written in it for that long (counted from the pause or the last human reply).
_EXPIRED = text(
    """
    SELECT c.id FROM chat_conversations c JOIN tenants t ON t.id = c.tenant_id
    WHERE c.ai_paused AND c.status = 'pending_human'
      AND jsonb_typeof(t.settings->'handoff_timeout_minutes') = 'number'
      AND greatest(c.paused_at, (SELECT max(m.created_at) FROM chat_messages m
                                 WHERE m.conversation_id = c.id AND m.sender = 'human'))
          < now() - make_interval(mins => (t.settings->>'handoff_timeout_minutes')::int)
    ORDER BY c.paused_at LIMIT 500
    FOR UPDATE OF c SKIP LOCKED
    """
)


async def resume_expired(session: AsyncSession) -> list[uuid.UUID]:
    ids = list((await session.scalars(_EXPIRED)).all())
    for cid in ids:
        conv = await session.get(ChatConversation, cid)
        if conv is not None:
            await service.resume(session, conv, actor="system:handoff_timeout", why="timeout")
    return ids


@task(
    names.RESUME_EXPIRED_PAUSES,
    queue="default",
    queueing_lock="resume_expired_pauses",
    cron="* * * * *",
    periodic_id="resume_expired_pauses",
)
async def resume_expired_pauses(timestamp: int) -> None:
    rt = runtime.current()
    async with rt.sessionmaker() as session:
        async with session.begin():
            ids = await resume_expired(session)
        await announce(session, rt.redis)
    if ids:
        log.info("staff.pauses_expired", count=len(ids))
