from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, in_check, tenant_fk, updated_at, uuid_pk

SYNC_STATES = ("pending", "running", "done", "failed")
SYNC_TRIGGERS = ("install", "admin", "nightly", "manual")


class CatalogSync(Base):
    """One full catalog sync ("productsall") and its progress.

    Each page's products and the cursor that follows them are committed together, so a sync
    killed half-way resumes at `next_page` with nothing counted twice. `started_at` (database
    clock) is the mark: products not touched since then were not listed; each is asked for at the
    end (a 404 deletes it: offset paging can skip a product that still exists).
    """

    __tablename__ = "catalog_syncs"
    __table_args__ = (
        CheckConstraint(in_check("state", SYNC_STATES), name="state"),
        CheckConstraint(in_check("trigger", SYNC_TRIGGERS), name="trigger"),
        # At most one live sync per store.
        Index(
            "uq_catalog_syncs_live",
            "tenant_id",
            unique=True,
            postgresql_where=text("state IN ('pending', 'running')"),
        ),
        Index(None, "state", "updated_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    trigger: Mapped[str] = mapped_column(String(20), nullable=False)
    state: Mapped[str] = mapped_column(
        String(12), nullable=False, default="pending", server_default="pending"
    )
    next_page: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    pages_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    total: Mapped[int | None] = mapped_column(Integer)
    deleted: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
