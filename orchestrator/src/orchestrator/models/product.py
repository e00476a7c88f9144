from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, tenant_fk, updated_at, uuid_pk

# Spanish and Portuguese stems of the accent-folded text; the name weighs most.
# nexus_unaccent() is an IMMUTABLE wrapper of unaccent() created by the first migration
# (plain unaccent() is only STABLE, so Postgres refuses it in a generated column).
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('spanish'::regconfig, nexus_unaccent(coalesce(name_text, ''))), 'A') || "
    "setweight(to_tsvector('portuguese'::regconfig, nexus_unaccent(coalesce(name_text, ''))), 'A') || "
    "setweight(to_tsvector('spanish'::regconfig, nexus_unaccent(coalesce(search_text, ''))), 'B') || "
    "setweight(to_tsvector('portuguese'::regconfig, nexus_unaccent(coalesce(search_text, ''))), 'B')"
)


class Product(Base):
    """The tenant's mirror of its Tienda Nube catalog: what the agent and search need."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        # Single-column GIN indexes (migration 14_search_gin says why not tenant-scoped ones).
        Index("ix_products_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_products_skus", "skus", postgresql_using="gin"),
        Index(
            "ix_products_name_trgm",
            "name_text",
            postgresql_using="gin",
            postgresql_ops={"name_text": "gin_trgm_ops"},
        ),
        Index(None, "tenant_id", "published"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    external_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    handle: Mapped[str | None] = mapped_column(String(300))
    name: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict, server_default="{}")
    description: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, default=dict, server_default="{}"
    )
    name_text: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    categories: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, default=list, server_default="{}"
    )
    skus: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list, server_default="{}")
    variants: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, default=list, server_default="[]"
    )
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    promotional_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    # Sum over variants; null when any variant has unlimited stock.
    stock: Mapped[int | None] = mapped_column(Integer)
    image_url: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="true")
    search_vector: Mapped[Any] = mapped_column(TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True))
    source_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
