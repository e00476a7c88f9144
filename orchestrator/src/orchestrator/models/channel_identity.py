from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import CHANNELS, Base, created_at, in_check, tenant_fk, uuid_pk


class ChannelIdentity(Base):
    """How a customer appears on one channel (WhatsApp wa_id, Instagram or Messenger id)."""

    __tablename__ = "channel_identities"
    __table_args__ = (
        UniqueConstraint("tenant_id", "channel", "external_id"),
        CheckConstraint(in_check("channel", CHANNELS), name="channel"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    customer_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    external_id: Mapped[str] = mapped_column(String(128), nullable=False)
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at()
