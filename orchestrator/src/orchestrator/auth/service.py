"""Sign-in, sessions, throttling, password reset and invitations."""

from __future__ import annotations

import asyncio
import hashlib
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from nexus_common.errors import Conflict, NexusError, TooManyRequests, Unauthorized
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..audit import service as audit
from ..config import Settings
from ..jobs import defer, names
from ..mail import client as mail_client
from ..mail import templates
from ..models import AuthSession, AuthToken, LoginThrottle, Tenant, UsedRefreshToken, User
from . import tokens

log = structlog.get_logger("orchestrator.auth")

RESET_HOURS = 1
INVITE_HOURS = 72


class TooManyAttempts(NexusError):
    status_code, code, message = 429, "too_many_attempts", "Too many failed sign-ins; wait and try again"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_at: datetime
    refresh_token: str
    session_id: uuid.UUID


def account_prefix(email: str) -> str:
    return "acct:" + hashlib.sha256(email.encode()).hexdigest()[:32] + ":"


def account_key(email: str, ip: str | None) -> str:
    """Failures of one account from one address: a stranger elsewhere never slows the owner."""
    return account_prefix(email) + hashlib.sha256((ip or "unknown").encode()).hexdigest()[:32]


def ip_key(ip: str | None) -> str:
    return "ip:" + (ip or "unknown")[:60]


def delay_after(failures: int, free: int, base: float, cap: float) -> float:
    """Seconds to wait after the `failures`-th failure in a row: none for the first `free`, then
    doubling from `base` up to `cap` (a growing delay, never a lock someone else can hold)."""
    if failures <= free:
        return 0.0
    return float(min(cap, base * 2 ** min(failures - free - 1, 30)))


async def wait_until(session: AsyncSession, keys: list[str]) -> datetime | None:
    until = await session.scalar(
        select(func.max(LoginThrottle.locked_until)).where(
            LoginThrottle.key.in_(keys), LoginThrottle.locked_until > func.now()
        )
    )
    return until


async def count_hit(session: AsyncSession, key: str, window_seconds: int, *, sliding: bool = False) -> int:
    """Count one event under `key` (in Postgres: shared by replicas, no Redis needed). The count
    restarts after `window_seconds`: from the first event (fixed window), or with `sliding` from
    the last one (forgotten only after that long without any)."""
    now = datetime.now(UTC)
    since = LoginThrottle.updated_at if sliding else LoginThrottle.window_started_at
    stale = since < now - timedelta(seconds=window_seconds)
    first = insert(LoginThrottle).values(key=key, failures=1, window_started_at=now, updated_at=now)
    stmt = first.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={
            "failures": case((stale, 1), else_=LoginThrottle.failures + 1),
            "window_started_at": case((stale, now), else_=LoginThrottle.window_started_at),
            "updated_at": now,
        },
    ).returning(LoginThrottle.failures)
    return int((await session.execute(stmt)).scalar_one())


async def register_failure(session: AsyncSession, key: str, free: int, settings: Settings) -> None:
    """Count a failure (forgotten after LOGIN_WINDOW_SECONDS without one) and set the delay."""
    failures = await count_hit(session, key, settings.login_window_seconds, sliding=True)
    delay = delay_after(failures, free, settings.login_delay_base_seconds, settings.login_delay_max_seconds)
    until = datetime.now(UTC) + timedelta(seconds=delay) if delay else None
    await session.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(locked_until=until))


