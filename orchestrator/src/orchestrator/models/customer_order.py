"""The minimal facts of a customer's Tienda Nube order, kept for audiences (issue 13).

Nexus reads orders live from Tienda Nube; to build segments such as "bought product X" or "last
order before a date" without a store round trip per customer, each order webhook Nexus already
receives upserts one row here: who (the Nexus customer matched by phone or e-mail, if any), when,
the status and the products bought. No addresses, names or payment details are stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, tenant_fk, updated_at, uuid_pk


class CustomerOrder(Base):
    __tablename__ = "customer_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_id"),
        Index(None, "tenant_id", "customer_id", "ordered_at"),
        Index("ix_customer_orders_product_ids", "product_ids", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    order_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE")
    )
    status: Mapped[str | None] = mapped_column(String(30))
    payment_status: Mapped[str | None] = mapped_column(String(30))
    total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    # Tienda Nube product ids (products[].product_id) of the order's lines.
    product_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), nullable=False, default=list, server_default="{}"
    )
    ordered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
