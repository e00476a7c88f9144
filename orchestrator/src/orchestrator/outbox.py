"""The hand-off point from anything that writes an outbound message to the pipeline's sender.

Callers write the `chat_messages` row (direction outbound, status `queued`) in their transaction
and then call `enqueue_send`: the conversation's send job is deferred in that same transaction,
so the row and the job that sends it commit together (one pending send job per conversation;
it sends every queued row of the conversation in order).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import ChatMessage
from .pipeline.queue import defer


async def enqueue_send(session: AsyncSession, message_id: uuid.UUID) -> None:
    from .pipeline.turn import SEND_TASK, send_locks  # the pipeline imports the staff side too

    conversation_id = await session.scalar(
        select(ChatMessage.conversation_id).where(ChatMessage.id == message_id)
    )
    if conversation_id is None:
        raise LookupError(f"outbound message {message_id} not found")
    await defer(session, SEND_TASK, {"conversation_id": str(conversation_id)}, **send_locks(conversation_id))