async def create_session(
    session: AsyncSession,
    settings: Settings,
    user: User,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    refresh = tokens.new_opaque_token()
    row = AuthSession(
        id=uuid.uuid4(),
        tenant_id=user.tenant_id,
        user_id=user.id,
        refresh_hash=tokens.digest(refresh),
        ip=ip,
        user_agent=(user_agent or "")[:200] or None,
        expires_at=datetime.now(UTC) + timedelta(seconds=settings.auth_refresh_ttl_seconds),
    )
    session.add(row)
    await session.flush()
    access, exp = tokens.issue_access_token(
        settings, user_id=user.id, tenant_id=user.tenant_id, session_id=row.id, role=user.role
    )
    return TokenPair(access_token=access, expires_at=exp, refresh_token=refresh, session_id=row.id)


async def login(
    session: AsyncSession,
    settings: Settings,
    email: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
) -> TokenPair:
    """Check the password. Failures count per account-and-address and per address; after a few,
    each further attempt must wait a growing delay (429 with Retry-After until then).

    Commits its own transaction: a failed attempt must be counted even though the request fails.
    """
    email = email.strip().lower()
    keys = [account_key(email, ip), ip_key(ip)]
    until = await wait_until(session, keys)
    if until is not None:
        # Not audited row by row (a throttled flood must not write one row per request).
        log.warning("auth.login_throttled")
        retry = max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))
        raise TooManyAttempts(headers={"Retry-After": str(retry)}, details={"retry_after": retry})
    user = await session.scalar(select(User).where(User.email == email))
    ok = await asyncio.to_thread(tokens.verify_password, user.password_hash if user else None, password)
    tenant_ok = False
    if user is not None:
        tenant_ok = (
            await session.scalar(select(Tenant.status).where(Tenant.id == user.tenant_id))
        ) == "active"
    if not ok or user is None or not user.is_active or not tenant_ok:
        await register_failure(session, keys[0], settings.login_free_failures_per_account, settings)
        await register_failure(session, keys[1], settings.login_free_failures_per_ip, settings)
        await audit.record(
            session,
            actor="anonymous",
            action="auth.login_failed",
            level="warning",
            tenant_id=user.tenant_id if user else None,
            payload={"email": email, "ip": ip},
        )
        await session.commit()
        raise Unauthorized("wrong e-mail or password")
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys[0]))
    if user.password_hash and tokens.needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(tokens.hash_password, password)
    user.last_login_at = datetime.now(UTC)
    pair = await create_session(session, settings, user, ip, user_agent)
    await audit.record(
        session, actor=f"user:{user.id}", action="auth.login", tenant_id=user.tenant_id, payload={"ip": ip}
    )
    await session.commit()
    return pair


async def refresh(session: AsyncSession, settings: Settings, refresh_token: str) -> TokenPair:
    """Rotate the refresh token of a live session and issue a new access token."""
    row = await session.scalar(
        select(AuthSession)
        .where(
            AuthSession.refresh_hash == tokens.digest(refresh_token),
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > func.now(),
        )
        .with_for_update()
    )
    if row is None:
        await _detect_reuse(session, tokens.digest(refresh_token))
    user = await session.get(User, row.user_id) if row else None
    if row is None or user is None or not user.is_active:
        raise Unauthorized("invalid, expired or revoked refresh token")
    new_refresh = tokens.new_opaque_token()
    session.add(UsedRefreshToken(refresh_hash=row.refresh_hash, session_id=row.id))
    row.refresh_hash = tokens.digest(new_refresh)
    row.last_used_at = datetime.now(UTC)
    await session.flush()
    access, exp = tokens.issue_access_token(
        settings, user_id=user.id, tenant_id=user.tenant_id, session_id=row.id, role=user.role
    )
    return TokenPair(access_token=access, expires_at=exp, refresh_token=new_refresh, session_id=row.id)


async def _detect_reuse(session: AsyncSession, digest: str) -> None:
    """A rotated-away refresh token presented again: someone else holds (or held) the session.
    Revoke it whole, for both parties, and commit that before the 401."""
    used = await session.get(UsedRefreshToken, digest)
    if used is None:
        return
    owner = await session.get(AuthSession, used.session_id)
    await revoke_session(session, used.session_id)
    await audit.record(
        session,
        actor=f"user:{owner.user_id}" if owner else "anonymous",
        action="auth.refresh_reuse",
        level="warning",
        tenant_id=owner.tenant_id if owner else None,
        target_type="session",
        target_id=str(used.session_id),
    )
    await session.commit()
    raise Unauthorized("invalid, expired or revoked refresh token")


async def revoke_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def revoke_all_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def _new_link_token(session: AsyncSession, user: User, purpose: str, hours: int) -> str:
    raw = tokens.new_opaque_token()
    # A new link makes older unused links of the same purpose void.
    await session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.purpose == purpose, AuthToken.used_at.is_(None))
        .values(used_at=func.now())
    )
    session.add(
        AuthToken(
            tenant_id=user.tenant_id,
            user_id=user.id,
            purpose=purpose,
            token_hash=tokens.digest(raw),
            expires_at=datetime.now(UTC) + timedelta(hours=hours),
        )
    )
    await session.flush()
    return raw


async def consume_link_token(session: AsyncSession, raw: str, purpose: str) -> User:
    row = await session.scalar(
        select(AuthToken)
        .where(
            AuthToken.token_hash == tokens.digest(raw),
            AuthToken.purpose == purpose,
            AuthToken.used_at.is_(None),
            AuthToken.expires_at > func.now(),
        )
        .with_for_update()
    )
    user = await session.get(User, row.user_id) if row else None
    if row is None or user is None:
        raise Unauthorized("this link is invalid, expired or already used")
    row.used_at = datetime.now(UTC)
    return user


def _link(settings: Settings, path: str, raw: str) -> str:
    return f"{settings.api_base_url.rstrip('/')}/{path}?token={raw}"


