"""Marketing/utility consent of a customer on a channel: the current state and its history."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import CHANNELS, Base, created_at, in_check, tenant_fk, updated_at, uuid_pk

CONSENT_STATES = ("opted_in", "opted_out")
# checkout: Tienda Nube `accepts_marketing`; whatsapp: the customer's own keyword message;
# button: a quick-reply/opt-out button; staff: set by hand in the dashboard; import: a CSV import;
# meta: WhatsApp answered 131050 (the user stopped marketing messages).
CONSENT_SOURCES = ("checkout", "whatsapp", "button", "staff", "import", "meta")


class CustomerConsent(Base):
    """The current state (one row per customer and channel; no row = unknown)."""

    __tablename__ = "customer_consents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "customer_id", "channel"),
        CheckConstraint(in_check("state", CONSENT_STATES), name="state"),
        CheckConstraint(in_check("source", CONSENT_SOURCES), name="source"),
        CheckConstraint(in_check("channel", CHANNELS), name="channel"),
        Index(None, "tenant_id", "channel", "state"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    customer_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False)
    source: Mapped[str] = mapped_column(String(12), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class ConsentEvent(Base):
    """Every change, for the customer panel's history and as the record of consent."""

    __tablename__ = "consent_events"
    __table_args__ = (
        CheckConstraint(in_check("state", CONSENT_STATES), name="state"),
        CheckConstraint(in_check("source", CONSENT_SOURCES), name="source"),
        CheckConstraint(in_check("channel", CHANNELS), name="channel"),
        Index(None, "tenant_id", "customer_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    customer_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False)
    source: Mapped[str] = mapped_column(String(12), nullable=False)
    # The customer's own message that is the consent record (source whatsapp/button).
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chat_messages.id", ondelete="SET NULL")
    )
    actor: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at()
