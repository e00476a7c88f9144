from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, in_check, uuid_pk

LEVELS = ("debug", "info", "warning", "error")


class AuditLog(Base):
    """Audit and event log. `payload` is sanitized before it is written (never a secret)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(in_check("level", LEVELS), name="level"),
        # Cursor pagination: newest first, ties broken by id.
        Index(None, "tenant_id", "created_at", "id"),
        Index(None, "tenant_id", "action", "created_at"),
        Index(None, "conversation_id"),
        Index(None, "created_at"),  # retention pruning
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE")
    )
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    action: Mapped[str] = mapped_column(String(80), nullable=False)
    level: Mapped[str] = mapped_column(String(10), nullable=False, default="info", server_default="info")
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(80))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    request_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict, server_default="{}")
    created_at: Mapped[datetime] = created_at()
