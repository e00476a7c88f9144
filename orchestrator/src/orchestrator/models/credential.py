from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, tenant_fk, updated_at, uuid_pk


class Credential(Base):
    """A third-party secret (WhatsApp access token, app secret, Tienda Nube token, LLM key...).

    Only Fernet ciphertext is stored. `scope` distinguishes several of one kind (e.g. the
    phone-number id a WhatsApp token belongs to); `hint` is the last 4 characters, for masked display.
    """

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "scope"), Index(None, "kind", "lookup_hash"))

    id: Mapped[uuid.UUID] = uuid_pk()
    tenant_id: Mapped[uuid.UUID] = tenant_fk()
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    scope: Mapped[str] = mapped_column(String(128), nullable=False, default="", server_default="")
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    hint: Mapped[str | None] = mapped_column(String(8))
    # Webhook verify tokens only: SHA-256 of the value, so the handshake finds its account
    # without decrypting every tenant's token (see pipeline/accounts.verify_token_matches).
    lookup_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()
