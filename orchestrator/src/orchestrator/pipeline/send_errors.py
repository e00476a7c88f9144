"""What Meta's send error codes mean for an outbox row (EXTERNAL_APIS.md A6, F5).

| code            | meaning                         | what the outbox does                         |
|-----------------|---------------------------------|----------------------------------------------|
| 130429, 131056  | throughput / pair rate limit    | back off and retry (131056: 4^n s)           |
| 131047          | 24-hour window closed           | resend as the row's template, if it has one  |
| 131050          | user stopped marketing messages | record the opt-out (source meta); no retry   |
| 131049          | per-user marketing limit        | failed, no retry today                       |
| 131026          | undeliverable                   | failed, recorded as undeliverable            |

Synchronous answers (whatsapp_service's 422 with `graph_code`) and asynchronous ones (a `failed`
status webhook) go through the same `on_final_failure`.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from ..consent import service as consent
from ..conversations.service import enqueue_send
from ..models import ChannelAccount, ChatConversation, ChatMessage

log = structlog.get_logger("orchestrator.pipeline.send_errors")

RETRY_CODES = frozenset({"130429", "131056"})
WINDOW_CLOSED = "131047"
STOPPED_MARKETING = "131050"
MARKETING_LIMIT = "131049"
UNDELIVERABLE = "131026"
ACTIONABLE = frozenset({WINDOW_CLOSED, STOPPED_MARKETING, UNDELIVERABLE})


def retry_delay(code: str | None, attempt: int, default: float) -> float:
    if code == "131056":
        # Pair rate limit: that recipient after 4^X seconds.
        return float(min(4 ** max(attempt, 1), 900))
    return default


async def fallback_template(
    session: AsyncSession, msg: ChatMessage, conv: ChatConversation | None = None
) -> dict[str, Any] | None:
    """The template to send instead when the window turned out closed: the row's own (order
    updates carry their mapped template) or the number's re-engagement template."""
    own = (msg.payload or {}).get("fallback_template")
    if isinstance(own, dict) and own.get("name"):
        return own
    conv = conv or await session.get(ChatConversation, msg.conversation_id)
    if conv is None or conv.channel != "whatsapp" or conv.channel_account_id is None:
        return None
    account = await session.get(ChannelAccount, conv.channel_account_id)
    tpl = (account.settings or {}).get("reengagement_template") if account else None
    if isinstance(tpl, dict) and tpl.get("name"):
        return {"name": tpl["name"], "language": {"code": tpl.get("language", "es")}}
    return None


async def on_final_failure(session: AsyncSession, msg: ChatMessage, code: str | None) -> bool:
    """Act on a send that failed for good (row locked by the caller). Returns True when the row
    was queued again (as a template) instead of staying failed."""
    if code == WINDOW_CLOSED and msg.type != "template":
        tpl = await fallback_template(session, msg)
        if tpl is not None:
            msg.payload = {**(msg.payload or {}), "template": tpl, "text_fallback_of": msg.type}
            msg.type = "template"
            msg.status = "queued"
            msg.next_attempt_at = None
            msg.provider_message_id = None
            await enqueue_send(session, msg.conversation_id)
            log.info("outbox.window_closed_template", message_id=str(msg.id))
            return True
    if code == STOPPED_MARKETING:
        conv = await session.get(ChatConversation, msg.conversation_id)
        if conv is not None:
            await consent.record(
                session,
                msg.tenant_id,
                conv.customer_id,
                "opted_out",
                "meta",
                channel=conv.channel,
                actor="meta",
            )
            log.info("consent.meta_opt_out", message_id=str(msg.id))
    if code == UNDELIVERABLE:
        msg.payload = {**(msg.payload or {}), "undeliverable": True}
    return False
