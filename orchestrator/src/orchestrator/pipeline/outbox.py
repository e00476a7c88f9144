"""The outbox: a conversation's queued replies, sent in order through whatsapp_service.

Never twice: a row is claimed `queued → sending` (committed) before the HTTP call, and only a
claimed row is sent. The send carries the row id as `callback_data` (WhatsApp echoes it in status
webhooks as `biz_opaque_callback_data`), so a send whose answer was lost (crash, timeout) is
recognised when its status webhook arrives. A row left in `sending` past the grace period with no
provider id was not accepted, and the sweeper queues it again. Network errors, 429 and 5xx are
retried with exponential backoff and jitter; other 4xx fail the row with the Graph error, and
Meta's codes decide the rest (send_errors.py: 130429/131056 retry, 131047 → template, 131050 →
opt-out). Messages Nexus sends first (`payload.proactive`) are checked against the customer's
consent at the moment of sending: nothing goes to an opted-out customer, whatever queued it.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import cast, select, update
from sqlalchemy.dialects.postgresql import JSONB

from ..consent import service as consent
from ..events.publisher import announce, publish
from ..jobs import defer, names
from ..models import AgentRun, ChannelAccount, ChatConversation, ChatMessage
from ..runtime import Runtime
from ..sandbox import service as sandbox
from . import send_errors
from . import trace as hop_trace
from .accounts import Account, access_token
from .clients import whatsapp_client
from .turn import CARE_WINDOW

log = structlog.get_logger("orchestrator.pipeline.outbox")


@dataclass
class Outcome:
    kind: str  # sent | failed | retry | ambiguous
    provider_message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


def backoff(attempt: int) -> float:
    """Exponential with full jitter, 1 s → 5 min."""
    return random.uniform(0.5, 1.0) * min(300.0, 2.0 ** max(attempt - 1, 0))  # noqa: S311 - jitter


async def drain(rt: Runtime, conversation_id: uuid.UUID, trace: hop_trace.Trace | None = None) -> int:
    """Send this conversation's queued replies, oldest first; returns how many were sent.
    `trace` (the turn's hop timings) belongs to the first row sent; it goes into that row's run."""
    sent = 0
    while True:
        claimed = await _claim_next(rt, conversation_id)
        if claimed is None:
            return sent
        msg, body, token = claimed
        if sandbox.is_sandbox(body.get("to")):
            # A playground customer: recorded as sent, never handed to WhatsApp.
            outcome = Outcome("sent", provider_message_id=f"sandbox.{msg.id}")
        elif body.get("_refuse"):
            outcome = Outcome("failed", error_code=body["_refuse"][0], error_message=body["_refuse"][1])
        elif not token:
            outcome = Outcome(
                "failed", error_code="no_access_token", error_message="channel has no access token"
            )
        else:
            hop_trace.mark(trace, "graph_called")
            outcome = await _send(rt, body, token)
            hop_trace.mark(trace, "graph_answered")
        stop = await _record(rt, msg, outcome, trace if outcome.kind == "sent" else None)
        trace = None
        if outcome.kind == "sent":
            sent += 1
        if stop:
            return sent


async def _claim_next(
    rt: Runtime, conversation_id: uuid.UUID
) -> tuple[ChatMessage, dict[str, Any], str | None] | None:
    s = rt.settings
    now = datetime.now(UTC)
    async with rt.sessionmaker() as session, session.begin():
        msg = await session.scalar(
            select(ChatMessage)
            .where(
                ChatMessage.conversation_id == conversation_id,
                ChatMessage.direction == "outbound",
                ChatMessage.status.in_(("queued", "sending")),
            )
            .order_by(ChatMessage.created_at, ChatMessage.id)
            .limit(1)
            .with_for_update()
        )
        if msg is None or msg.status == "sending":
            return None  # nothing to do, or the head's fate is being settled (sweeper)
        if msg.next_attempt_at is not None and msg.next_attempt_at > now:
            await defer(
                session,
                names.SEND,
                {"conversation_id": str(conversation_id)},
                at=msg.next_attempt_at,
                **names.send_locks(conversation_id),
            )
            return None
        # The conversation and its channel account in one round trip.
        conv, ca = (
            await session.execute(
                select(ChatConversation, ChannelAccount)
                .outerjoin(ChannelAccount, ChannelAccount.id == ChatConversation.channel_account_id)
                .where(ChatConversation.id == conversation_id)
            )
        ).one()
        account = (
            Account(ca.id, ca.tenant_id, ca.channel, ca.external_id, ca.enabled, dict(ca.settings))
            if ca is not None
            else None
        )
        msg.status = "sending"
        msg.attempts += 1
        msg.next_attempt_at = now + timedelta(seconds=s.nexus_outbox_grace_seconds)
        if account is None:
            body: dict[str, Any] = {
                "_refuse": ("no_channel_account", "the conversation has no channel account")
            }
            return msg, body, None
        recipient = await session.scalar(
            select(ChatMessage.payload["from"].astext)
            .where(ChatMessage.conversation_id == conversation_id, ChatMessage.direction == "inbound")
            .order_by(ChatMessage.created_at.desc())
            .limit(1)
        )
        # A customer Nexus writes to first (order update, recovery) may never have written.
        recipient = recipient or str((msg.payload or {}).get("to") or "")
        token = await access_token(session, s.crypto, account)
        body = build_body(msg, conv, account, recipient, now)
        refusal = await _consent_refusal(session, msg, conv, body)
        if refusal is not None:
            body = {"_refuse": refusal}
    return msg, body, token


async def _consent_refusal(
    session: Any, msg: ChatMessage, conv: ChatConversation, body: dict[str, Any]
) -> tuple[str, str] | None:
    """Proactive messages, and templates sent outside the window, need the customer's consent."""
    proactive = (msg.payload or {}).get("proactive")
    if not proactive and body.get("type") != "template":
        return None
    kind = "marketing" if (msg.payload or {}).get("consent_kind") == "marketing" else "utility"
    decision = await consent.can_send(session, msg.tenant_id, conv.customer_id, kind, conv.channel)  # type: ignore[arg-type]
    if decision.allowed:
        return None
    return decision.reason, "the customer has not agreed to receive this message"


def build_body(
    msg: ChatMessage, conv: ChatConversation, account: Account, to: str, now: datetime
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": conv.channel,
        "account_id": account.external_id,
        "to": to,
        "callback_data": str(msg.id),
    }
    tpl = (msg.payload or {}).get("template")
    if msg.type == "template" and conv.channel == "whatsapp" and isinstance(tpl, dict):
        body.update(type="template", template=tpl)
        return body
    in_window = conv.last_inbound_at is not None and conv.last_inbound_at > now - CARE_WINDOW
    if not in_window:
        template = account.settings.get("reengagement_template")
        if conv.channel == "whatsapp" and isinstance(template, dict) and template.get("name"):
            body.update(
                type="template",
                template={"name": template["name"], "language": {"code": template.get("language", "es")}},
            )
            return body
        body["_refuse"] = (
            "window_closed",
            "outside the 24-hour customer-care window and no template configured",
        )
        return body
    if msg.type == "image" and msg.media and msg.media.get("url"):
        body.update(type="image", media_url=msg.media["url"], caption=msg.text)
    elif msg.type == "interactive" and msg.payload and msg.payload.get("buttons"):
        body.update(type="buttons", text=msg.text, buttons=msg.payload["buttons"])
    elif msg.type == "interactive" and msg.payload and msg.payload.get("list"):
        rows = msg.payload["list"].get("rows") or []
        if conv.channel == "whatsapp":
            section = {"title": msg.payload["list"]["button"][:24], "rows": rows}
            body.update(
                type="list",
                text=msg.text,
                list={"button": msg.payload["list"]["button"], "sections": [section]},
            )
        else:  # no list messages off WhatsApp: number the rows
            lines = [
                f"{n}. {r['title']}" + (f" — {r['description']}" if r.get("description") else "")
                for n, r in enumerate(rows, 1)
            ]
            body.update(type="text", text="\n".join([msg.text or "", *lines])[:4096])
    elif msg.type == "interactive" and msg.payload and msg.payload.get("cta_url"):
        cta = msg.payload["cta_url"]
        if conv.channel == "whatsapp":
            body.update(type="cta_url", text=msg.text, cta_url=cta)
        else:  # no URL buttons off WhatsApp: the link as text
            body.update(type="text", text=f"{msg.text or ''}\n{cta['url']}"[:4096])
    else:
        body.update(type="text", text=msg.text or "")
    return body


async def _send(rt: Runtime, body: dict[str, Any], token: str) -> Outcome:
    try:
        resp = await whatsapp_client(rt).post("/v1/messages", json=body, headers={"X-Graph-Token": token})
    except httpx.ConnectError:
        return Outcome("retry", error_code="whatsapp_service_unreachable")
    except httpx.HTTPError as exc:
        # The request may have gone out: do not resend blindly (the sweeper settles it).
        return Outcome("ambiguous", error_code=type(exc).__name__)
    try:
        data = resp.json()
    except ValueError:
        data = {}
    if resp.status_code == 200 and isinstance(data.get("provider_message_id"), str):
        return Outcome("sent", provider_message_id=data["provider_message_id"])
    err = data.get("error", {}) if isinstance(data, dict) else {}
    details = err.get("details") or {}
    code = str(details.get("graph_code") or err.get("code") or resp.status_code)[:32]
    message = str(err.get("message") or "")[:500]
    if code in send_errors.RETRY_CODES:
        return Outcome("retry", error_code=code, error_message=message)
    if resp.status_code == 504:
        return Outcome("ambiguous", error_code=code, error_message=message)
    if resp.status_code in (429, 502, 503) or resp.status_code >= 500:
        return Outcome("retry", error_code=code, error_message=message)
    return Outcome("failed", error_code=code, error_message=message)


async def _record(
    rt: Runtime, claimed: ChatMessage, outcome: Outcome, trace: hop_trace.Trace | None = None
) -> bool:
    """Store the outcome; True when the drain must stop (retry later or ambiguous). A sent reply's
    trace goes into its agent run's thinking log in this same transaction."""
    s = rt.settings
    now = datetime.now(UTC)
    stop = False
    async with rt.sessionmaker() as session, session.begin():
        msg = await session.get(ChatMessage, claimed.id, with_for_update=True)
        assert msg is not None
        if outcome.kind == "sent":
            msg.provider_message_id = msg.provider_message_id or outcome.provider_message_id
            if msg.status == "sending":
                msg.status = "sent"
            msg.next_attempt_at = None
            msg.error_code = msg.error_message = None
        elif outcome.kind == "retry" and msg.attempts < s.nexus_outbox_max_attempts:
            msg.status = "queued"
            delay = send_errors.retry_delay(outcome.error_code, msg.attempts, backoff(msg.attempts))
            msg.next_attempt_at = now + timedelta(seconds=delay)
            msg.error_code, msg.error_message = outcome.error_code, outcome.error_message
            await defer(
                session,
                names.SEND,
                {"conversation_id": str(msg.conversation_id)},
                at=msg.next_attempt_at,
                **names.send_locks(msg.conversation_id),
            )
            stop = True
        elif outcome.kind == "ambiguous":
            msg.error_code, msg.error_message = outcome.error_code, outcome.error_message
            stop = True
        else:
            msg.status = "failed"
            msg.next_attempt_at = None
            msg.error_code = (outcome.error_code or "send_failed")[:32]
            msg.error_message = outcome.error_message
            if await send_errors.on_final_failure(session, msg, msg.error_code):
                stop = True  # queued again as a template: its own send job takes it
        if trace and "graph_answered" in trace and msg.agent_run_id is not None:
            await session.execute(
                update(AgentRun)
                .where(AgentRun.id == msg.agent_run_id)
                .values(steps=AgentRun.steps.op("||")(cast(hop_trace.steps(trace), JSONB)))
            )
            log.info("pipeline.timings", message_id=str(msg.id), **hop_trace.log_fields(trace))
        if outcome.kind in ("sent", "failed", "retry") and msg.status in ("sent", "failed"):
            await publish(
                session,
                msg.tenant_id,
                "message.status",
                {
                    "message_id": str(msg.id),
                    "conversation_id": str(msg.conversation_id),
                    "status": msg.status,
                    "error_code": msg.error_code,
                },
            )
    await announce(session, rt.redis)
    log.info(
        "outbox.sent" if outcome.kind == "sent" else "outbox.not_sent",
        message_id=str(claimed.id),
        outcome=outcome.kind,
        code=outcome.error_code,
    )
    return stop


async def sweep(rt: Runtime) -> int:
    """Queue again rows stuck in `sending` past the grace period with no provider id."""
    now = datetime.now(UTC)
    async with rt.sessionmaker() as session, session.begin():
        rows = (
            (
                await session.execute(
                    update(ChatMessage)
                    .where(
                        ChatMessage.direction == "outbound",
                        ChatMessage.status == "sending",
                        ChatMessage.provider_message_id.is_(None),
                        ChatMessage.next_attempt_at < now,
                    )
                    .values(status="queued", next_attempt_at=None)
                    .returning(ChatMessage.conversation_id)
                )
            )
            .scalars()
            .all()
        )
        for conv_id in set(rows):
            await defer(session, names.SEND, {"conversation_id": str(conv_id)}, **names.send_locks(conv_id))
    if rows:
        log.warning("outbox.requeued_stale", count=len(rows))
    return len(rows)
