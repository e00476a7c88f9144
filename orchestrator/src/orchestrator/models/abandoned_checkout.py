"""Abandoned checkouts seen by the poller (Tienda Nube has no webhook for them) and each store's
poll state. A checkout is recovered at most once: its row moves `pending → sent|skipped` in the
transaction that writes the recovery message (and its ledger row)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, in_check, tenant_fk, updated_at, uuid_pk

CHECKOUT_STATES = ("pending", "sent", "skipped")


class AbandonedCheckout(Base):
    __tablename__ = "abandoned_checkouts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "checkout_id"),
        CheckConstraint(in_check("state", CHECKOUT_STATES), name="state"),
        Index("ix_abandoned_checkouts_due", "due_at", postgresql_where=text("state = 'pending'")),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    checkout_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    token: Mapped[str | None] = mapped_column(String(128))
    url: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    language: Mapped[str | None] = mapped_column(String(10))
    total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    abandoned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    state: Mapped[str] = mapped_column(
        String(10), nullable=False, default="pending", server_default="pending"
    )
    reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class CheckoutPoll(Base):
    __tablename__ = "checkout_polls"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    last_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The creation time up to which every checkout has been seen (the next poll looks back from
    # here, minus Tienda Nube's 6-hour lateness).
    seen_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requests: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = updated_at()
