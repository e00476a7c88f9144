from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, in_check, updated_at, uuid_pk

TENANT_STATUSES = ("active", "disabled")


class Tenant(Base):
    """A store. `settings` holds persona, language, business hours, handoff e-mails, synonyms."""

    __tablename__ = "tenants"
    __table_args__ = (CheckConstraint(in_check("status", TENANT_STATUSES), name="status"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active", server_default="active")
    # Set when the platform (super-admin) disabled the tenant: only the platform re-enables it; an
    # app reinstall (which re-enables a tenant the store itself uninstalled) leaves it disabled.
    platform_disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tiendanube_store_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict, server_default="{}")
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
