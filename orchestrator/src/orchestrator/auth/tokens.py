"""Staff credentials: argon2id password hashes, signed access tokens, opaque refresh/link tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..config import Settings

ALGORITHM = "HS256"
ISSUER = "nexus"

# argon2id with the library's RFC 9106 "low memory" defaults.
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """Only this is stored for refresh and link tokens (they are random: no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


@lru_cache(maxsize=8)
def _derived_key(admin_token: str) -> bytes:
    return hmac.new(admin_token.encode(), b"nexus-staff-token-signing-v1", hashlib.sha256).digest()


def signing_key(settings: Settings) -> bytes:
    if settings.auth_secret is not None:
        return settings.auth_secret.get_secret_value().encode()
    return _derived_key(settings.admin_token.get_secret_value())


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


def issue_access_token(
    settings: Settings, *, user_id: uuid.UUID, tenant_id: uuid.UUID, session_id: uuid.UUID, role: str
) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    exp = now + timedelta(seconds=settings.auth_access_ttl_seconds)
    claims = {
        "iss": ISSUER,
        "typ": "access",
        "sub": str(user_id),
        "tid": str(tenant_id),
        "sid": str(session_id),
        "role": role,  # informational; the role is re-read from the database on every request
        "iat": int(now.timestamp()),
        "exp": int(exp.timestamp()),
    }
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM), exp


def decode_access_token(settings: Settings, token: str) -> AccessClaims | None:
    """The token's claims when its signature and expiry hold; None otherwise (never raises)."""
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "tid"]},
        )
        if claims.get("typ") != "access":
            return None
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            tenant_id=uuid.UUID(claims["tid"]),
            session_id=uuid.UUID(claims["sid"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError):
        return None
