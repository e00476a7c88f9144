"""Conversation state changes, whoever makes them (staff, the AI's hand-off, the pause timeout):
pause, resume, human reply, and queueing an outbound message for the sender.

An outbound message is a `chat_messages` row (direction outbound, status `queued`) written in
the caller's transaction; `enqueue_send` defers the conversation's send job in that same
transaction, so the row and the job that sends it commit together (one pending send job per
conversation; it sends every queued row of the conversation in order).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from nexus_common.errors import Conflict, NotFound
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..audit import service as audit
from ..events.publisher import publish
from ..jobs import defer, names
from ..models import ChatConversation, ChatMessage, Handoff
from .events import conversation_data, message_data


async def get_conversation(
    session: AsyncSession, tenant_id: uuid.UUID, conversation_id: uuid.UUID, *, lock: bool = False
) -> ChatConversation:
    """The tenant's conversation, or 404 (also when it belongs to another tenant)."""
    q = select(ChatConversation).where(
        ChatConversation.id == conversation_id, ChatConversation.tenant_id == tenant_id
    )
    if lock:
        q = q.with_for_update()
    conv = await session.scalar(q)
    if conv is None:
        raise NotFound("conversation not found")
    return conv


async def pause(
    session: AsyncSession,
    conv: ChatConversation,
    *,
    actor: str,
    reason: str,
    source: str = "staff",
) -> Handoff | None:
    """Stop the AI on this conversation (status `pending_human`); who and when are recorded.

    Pausing a paused conversation changes nothing and returns None.
    """
    if conv.ai_paused:
        return None
    now = datetime.now(UTC)
    conv.ai_paused = True
    conv.status = "pending_human"
    conv.paused_by = actor[:100]
    conv.paused_at = now
    conv.handoff_reason = reason[:200]
    handoff = Handoff(
        tenant_id=conv.tenant_id,
        conversation_id=conv.id,
        source=source,
        reason=reason[:200],
        actor=actor[:120],
    )
    session.add(handoff)
    await session.flush()
    await publish(session, conv.tenant_id, "conversation.updated", conversation_data(conv))
    await publish(
        session,
        conv.tenant_id,
        "handoff",
        {"conversation_id": str(conv.id), "reason": reason, "by": actor, "source": source},
    )
    await audit.record(
        session,
        actor=actor,
        action="conversation.paused",
        tenant_id=conv.tenant_id,
        target_type="conversation",
        target_id=str(conv.id),
        conversation_id=conv.id,
        payload={"reason": reason, "source": source},
    )
    return handoff


async def resume(session: AsyncSession, conv: ChatConversation, *, actor: str, why: str = "staff") -> bool:
    """Give the conversation back to the AI. False when it was not paused."""
    if not conv.ai_paused and conv.status != "pending_human":
        return False
    conv.ai_paused = False
    conv.status = "open"
    conv.paused_by = None
    conv.paused_at = None
    conv.handoff_reason = None
    await session.flush()
    await publish(session, conv.tenant_id, "conversation.updated", conversation_data(conv))
    await audit.record(
        session,
        actor=actor,
        action="conversation.resumed",
        tenant_id=conv.tenant_id,
        target_type="conversation",
        target_id=str(conv.id),
        conversation_id=conv.id,
        payload={"why": why},
    )
    return True


async def human_reply(
    session: AsyncSession,
    conv: ChatConversation,
    *,
    actor: str,
    user_id: uuid.UUID | None,
    text: str,
) -> ChatMessage:
    """A staff member answers: the AI is paused first (never talk over a person), then the reply
    is written to the outbox as `human`/`queued` and handed to the sender."""
    if conv.status == "resolved":
        raise Conflict("this conversation is resolved")
    await pause(session, conv, actor=actor, reason="human_reply")
    msg = await queue_outbound(session, conv, sender="human", text=text, user_id=user_id)
    await audit.record(
        session,
        actor=actor,
        action="conversation.human_reply",
        tenant_id=conv.tenant_id,
        target_type="message",
        target_id=str(msg.id),
        conversation_id=conv.id,
        payload={"length": len(text)},
    )
    return msg


async def queue_outbound(
    session: AsyncSession,
    conv: ChatConversation,
    *,
    sender: str,
    text: str,
    type_: str = "text",
    payload: dict[str, Any] | None = None,
    user_id: uuid.UUID | None = None,
) -> ChatMessage:
    """Write an outbound message (`queued`), publish it and hand it to the sender, all in the
    caller's transaction. `payload` carries what an interactive message offers (buttons, list
    rows, a call-to-action URL)."""
    msg = ChatMessage(
        id=uuid.uuid4(),
        tenant_id=conv.tenant_id,
        conversation_id=conv.id,
        channel=conv.channel,
        direction="outbound",
        sender=sender,
        type=type_,
        text=text,
        payload=payload,
        status="queued",
        sent_by_user_id=user_id,
    )
    session.add(msg)
    await session.flush()
    await session.refresh(msg, ["created_at"])
    conv.last_message_at = msg.created_at
    await session.flush()
    await publish(session, conv.tenant_id, "message.created", message_data(msg))
    await enqueue_send(session, msg.conversation_id)
    return msg


async def enqueue_send(
    session: AsyncSession, conversation_id: uuid.UUID, *, trace: dict[str, float] | None = None
) -> None:
    """Hand the conversation's queued outbound rows to the sender (in the caller's transaction).
    `trace`: the reply's hop timings so far (pipeline/trace.py), carried in the job's arguments."""
    args: dict[str, object] = {"conversation_id": str(conversation_id)}
    if trace:
        args["trace"] = trace
    await defer(session, names.SEND, args, **names.send_locks(conversation_id))
