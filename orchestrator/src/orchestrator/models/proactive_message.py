"""The ledger of messages Nexus sends first (order updates, cart recovery; campaigns later).

`(tenant_id, dedupe_key)` is unique and the row is inserted in the same transaction as its outbox
message: an order event or a checkout gets at most one message, however often its webhook or
poll repeats and whichever worker crashes where.
"""

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

from .base import Base, created_at, in_check, tenant_fk, uuid_pk

PROACTIVE_KINDS = (
    "order_paid",
    "order_packed",
    "order_fulfilled",
    "order_cancelled",
    "cart_recovery",
    "campaign",
)
# queued: an outbox message exists (its own status says sent/delivered/read/failed);
# skipped: nothing was sent, `reason` says why (opted_out, disabled, no_template, ordered, ...).
PROACTIVE_STATES = ("queued", "skipped")


class ProactiveMessage(Base):
    __tablename__ = "proactive_messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        CheckConstraint(in_check("kind", PROACTIVE_KINDS), name="kind"),
        CheckConstraint(in_check("state", PROACTIVE_STATES), name="state"),
        Index(None, "tenant_id", "kind", "created_at"),
        Index(None, "tenant_id", "customer_id", "kind", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(200), nullable=False)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chat_messages.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[str | None] = mapped_column(String(64))  # Tienda Nube order / checkout id
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    # Cart recovery: the order the same customer placed within 7 days of the message.
    recovered_order_id: Mapped[int | None] = mapped_column(BigInteger)
    recovered_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    recovered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
