from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, tenant_fk, updated_at, uuid_pk


class Customer(Base):
    """One person across channels. `phone_number` (E.164) is null for Instagram/Messenger-only
    customers, who give none."""

    __tablename__ = "customers"
    __table_args__ = (
        Index(None, "tenant_id", "phone_number"),
        Index(None, "tenant_id", "email"),
        Index(None, "tenant_id", "tiendanube_customer_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    phone_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    locale: Mapped[str | None] = mapped_column(String(10))
    tiendanube_customer_id: Mapped[int | None] = mapped_column(BigInteger)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
