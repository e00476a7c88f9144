"""A customer's opt-out / opt-in keyword: recorded, confirmed, and kept away from the AI.

The inbound message is stored with type `consent` (a silent type: it starts no AI turn and is left
out of the AI's history); the customer's own message is the consent record (source `whatsapp`, or
`button` for a quick reply). The short confirmation goes out through the outbox like any reply.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ..consent import keywords
from ..consent import service as consent
from ..conversations.events import message_data
from ..conversations.service import enqueue_send
from ..events.publisher import publish
from ..models import ChatConversation, ChatMessage, Customer, Tenant

log = structlog.get_logger("orchestrator.pipeline.consent")

CONSENT_TYPE = "consent"


def intent_of(msg_type: str, text: str | None) -> tuple[keywords.Intent, str] | None:
    if msg_type not in ("text", "button", "interactive"):
        return None
    return keywords.match(text)


async def handle(session: AsyncSession, customer: Customer, conv: ChatConversation, msg: ChatMessage) -> None:
    found = keywords.match(msg.text)
    if found is None:
        return
    intent, hint = found
    source = "whatsapp" if (msg.payload or {}).get("button") is None else "button"
    state: consent.State = "opted_out" if intent == "opt_out" else "opted_in"
    await consent.record(
        session,
        conv.tenant_id,
        customer.id,
        state,
        source,
        channel=conv.channel,
        message_id=msg.id,
        actor="customer",
    )
    tenant = await session.get(Tenant, conv.tenant_id)
    tenant_lang = str((tenant.settings or {}).get("language") or "es") if tenant else "es"
    language = customer.locale or hint or tenant_lang
    reply = ChatMessage(
        tenant_id=conv.tenant_id,
        conversation_id=conv.id,
        channel=conv.channel,
        direction="outbound",
        sender="system",
        type=CONSENT_TYPE,
        text=keywords.confirmation(intent, language),
        payload={"consent": state},
        status="queued",
        created_at=datetime.now(UTC),
    )
    session.add(reply)
    await session.flush()
    await publish(session, conv.tenant_id, "message.created", message_data(reply))
    await enqueue_send(session, conv.id)
    log.info("consent.keyword", tenant_id=str(conv.tenant_id), state=state, source=source)