async def _tenant_language(session: AsyncSession, tenant_id: uuid.UUID) -> tuple[str, str | None]:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        return "", None
    return tenant.name, (tenant.settings or {}).get("language")


RESET_MAIL_TASK = names.SEND_PASSWORD_RESET


async def request_password_reset(
    session: AsyncSession, settings: Settings, email: str, ip: str | None
) -> None:
    """Queue the reset mail; the caller answers the same either way.

    The request does the same work for a known and an unknown address (count, queue a job): it
    never looks the account up, so neither its answer nor its time tells whether one exists. The
    job looks the account up and sends the mail. Per address: over the hourly limit, 429 (that
    reveals nothing about accounts). Per e-mail: over the limit, silently no more mail.
    """
    email = email.strip().lower()
    per_ip = await count_hit(session, "reset-ip:" + (ip or "unknown")[:60], 3600)
    if per_ip > settings.password_reset_max_per_ip_hour:
        raise TooManyRequests(
            "too many password-reset requests from this address; try again later",
            headers={"Retry-After": "3600"},
        )
    key = "reset:" + hashlib.sha256(email.encode()).hexdigest()[:40]
    if await count_hit(session, key, 3600) <= settings.password_reset_max_per_account_hour:
        await defer(session, RESET_MAIL_TASK, {"email": email})


async def send_password_reset(session: AsyncSession, settings: Settings, email: str) -> None:
    """The job: mail a reset link when the account exists and is active (else nothing)."""
    user = await session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        return
    raw = await _new_link_token(session, user, "reset", RESET_HOURS)
    _, language = await _tenant_language(session, user.tenant_id)
    outcome = await mail_client.send(
        settings.smtp_url.get_secret_value() if settings.smtp_url else None,
        settings.mail_from,
        templates.reset_mail(user.email, _link(settings, "reset-password", raw), RESET_HOURS, language),
    )
    await record_mail(session, outcome, kind="password_reset", to=[user.email], tenant_id=user.tenant_id)


async def confirm_password_reset(session: AsyncSession, raw: str, password: str) -> User:
    user = await consume_link_token(session, raw, "reset")
    user.password_hash = await asyncio.to_thread(tokens.hash_password, password)
    await revoke_all_sessions(session, user.id)
    await session.execute(
        delete(LoginThrottle).where(LoginThrottle.key.startswith(account_prefix(user.email), autoescape=True))
    )
    await audit.record(
        session, actor=f"user:{user.id}", action="auth.password_reset", tenant_id=user.tenant_id
    )
    return user


async def create_user(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    email: str,
    role: str,
    password: str | None = None,
    name: str | None = None,
) -> User:
    email = email.strip().lower()
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("a user with this e-mail already exists")
    user = User(
        tenant_id=tenant_id,
        email=email,
        role=role,
        name=name,
        password_hash=await asyncio.to_thread(tokens.hash_password, password) if password else None,
    )
    session.add(user)
    await session.flush()
    return user


async def invite_user(
    session: AsyncSession, settings: Settings, tenant_id: uuid.UUID, email: str, role: str, name: str | None
) -> tuple[User, mail_client.MailOutcome]:
    user = await create_user(session, tenant_id, email, role, None, name)
    raw = await _new_link_token(session, user, "invite", INVITE_HOURS)
    tenant_name, language = await _tenant_language(session, tenant_id)
    outcome = await mail_client.send(
        settings.smtp_url.get_secret_value() if settings.smtp_url else None,
        settings.mail_from,
        templates.invite_mail(
            user.email, _link(settings, "accept-invite", raw), INVITE_HOURS, tenant_name, role, language
        ),
    )
    await record_mail(session, outcome, kind="invite", to=[user.email], tenant_id=tenant_id)
    return user, outcome


async def accept_invite(session: AsyncSession, raw: str, password: str, name: str | None) -> User:
    user = await consume_link_token(session, raw, "invite")
    user.password_hash = await asyncio.to_thread(tokens.hash_password, password)
    if name:
        user.name = name
    await audit.record(
        session, actor=f"user:{user.id}", action="auth.invite_accepted", tenant_id=user.tenant_id
    )
    return user


async def record_mail(
    session: AsyncSession,
    outcome: mail_client.MailOutcome,
    *,
    kind: str,
    to: list[str],
    tenant_id: uuid.UUID | None,
    conversation_id: uuid.UUID | None = None,
) -> None:
    """Every e-mail's outcome goes to the audit log (addresses are masked by the sanitizer)."""
    await audit.record(
        session,
        actor="system:mail",
        action="mail.sent" if outcome.ok else "mail.failed",
        level="info" if outcome.ok else "error",
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        payload={"kind": kind, "to": to, "attempts": outcome.attempts, "error": outcome.error},
    )
