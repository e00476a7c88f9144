"""Hand-off to humans and transcript e-mails.

The pipeline calls `notify_handoff(session, conversation_id, reason)` when the AI hands off (agent
tool, the customer asks for a person, repeated failures): the AI is paused and the tenant's
handoff e-mails get the transcript with a link. The mail is a job deferred in the same
transaction, so it goes out exactly when the handoff committed, retried, its outcome audited.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from zoneinfo import ZoneInfo

from nexus_common.logging import mask_phone
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.service import record_mail
from ..config import Settings
from ..jobs import defer, names
from ..mail import client as mail_client
from ..mail import templates
from ..models import ChatConversation, ChatMessage, Customer, Tenant
from . import service

TRANSCRIPT_LIMIT = 200


async def notify_handoff(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    reason: str,
    *,
    actor: str = "ai",
    source: str = "ai",
) -> bool:
    """Pause the AI on the conversation and e-mail the tenant's handoff addresses.

    Returns False (and sends nothing) when the conversation was already with humans.
    """
    conv = await session.scalar(
        select(ChatConversation).where(ChatConversation.id == conversation_id).with_for_update()
    )
    if conv is None:
        return False
    handoff = await service.pause(session, conv, actor=actor, reason=reason, source=source)
    if handoff is None:
        return False
    await defer(
        session,
        names.SEND_CONVERSATION_MAIL,
        {"conversation_id": str(conv.id), "kind": "handoff", "to": [], "reason": reason},
    )
    return True


async def queue_transcript(session: AsyncSession, conv: ChatConversation, to: str) -> None:
    await defer(
        session,
        names.SEND_CONVERSATION_MAIL,
        {"conversation_id": str(conv.id), "kind": "transcript", "to": [to], "reason": None},
    )


def customer_label(customer: Customer | None) -> str:
    if customer is None:
        return "-"
    phone = mask_phone(customer.phone_number) if customer.phone_number else None
    return " ".join(p for p in [customer.name, f"({phone})" if phone else None] if p) or "-"


async def send_conversation_mail(
    session: AsyncSession,
    settings: Settings,
    conversation_id: uuid.UUID,
    kind: str,
    to: list[str],
    reason: str | None,
) -> mail_client.MailOutcome | None:
    """Render the transcript and send it; the outcome is written to the audit log."""
    conv = await session.get(ChatConversation, conversation_id)
    if conv is None:
        return None
    tenant = await session.get(Tenant, conv.tenant_id)
    assert tenant is not None
    tenant_settings = tenant.settings or {}
    if kind == "handoff":
        to = [str(a) for a in tenant_settings.get("handoff_emails") or []]
    if not to:
        outcome = mail_client.MailOutcome(ok=False, attempts=0, error="no recipient (no handoff e-mails set)")
        await record_mail(session, outcome, kind=kind, to=[], tenant_id=tenant.id, conversation_id=conv.id)
        return outcome
    customer = await session.get(Customer, conv.customer_id)
    rows = (
        await session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conv.id)
            .order_by(ChatMessage.created_at.desc(), ChatMessage.id.desc())
            .limit(TRANSCRIPT_LIMIT)
        )
    ).all()
    try:
        tz = ZoneInfo(str(tenant_settings.get("timezone") or "UTC"))
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    lines = [
        (
            m.created_at.astimezone(tz or UTC).strftime("%Y-%m-%d %H:%M"),
            m.sender,
            m.text if m.text else f"[{m.type}]",
        )
        for m in reversed(rows)
    ]
    mail = templates.transcript_mail(
        to=to,
        kind=kind,
        tenant=tenant.name,
        customer=customer_label(customer),
        reason=reason,
        link=f"{settings.api_base_url.rstrip('/')}/conversations/{conv.id}",
        lines=lines,
        language=tenant_settings.get("language"),
    )
    outcome = await mail_client.send(
        settings.smtp_url.get_secret_value() if settings.smtp_url else None, settings.mail_from, mail
    )
    await record_mail(session, outcome, kind=kind, to=to, tenant_id=tenant.id, conversation_id=conv.id)
    return outcome
