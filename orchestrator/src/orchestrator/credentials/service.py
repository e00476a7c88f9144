"""Write-only third-party secrets: stored as Fernet ciphertext, shown masked, decrypted in memory."""

from __future__ import annotations

import hashlib
import uuid

from nexus_common.crypto import Crypto
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Credential

# Credentials found by their value (webhook verify tokens), through a SHA-256 of it.
LOOKUP_KINDS_SUFFIX = "_verify_token"


def lookup_digest(value: str) -> str:
    return hashlib.sha256(b"nexus-credential-lookup-v1:" + value.encode()).hexdigest()


def mask(hint: str | None) -> str:
    return f"••••{hint}" if hint else "••••"


async def put(
    session: AsyncSession, crypto: Crypto, tenant_id: uuid.UUID, kind: str, value: str, scope: str = ""
) -> None:
    """Create or replace a credential; the plaintext never leaves this function."""
    hint = value[-4:] if len(value) >= 12 else None
    stmt = insert(Credential).values(
        tenant_id=tenant_id,
        kind=kind,
        scope=scope,
        ciphertext=crypto.encrypt(value),
        hint=hint,
        lookup_hash=lookup_digest(value) if kind.endswith(LOOKUP_KINDS_SUFFIX) else None,
    )
    stmt = stmt.on_conflict_do_update(
        constraint="uq_credentials_tenant_id_kind_scope",
        set_={
            "ciphertext": stmt.excluded.ciphertext,
            "hint": stmt.excluded.hint,
            "lookup_hash": stmt.excluded.lookup_hash,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    await session.execute(stmt)


async def get(
    session: AsyncSession, crypto: Crypto, tenant_id: uuid.UUID, kind: str, scope: str = ""
) -> str | None:
    row = await session.scalar(
        select(Credential.ciphertext).where(
            Credential.tenant_id == tenant_id, Credential.kind == kind, Credential.scope == scope
        )
    )
    return None if row is None else crypto.decrypt(row)


async def rotate_all(session: AsyncSession, crypto: Crypto, batch: int = 500) -> int:
    """Re-encrypt every credential with the first key of ENCRYPTION_KEY. Returns how many changed.

    Runs in the caller's transaction, so a key that cannot open one credential changes none.
    """
    changed = 0
    last_id: uuid.UUID | None = None
    while True:
        q = select(Credential).order_by(Credential.id).limit(batch).with_for_update()
        if last_id is not None:
            q = q.where(Credential.id > last_id)
        rows = (await session.scalars(q)).all()
        if not rows:
            return changed
        for cred in rows:
            if not crypto.encrypted_with_primary(cred.ciphertext):
                cred.ciphertext = crypto.rotate(cred.ciphertext)
                changed += 1
            else:
                crypto.decrypt(cred.ciphertext)
        last_id = rows[-1].id
        await session.flush()


async def verify_decryptable(session: AsyncSession, crypto: Crypto, sample: int = 20) -> None:
    """Raise DecryptionError when the configured keys cannot open stored credentials."""
    rows = (
        await session.scalars(
            select(Credential.ciphertext).order_by(Credential.updated_at.desc()).limit(sample)
        )
    ).all()
    for ct in rows:
        crypto.decrypt(ct)
