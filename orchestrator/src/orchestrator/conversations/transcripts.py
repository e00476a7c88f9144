"""Who may receive a conversation transcript, and how many an agent may send.

A transcript goes only to the tenant's staff (active users and the handoff addresses the admins
set), the conversation's own customer, or an address on a domain the owner approved
(`settings.transcript_domains`). Sends are limited per user and per tenant in a sliding hour,
counted from the audit log (every send is audited), under a per-tenant advisory lock so parallel
requests cannot overshoot.
"""

from __future__ import annotations

import re
import uuid

from nexus_common.errors import Forbidden, TooManyRequests
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ..audit import service as audit
from ..config import Settings
from ..models import AuditLog, ChatConversation, Customer, Tenant, User
from . import handoff

DOMAINS_KEY = "transcript_domains"
AUDIT_ACTION = "transcript.sent"
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_domains(domains: list[str]) -> list[str]:
    out: list[str] = []
    for raw in domains:
        d = raw.strip().lower().removeprefix("@")
        if not _DOMAIN.match(d):
            raise ValueError(f"not a domain name: {raw[:80]!r}")
        if d not in out:
            out.append(d)
    return out


def approved_domains(tenant: Tenant) -> list[str]:
    raw = (tenant.settings or {}).get(DOMAINS_KEY)
    return [str(d) for d in raw] if isinstance(raw, list) else []


async def allowed_recipient(session: AsyncSession, conv: ChatConversation, to: str) -> bool:
    address = to.strip().lower()
    tenant = await session.get(Tenant, conv.tenant_id)
    if tenant is None:
        return False
    domain = address.rpartition("@")[2]
    if domain in approved_domains(tenant):
        return True
    handoff = {str(e).lower() for e in (tenant.settings or {}).get("handoff_emails") or []}
    if address in handoff:
        return True
    customer = await session.get(Customer, conv.customer_id)
    if customer is not None and customer.email and customer.email.strip().lower() == address:
        return True
    staff = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.tenant_id == conv.tenant_id, User.is_active, func.lower(User.email) == address)
    )
    return bool(staff)


async def check_rate(
    session: AsyncSession, tenant_id: uuid.UUID, actor: str, *, per_user: int, per_tenant: int
) -> None:
    """Raise 429 when the actor or the tenant already sent their hourly allowance."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('transcripts:' || :t, 0))"), {"t": str(tenant_id)}
    )
    rows = (
        await session.execute(
            select(AuditLog.actor, func.count())
            .where(
                AuditLog.tenant_id == tenant_id,
                AuditLog.action == AUDIT_ACTION,
                AuditLog.created_at > func.now() - text("interval '1 hour'"),
            )
            .group_by(AuditLog.actor)
        )
    ).all()
    mine = sum(n for a, n in rows if a == actor)
    total = sum(n for _, n in rows)
    if mine >= per_user or total >= per_tenant:
        raise TooManyRequests(
            "too many transcripts sent in the last hour; try again later",
            code="transcript_rate_limited",
            headers={"Retry-After": "3600"},
        )


async def queue(
    session: AsyncSession, settings: Settings, conv: ChatConversation, to: str, actor: str
) -> None:
    """Refuse a recipient outside the allowed set (403) or a send over the limits (429); record
    the allowed send in the audit log (which is also what the limits count) and queue the mail
    in the same transaction."""
    if not await allowed_recipient(session, conv, to):
        raise Forbidden(
            "transcripts go only to the store's staff, the customer, or a domain the owner approved",
            code="recipient_not_allowed",
        )
    await check_rate(
        session,
        conv.tenant_id,
        actor,
        per_user=settings.transcript_max_per_user_hour,
        per_tenant=settings.transcript_max_per_tenant_hour,
    )
    await audit.record(
        session,
        actor=actor,
        action=AUDIT_ACTION,
        tenant_id=conv.tenant_id,
        target_type="conversation",
        target_id=str(conv.id),
        conversation_id=conv.id,
        payload={"to": to.strip().lower()},
    )
    await handoff.queue_transcript(session, conv, to)
