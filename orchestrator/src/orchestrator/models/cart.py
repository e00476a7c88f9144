from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, tenant_fk, updated_at, uuid_pk


class Cart(Base):
    """A conversation's cart: `items` is `[{variant_id, product_id, quantity}]` (Tienda Nube ids).
    Names and prices are never stored here: they are read from the catalog when shown and live from
    Tienda Nube when the checkout is made."""

    __tablename__ = "carts"
    __table_args__ = (UniqueConstraint("tenant_id", "conversation_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chat_conversations.id", ondelete="CASCADE"), nullable=False
    )
    items: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, default=list, server_default="[]"
    )
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
