from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, in_check, tenant_fk, uuid_pk

HANDOFF_SOURCES = ("staff", "ai", "admin")


class Handoff(Base):
    """Each time a conversation went to humans: by staff (pause), by the AI, or by the admin gateway.
    Analytics count handoffs and reasons from here."""

    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint(in_check("source", HANDOFF_SOURCES), name="source"),
        Index(None, "tenant_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("chat_conversations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )
    source: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = created_at()
