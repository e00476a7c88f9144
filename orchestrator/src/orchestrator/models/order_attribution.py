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
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, in_check, tenant_fk, updated_at, uuid_pk
from .checkout import SALE_SOURCES

# campaign_coupon: the order used a campaign's coupon; campaign_window: the customer got a
# campaign message in the 7 days before the order (issue 13).
MATCHED_BY = ("draft_order", "coupon", "customer_window", "campaign_coupon", "campaign_window")


class OrderAttribution(Base):
    """A Tienda Nube order linked to the conversation that produced it (last touch wins)."""

    __tablename__ = "order_attributions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_id"),
        CheckConstraint(in_check("source", SALE_SOURCES), name="source"),
        CheckConstraint(in_check("matched_by", MATCHED_BY), name="matched_by"),
        Index(None, "tenant_id", "ordered_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    order_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    order_number: Mapped[str | None] = mapped_column(String(20))
    # Null only for a campaign's order with no conversation (its coupon used by someone else).
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("chat_conversations.id", ondelete="CASCADE"),
        index=True,
    )
    # The campaign credited with the order (source `campaign`).
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    source: Mapped[str] = mapped_column(String(10), nullable=False)
    matched_by: Mapped[str] = mapped_column(String(20), nullable=False)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), nullable=False)
    currency: Mapped[str | None] = mapped_column(String(3))
    payment_status: Mapped[str | None] = mapped_column(String(30))
    ordered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
