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
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, in_check, uuid_pk

EVENT_SOURCES = ("whatsapp", "meta", "tiendanube")
EVENT_STATES = ("pending", "processing", "done", "failed", "ignored")


class InboundEvent(Base):
    """A raw webhook body, stored before it is acknowledged. `body_sha256` makes an identical
    redelivery a no-op."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("source", "body_sha256"),
        CheckConstraint(in_check("source", EVENT_SOURCES), name="source"),
        CheckConstraint(in_check("state", EVENT_STATES), name="state"),
        Index(None, "state", "received_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    body_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    state: Mapped[str] = mapped_column(
        String(12), nullable=False, default="pending", server_default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
