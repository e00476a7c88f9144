"""Campaigns: a template broadcast to an audience; one row per recipient, each with a state.

The recipients table is the campaign's outbox. A recipient moves `pending → sending` (committed)
before its send and is sent only by the replica that claimed it; the send names the row
(`callback_data` = `cr:<id>`, echoed by Meta in every status webhook), so a send whose answer was
lost is recognised when its status arrives, and a row left in `sending` past the grace period with
no provider id goes back to `pending`. A state never moves backwards (sent < delivered < read).
"""

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

from .base import Base, created_at, in_check, tenant_fk, updated_at, uuid_pk

CAMPAIGN_STATUSES = ("draft", "scheduled", "running", "paused", "done", "cancelled")
RECIPIENT_STATES = (
    "pending",
    "sending",
    "sent",
    "delivered",
    "read",
    "failed",
    "skipped",
    "opted_out",
    "cancelled",
)


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(in_check("status", CAMPAIGN_STATUSES), name="status"),
        Index(None, "tenant_id", "created_at"),
        # The supervisor's scan: what is running or due.
        Index(
            "ix_campaigns_active",
            "status",
            "schedule_at",
            postgresql_where=text("status IN ('scheduled', 'running')"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    channel_account_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("channel_accounts.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    template: Mapped[str] = mapped_column(String(512), nullable=False)
    language: Mapped[str] = mapped_column(String(15), nullable=False)
    audience: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict, server_default="{}")
    variables: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list, server_default="[]")
    coupon: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="draft", server_default="draft")
    schedule_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_reason: Mapped[str | None] = mapped_column(String(200))
    # What start announced: audience size, daily limit left, days the sends are spread over.
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class CampaignRecipient(Base):
    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id"),
        CheckConstraint(in_check("state", RECIPIENT_STATES), name="state"),
        # Next to send, per campaign.
        Index(
            "ix_campaign_recipients_due",
            "campaign_id",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
        ),
        # In flight (the sweeper).
        Index("ix_campaign_recipients_sending", "claimed_at", postgresql_where=text("state = 'sending'")),
        # The rolling 24-hour unique-user count and the pair rate, per store.
        Index(None, "tenant_id", "sent_at"),
        Index(None, "tenant_id", "customer_id", "sent_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    wa_id: Mapped[str] = mapped_column(String(32), nullable=False)
    state: Mapped[str] = mapped_column(
        String(12), nullable=False, default="pending", server_default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    pair_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Handed to whatsapp_service (committed before the request): a `sending` row without it was
    # never sent, and a sender taking over from a dead one requeues it at once.
    handed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    error_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class CustomerTag(Base):
    """A label staff put on a customer (or a CSV import did); audiences filter by it."""

    __tablename__ = "customer_tags"
    __table_args__ = (
        UniqueConstraint("tenant_id", "customer_id", "tag"),
        Index(None, "tenant_id", "tag"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    customer_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
    )
    tag: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = created_at()
