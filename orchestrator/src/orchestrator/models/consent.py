"""Marketing consent per customer and channel (opted_in / opted_out, its source and time).

Interim: issue 12 owns consent; this table stands in until its service lands, and every campaign
read of consent goes through `campaigns.reach` so the switch happens in one place.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, in_check, tenant_fk, uuid_pk

CONSENT_STATES = ("opted_in", "opted_out")


class CustomerConsent(Base):
    __tablename__ = "customer_consents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "customer_id", "channel"),
        CheckConstraint(in_check("state", CONSENT_STATES), name="state"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    customer_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False)
    source: Mapped[str] = mapped_column(String(40), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
