"""Queue one message Nexus sends first: consent → ledger (once per dedupe key) → outbox.

Everything happens in the caller's transaction: the ledger row `(tenant_id, dedupe_key)` and the
outbox message commit together or not at all, so a redelivered webhook, a repeated poll or a
worker killed anywhere before the commit can never produce a second message; after the commit the
outbox takes over (claimed before sending, reconciled by the status webhook's callback data).

Inside the customer's 24-hour window a short free-text message in their language replaces the
template (keeping the template as the fallback should Meta answer 131047); outside it the mapped,
approved template is sent with its variables.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..consent import service as consent
from ..conversations.events import conversation_data, message_data
from ..conversations.service import enqueue_send
from ..events.publisher import publish
from ..models import (
    ChannelAccount,
    ChannelIdentity,
    ChatConversation,
    ChatMessage,
    Customer,
    ProactiveMessage,
    Tenant,
)
from ..phones import normalize_wa_id
from ..pipeline.accounts import Account
from ..pipeline.ingest import live_conversation
from ..pipeline.turn import CARE_WINDOW
from ..templates import service as templates

log = structlog.get_logger("orchestrator.notifications.proactive")


@dataclass
class Outreach:
    tenant_id: uuid.UUID
    kind: str  # a ProactiveMessage kind
    dedupe_key: str
    customer: Customer
    consent_kind: consent.Kind
    template: str | None
    language: str  # the locale to send in (setting, else the customer's)
    variables: list[str]
    window_text: str | None = None  # free text for inside the 24-hour window
    reference: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Result = Literal["queued", "skipped", "duplicate"]


async def already_done(session: AsyncSession, tenant_id: uuid.UUID, dedupe_key: str) -> bool:
    found = await session.scalar(
        select(ProactiveMessage.id).where(
            ProactiveMessage.tenant_id == tenant_id, ProactiveMessage.dedupe_key == dedupe_key
        )
    )
    return found is not None


async def _ledger(session: AsyncSession, o: Outreach, state: str, reason: str | None) -> uuid.UUID | None:
    return await session.scalar(
        insert(ProactiveMessage)
        .values(
            tenant_id=o.tenant_id,
            kind=o.kind,
            dedupe_key=o.dedupe_key[:200],
            customer_id=o.customer.id,
            state=state,
            reason=reason,
            reference=o.reference,
            amount=o.amount,
            currency=o.currency,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "dedupe_key"])
        .returning(ProactiveMessage.id)
    )


async def skip(session: AsyncSession, o: Outreach, reason: str) -> Result:
    """Record that this outreach was considered and not sent (once, like a send)."""
    return "skipped" if await _ledger(session, o, "skipped", reason) else "duplicate"


async def whatsapp_account(session: AsyncSession, tenant_id: uuid.UUID) -> Account | None:
    row = await session.scalar(
        select(ChannelAccount)
        .where(
            ChannelAccount.tenant_id == tenant_id,
            ChannelAccount.channel == "whatsapp",
            ChannelAccount.enabled.is_(True),
        )
        .order_by(ChannelAccount.created_at)
        .limit(1)
    )
    if row is None:
        return None
    return Account(row.id, row.tenant_id, row.channel, row.external_id, row.enabled, dict(row.settings))


async def customer_language(session: AsyncSession, customer: Customer, fallback: str | None = None) -> str:
    if customer.locale:
        return customer.locale
    if fallback:
        return fallback
    tenant = await session.get(Tenant, customer.tenant_id)
    return str((tenant.settings or {}).get("language") or "es") if tenant else "es"


async def queue_proactive(session: AsyncSession, o: Outreach) -> Result:
    decision = await consent.can_send(session, o.tenant_id, o.customer.id, o.consent_kind)
    if not decision.allowed:
        return await skip(session, o, decision.reason)
    if not o.customer.phone_number:
        return await skip(session, o, "no_phone")
    account = await whatsapp_account(session, o.tenant_id)
    if account is None:
        return await skip(session, o, "no_whatsapp_number")
    tpl = await templates.get_approved(session, o.tenant_id, o.template, o.language) if o.template else None
    phone = normalize_wa_id(o.customer.phone_number.lstrip("+"))
    now = datetime.now(UTC)
    last_inbound = await session.scalar(
        select(ChatConversation.last_inbound_at).where(
            ChatConversation.tenant_id == o.tenant_id,
            ChatConversation.customer_id == o.customer.id,
            ChatConversation.channel == "whatsapp",
            ChatConversation.status != "resolved",
        )
    )
    in_window = last_inbound is not None and last_inbound > now - CARE_WINDOW
    if tpl is None and not (in_window and o.window_text):
        return await skip(session, o, "no_template")
    ledger_id = await _ledger(session, o, "queued", None)
    if ledger_id is None:
        return "duplicate"  # another delivery of the same event got here first
    conv = await live_conversation(session, account, o.customer, "whatsapp")
    await session.execute(
        insert(ChannelIdentity)
        .values(tenant_id=o.tenant_id, customer_id=o.customer.id, channel="whatsapp", external_id=phone.key)
        .on_conflict_do_nothing(index_elements=["tenant_id", "channel", "external_id"])
    )
    payload: dict[str, Any] = {
        "proactive": o.kind,
        "consent_kind": o.consent_kind,
        "to": phone.key,
        **o.extra,
    }
    template_body = templates.build_components(tpl, o.variables) if tpl is not None else None
    if in_window and o.window_text:
        mtype, text = "text", o.window_text
        if template_body:
            payload["fallback_template"] = template_body
    else:
        assert tpl is not None and template_body is not None
        mtype, text = "template", templates.render(tpl, o.variables)
        payload["template"] = template_body
    msg = ChatMessage(
        tenant_id=o.tenant_id,
        conversation_id=conv.id,
        channel="whatsapp",
        direction="outbound",
        sender="system",
        type=mtype,
        text=text,
        payload=payload,
        status="queued",
        created_at=now,
    )
    session.add(msg)
    await session.flush()
    ledger = await session.get(ProactiveMessage, ledger_id)
    assert ledger is not None
    ledger.message_id = msg.id
    conv.last_message_at = msg.created_at
    await session.flush()
    await publish(session, o.tenant_id, "message.created", message_data(msg))
    await publish(session, o.tenant_id, "conversation.updated", conversation_data(conv))
    await enqueue_send(session, conv.id)
    log.info("proactive.queued", tenant_id=str(o.tenant_id), kind=o.kind, type=mtype)
    return "queued"
