"""Channel accounts → tenant, and their secrets (decrypted only in memory, cached briefly).

Credential kinds per channel account, scope = the account's external id:
  WhatsApp: `whatsapp_app_secret`, `whatsapp_verify_token`, `whatsapp_access_token`
  Instagram / Messenger: `meta_app_secret`, `meta_verify_token`, `meta_access_token`
"""

from __future__ import annotations

import asyncio
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Any

from nexus_common.crypto import Crypto
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..credentials import service as credentials
from ..credentials.service import lookup_digest
from ..models import ChannelAccount, Credential

CACHE_TTL = 10.0


def credential_prefix(channel: str) -> str:
    return "whatsapp" if channel == "whatsapp" else "meta"


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    tenant_id: uuid.UUID
    channel: str
    external_id: str
    enabled: bool
    settings: dict[str, Any]


_cache: dict[tuple[str, str], tuple[float, Account, str]] = {}


def forget(channel: str, external_id: str) -> None:
    """Called when an account's secrets change (this replica re-reads at once; others in ≤TTL)."""
    _cache.pop((channel, external_id), None)


async def find_account(session: AsyncSession, channel: str, external_id: str) -> Account | None:
    row = await session.scalar(
        select(ChannelAccount).where(
            ChannelAccount.channel == channel, ChannelAccount.external_id == external_id
        )
    )
    if row is None:
        return None
    return Account(row.id, row.tenant_id, row.channel, row.external_id, row.enabled, dict(row.settings))


def cached_account(channel: str, external_id: str) -> tuple[Account, str] | None:
    """The cached account and app secret, or None when it must be read (no I/O)."""
    hit = _cache.get((channel, external_id))
    if hit and hit[0] > time.monotonic():
        return hit[1], hit[2]
    return None


async def account_with_app_secret(
    session: AsyncSession, crypto: Crypto, channel: str, external_id: str
) -> tuple[Account, str] | None:
    """The account and its app secret for signature checks (cached for CACHE_TTL seconds)."""
    hit = _cache.get((channel, external_id))
    if hit and hit[0] > time.monotonic():
        return hit[1], hit[2]
    account = await find_account(session, channel, external_id)
    if account is None or not account.enabled:
        return None
    secret = await credentials.get(
        session, crypto, account.tenant_id, f"{credential_prefix(channel)}_app_secret", external_id
    )
    if not secret:
        return None
    _cache[(channel, external_id)] = (time.monotonic() + CACHE_TTL, account, secret)
    return account, secret


# Reads in flight, per account: when the cached entry expires, the webhooks that miss at the same
# moment (up to the whole load's concurrency) share one read and one decrypt instead of a session
# each (py-spy: the misses of one expiry were ~5% of an ingest run's samples).
_loading: dict[tuple[str, str], asyncio.Future[tuple[Account, str] | None]] = {}


async def load_account(
    maker: async_sessionmaker[AsyncSession], crypto: Crypto, channel: str, external_id: str
) -> tuple[Account, str] | None:
    """`account_with_app_secret` on a cache miss, read once for all concurrent callers."""
    key = (channel, external_id)
    loop = asyncio.get_running_loop()
    pending = _loading.get(key)
    if pending is None or pending.get_loop() is not loop:

        async def read() -> tuple[Account, str] | None:
            async with maker() as session:
                return await account_with_app_secret(session, crypto, channel, external_id)

        pending = _loading[key] = asyncio.ensure_future(read())
        pending.add_done_callback(lambda done: _loading.pop(key) if _loading.get(key) is done else None)
    # Shielded: a caller that goes away does not cancel the read the others wait for.
    return await asyncio.shield(pending)


async def access_token(session: AsyncSession, crypto: Crypto, account: Account) -> str | None:
    return await credentials.get(
        session,
        crypto,
        account.tenant_id,
        f"{credential_prefix(account.channel)}_access_token",
        account.external_id,
    )


async def verify_token_matches(
    session: AsyncSession, crypto: Crypto, prefix: str, token: str, scope: str | None
) -> bool:
    """Whether `token` is a stored verify token of this kind (optionally of one account).

    Found by its SHA-256 (`credentials.lookup_hash`): no tenant's secret is decrypted. Tokens stored
    before the hash existed are decrypted once, compared, and given their hash (then never again).
    """
    kind = f"{prefix}_verify_token"
    base = [Credential.kind == kind, *([Credential.scope == scope] if scope else [])]
    found = await session.scalar(
        select(Credential.id).where(*base, Credential.lookup_hash == lookup_digest(token)).limit(1)
    )
    if found is not None:
        return True
    legacy = (
        await session.execute(
            select(Credential.id, Credential.ciphertext).where(*base, Credential.lookup_hash.is_(None))
        )
    ).all()
    matched = False
    for cred_id, ciphertext in legacy:
        value = crypto.decrypt(ciphertext)
        matched |= hmac.compare_digest(token.encode(), value.encode())
        await session.execute(
            update(Credential).where(Credential.id == cred_id).values(lookup_hash=lookup_digest(value))
        )
    if legacy:
        await session.commit()
    return matched


async def accounts_of_wabas(session: AsyncSession, waba_ids: set[str]) -> set[tuple[str, str]]:
    """The WhatsApp numbers (channel, phone_number_id) that use these Business Accounts."""
    rows = await session.execute(
        select(ChannelAccount.external_id).where(
            ChannelAccount.channel == "whatsapp",
            ChannelAccount.enabled.is_(True),
            ChannelAccount.settings["waba_id"].astext.in_(sorted(waba_ids)),
        )
    )
    return {("whatsapp", r[0]) for r in rows.all()}
