"""The hand-off point from anything that writes an outbound message to the pipeline's sender.

Callers write the `chat_messages` row (direction outbound, status `queued`) in their transaction
and then call `enqueue_send`. The sender itself belongs to the message pipeline; until it is
merged this marks the row due now, which is what the outbox sweep (`ix_chat_messages_outbox`:
queued rows by `next_attempt_at`) picks up.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import ChatMessage


async def enqueue_send(session: AsyncSession, message_id: uuid.UUID) -> None:
    await session.execute(
        update(ChatMessage)
        .where(ChatMessage.id == message_id, ChatMessage.status == "queued")
        .values(next_attempt_at=func.now())
    )
