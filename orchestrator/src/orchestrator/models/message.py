from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import (
    CHANNELS,
    DIRECTIONS,
    MESSAGE_STATUSES,
    SENDERS,
    Base,
    created_at,
    in_check,
    tenant_fk,
    updated_at,
    uuid_pk,
)


class ChatMessage(Base):
    """A message in or out. Outbound rows are the outbox: written `queued` before any send.

    `provider_message_id` (wamid, mid) is unique per channel, so a redelivered webhook changes
    nothing."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_message_id"),
        CheckConstraint(in_check("direction", DIRECTIONS), name="direction"),
        CheckConstraint(in_check("sender", SENDERS), name="sender"),
        CheckConstraint(in_check("status", MESSAGE_STATUSES), name="status"),
        CheckConstraint(in_check("channel", CHANNELS), name="channel"),
        Index(None, "conversation_id", "created_at"),
        Index(None, "tenant_id", "created_at"),
        # The outbox: pending sends, oldest first.
        Index(
            "ix_chat_messages_outbox",
            "next_attempt_at",
            postgresql_where=text("direction = 'outbound' AND status IN ('queued', 'sending')"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chat_conversations.id", ondelete="CASCADE"), nullable=False
    )
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    direction: Mapped[str] = mapped_column(String(10), nullable=False)
    sender: Mapped[str] = mapped_column(String(10), nullable=False)
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(20), nullable=False, default="text", server_default="text")
    text: Mapped[str | None] = mapped_column(Text)
    media: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    agent_run_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("agent_runs.id", ondelete="SET NULL")
    )
    sent_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_timestamp: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
