"""Rollups the analytics overview reads instead of scanning millions of messages.

Maintained by statement-level triggers (migration 0006) in the same transaction as the rows they
count, so they always equal a brute-force count over the base tables. Hours are UTC; the overview
groups them into days of the tenant's time zone.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


def _tenant_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)


def _counter() -> Mapped[int]:
    return mapped_column(Integer, nullable=False, default=0, server_default="0")


class AnalyticsHourly(Base):
    __tablename__ = "analytics_hourly"

    tenant_id: Mapped[uuid.UUID] = _tenant_pk()
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    conversations: Mapped[int] = _counter()
    messages_in: Mapped[int] = _counter()
    messages_out: Mapped[int] = _counter()
    out_ai: Mapped[int] = _counter()
    out_human: Mapped[int] = _counter()
    agent_runs: Mapped[int] = _counter()
    fallback_runs: Mapped[int] = _counter()


class AnalyticsTerm(Base):
    """Counted strings per hour: `search` (product-search queries the agent ran) and `unanswered`
    (customer messages whose AI turn fell back, failed or handed off)."""

    __tablename__ = "analytics_terms"
    __table_args__ = (Index(None, "hour"),)  # retention pruning

    tenant_id: Mapped[uuid.UUID] = _tenant_pk()
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    term: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = _counter()


class ConversationResponseTime(Base):
    """First customer message and first reply (AI or human) after it, per conversation."""

    __tablename__ = "conversation_response_times"
    __table_args__ = (Index(None, "tenant_id", "first_inbound_at"),)

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chat_conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
    )
    first_inbound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
