"""The AI turn of one conversation (a flow: conversation → agent_service → outbox).

Debounced: the turn job is scheduled `NEXUS_DEBOUNCE_SECONDS` after a message; when it runs it
takes every customer message not yet answered, and if the newest is younger than the window it
re-schedules itself (sliding window, capped by NEXUS_DEBOUNCE_MAX_SECONDS). The answered messages
are claimed (`agent_run_id` set where it is still null) in the same transaction that writes the
outbox rows, so a retried or concurrent turn can never answer a message twice.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog
from nexus_common.contracts.agent import (
    AgentTurnRequest,
    AgentTurnResponse,
    CustomerInfo,
    HistoryMessage,
    ReplyPart,
    TenantInfo,
    ThinkingStep,
    agent_settings,
)
from nexus_common.logging import redact
from pydantic import ValidationError
from sqlalchemy import select, update

from ..conversations.events import conversation_data, message_data
from ..conversations.handoff import notify_handoff
from ..conversations.service import enqueue_send
from ..events.publisher import announce, publish
from ..jobs import defer, names
from ..models import AgentRun, ChatConversation, ChatMessage, Customer, Tenant
from ..runtime import Runtime
from . import trace as hop_trace
from .clients import agent_client
from .ingest import SILENT_TYPES

log = structlog.get_logger("orchestrator.pipeline.turn")

HISTORY = 20
CARE_WINDOW = timedelta(hours=24)

FALLBACK_TEXT = {
    "es": "¡Gracias por tu mensaje! En breve una persona de nuestro equipo te responde.",
    "pt": "Obrigado pela sua mensagem! Em breve uma pessoa da nossa equipe vai te responder.",
    "en": "Thanks for your message! Someone from our team will reply shortly.",
}


def _role(m: ChatMessage) -> str:
    return m.sender


def _history_item(m: ChatMessage) -> HistoryMessage:
    reply_id = None
    if m.direction == "inbound" and m.payload:
        chosen = m.payload.get("interactive") or {}
        reply_id = chosen.get("id") if isinstance(chosen, dict) else None
    return HistoryMessage(
        role=_role(m),
        text=(m.text or "")[:8000],
        type=m.type,
        at=m.created_at,
        reply_id=str(reply_id)[:256] if reply_id else None,
    )


UNHELPED_STEP = "offline_unhelped"


async def _unhelped_turns(session: Any, conversation_id: uuid.UUID) -> int:
    """How many of the latest turns in a row the offline responder could not help with."""
    runs = (
        await session.scalars(
            select(AgentRun.steps)
            .where(AgentRun.conversation_id == conversation_id, AgentRun.outcome != "running")
            .order_by(AgentRun.created_at.desc())
            .limit(3)
        )
    ).all()
    count = 0
    for steps in runs:
        if not any(isinstance(st, dict) and st.get("name") == UNHELPED_STEP for st in steps or []):
            break
        count += 1
    return count


async def run_turn(rt: Runtime, conversation_id: uuid.UUID, trace: hop_trace.Trace | None = None) -> str:
    """Returns what happened: skipped/rescheduled/answered/lost_race (for logs and tests)."""
    s = rt.settings
    now = datetime.now(UTC)
    async with rt.sessionmaker() as session, session.begin():
        # The conversation with its store and customer: one round trip, not three.
        row = (
            await session.execute(
                select(ChatConversation, Tenant, Customer)
                .join(Tenant, Tenant.id == ChatConversation.tenant_id)
                .join(Customer, Customer.id == ChatConversation.customer_id)
                .where(ChatConversation.id == conversation_id)
            )
        ).first()
        if row is None:
            return "skipped"
        conv, tenant, customer = row
        if conv.ai_paused or conv.status != "open":
            return "skipped"  # humans are on it; stored and published already
        pending = (
            await session.scalars(
                select(ChatMessage)
                .where(
                    ChatMessage.conversation_id == conversation_id,
                    ChatMessage.direction == "inbound",
                    ChatMessage.agent_run_id.is_(None),
                    ChatMessage.type.not_in(SILENT_TYPES),
                )
                .order_by(ChatMessage.created_at, ChatMessage.id)
                .limit(50)
            )
        ).all()
        if not pending:
            return "skipped"
        window = timedelta(seconds=s.nexus_debounce_seconds)
        quiet_at = pending[-1].created_at + window
        if quiet_at > now and pending[0].created_at + timedelta(seconds=s.nexus_debounce_max_seconds) > now:
            await defer(
                session,
                names.TURN,
                {"conversation_id": str(conversation_id)},
                at=quiet_at,
                **names.turn_locks(conversation_id),
            )
            return "rescheduled"
        # A turn that died with its worker left a "running" run: close it.
        await session.execute(
            update(AgentRun)
            .where(AgentRun.conversation_id == conversation_id, AgentRun.outcome == "running")
            .values(outcome="failed", error="interrupted", finished_at=now)
        )
        history = (
            await session.scalars(
                select(ChatMessage)
                .where(
                    ChatMessage.conversation_id == conversation_id,
                    ChatMessage.created_at < pending[0].created_at,
                    ChatMessage.type != "consent",  # opt-out/opt-in keywords never reach the AI
                )
                .order_by(ChatMessage.created_at.desc())
                .limit(HISTORY)
            )
        ).all()
        unhelped = await _unhelped_turns(session, conversation_id)
        run = AgentRun(
            tenant_id=conv.tenant_id, conversation_id=conversation_id, trigger_message_id=pending[-1].id
        )
        session.add(run)
        await session.flush()
        await publish(
            session,
            conv.tenant_id,
            "agent.run",
            {"run_id": str(run.id), "conversation_id": str(conversation_id), "outcome": "running"},
        )
        settings_: dict[str, Any] = dict(tenant.settings or {})
        request = AgentTurnRequest(
            run_id=run.id,
            tenant=TenantInfo(
                id=tenant.id,
                name=tenant.name,
                language=str(settings_.get("language", "es")),
                persona=settings_.get("persona"),
                settings=agent_settings(settings_),
            ),
            conversation_id=conversation_id,
            channel=conv.channel,
            customer=CustomerInfo(
                id=customer.id,
                name=customer.name,
                phone_number=customer.phone_number,
                email=customer.email,
                locale=customer.locale,
            ),
            history=[_history_item(m) for m in reversed(history)],
            new_messages=[_history_item(m) for m in pending],
            unhelped_turns=unhelped,
            within_care_window=conv.last_inbound_at is not None and conv.last_inbound_at > now - CARE_WINDOW,
            deadline_seconds=min(s.nexus_agent_timeout_seconds, 300.0),
        )
        pending_ids = [m.id for m in pending]
        run_id = run.id
        tenant_id = conv.tenant_id
        fallback_lang = customer.locale or request.tenant.language
    # Redis hears of the "running" run while the agent works, not before it starts.
    announced = asyncio.create_task(announce(session, rt.redis))

    hop_trace.mark(trace, "agent_called")
    started = time.perf_counter()
    response, error = await call_agent(rt, request)
    await announced
    latency_ms = int((time.perf_counter() - started) * 1000)
    hop_trace.mark(trace, "agent_answered")
    if response is None:
        response = fallback_response(run_id, fallback_lang, error or "agent unavailable")

    try:
        outcome = await _finish(
            rt, conversation_id, run_id, tenant_id, pending_ids, response, error, latency_ms, trace
        )
    except _LostRace:
        return "lost_race"
    log.info("turn.done", conversation_id=str(conversation_id), outcome=outcome, ms=latency_ms)
    return outcome


class _LostRace(Exception):
    pass


async def _finish(
    rt: Runtime,
    conversation_id: uuid.UUID,
    run_id: uuid.UUID,
    tenant_id: uuid.UUID,
    pending_ids: list[uuid.UUID],
    response: AgentTurnResponse,
    error: str | None,
    latency_ms: int,
    trace: hop_trace.Trace | None = None,
) -> str:
    async with rt.sessionmaker() as session, session.begin():
        conv = await session.get(ChatConversation, conversation_id, with_for_update=True)
        run = await session.get(AgentRun, run_id)
        assert conv is not None and run is not None
        finished = datetime.now(UTC)
        if conv.ai_paused or conv.status != "open":
            run.outcome, run.finished_at, run.latency_ms = "skipped", finished, latency_ms
            await publish(session, tenant_id, "agent.run", _run_data(run))
            outcome = "skipped"
        else:
            claimed = (
                (
                    await session.execute(
                        update(ChatMessage)
                        .where(ChatMessage.id.in_(pending_ids), ChatMessage.agent_run_id.is_(None))
                        .values(agent_run_id=run_id)
                        .returning(ChatMessage.id)
                    )
                )
                .scalars()
                .all()
            )
            if len(claimed) != len(pending_ids):
                # Another turn answered (some of) them meanwhile: roll back, answer nothing.
                raise _LostRace
            outcome = await _record_answer(
                session, rt, conv, run, response, error, latency_ms, finished, trace
            )
    await announce(session, rt.redis)
    return outcome


def _run_data(run: AgentRun) -> dict[str, Any]:
    return {
        "run_id": str(run.id),
        "conversation_id": str(run.conversation_id),
        "outcome": run.outcome,
        "provider": run.provider,
        "model": run.model,
        "latency_ms": run.latency_ms,
    }


async def _record_answer(
    session: Any,
    rt: Runtime,
    conv: ChatConversation,
    run: AgentRun,
    response: AgentTurnResponse,
    error: str | None,
    latency_ms: int,
    finished: datetime,
    trace: hop_trace.Trace | None = None,
) -> str:
    # agent_service streams its steps into this run as they happen (redacted there too); keep
    # those and add only the ones it did not stream (e.g. the orchestrator's own fallback step).
    steps = [redact(st.model_dump(mode="json")) for st in response.steps]
    already = list(run.steps or [])
    steps = [st for st in steps if st not in already]
    run.steps = [*already, *steps]
    run.provider, run.model = response.provider, response.model
    run.prompt_tokens, run.completion_tokens = response.usage.prompt_tokens, response.usage.completion_tokens
    run.fallback_used, run.latency_ms, run.finished_at, run.error = (
        response.fallback_used,
        latency_ms,
        finished,
        error,
    )
    run.outcome = "handoff" if response.handoff else ("fallback" if response.fallback_used else "answered")
    for st in steps:
        await publish(
            session,
            conv.tenant_id,
            "agent.step",
            {"run_id": str(run.id), "conversation_id": str(conv.id), "step": st},
        )
    for part in response.parts:
        msg = _outbound(conv, run.id, part)
        if msg is None:
            continue
        session.add(msg)
        await session.flush()
        await publish(session, conv.tenant_id, "message.created", message_data(msg))
        conv.last_message_at = msg.created_at
    # The send job carries the trace on; it writes the hops into this run once Graph answered.
    await enqueue_send(session, conv.id, trace=hop_trace.mark(trace, "outbox_written"))
    if response.handoff:
        # Pauses the AI (status pending_human), publishes the handoff and e-mails the store's team.
        await notify_handoff(session, conv.id, (response.handoff_reason or "agent")[:200])
    conv.unread_count = 0
    await session.flush()
    await publish(session, conv.tenant_id, "conversation.updated", conversation_data(conv))
    await publish(session, conv.tenant_id, "agent.run", _run_data(run))
    return run.outcome


def _outbound(conv: ChatConversation, run_id: uuid.UUID, part: ReplyPart) -> ChatMessage | None:
    common: dict[str, Any] = {
        "tenant_id": conv.tenant_id,
        "conversation_id": conv.id,
        "channel": conv.channel,
        "direction": "outbound",
        "sender": "ai",
        "status": "queued",
        "agent_run_id": run_id,
        "created_at": datetime.now(UTC),
    }
    if part.type == "image" and part.media_url:
        return ChatMessage(type="image", text=part.text, media={"url": part.media_url}, **common)
    if part.type == "buttons" and part.buttons and part.text:
        return ChatMessage(
            type="interactive",
            text=part.text,
            payload={"buttons": [b.model_dump() for b in part.buttons]},
            **common,
        )
    if part.type == "list" and part.rows and part.text:
        return ChatMessage(
            type="interactive",
            text=part.text,
            payload={
                "list": {
                    "button": (part.list_button or "Ver")[:20],
                    "rows": [r.model_dump(exclude_none=True) for r in part.rows],
                }
            },
            **common,
        )
    if part.type == "cta_url" and part.url and part.text:
        if not part.url.startswith("https://"):
            return ChatMessage(type="text", text=part.text, **common)
        return ChatMessage(
            type="interactive",
            text=part.text,
            payload={"cta_url": {"display_text": (part.display_text or "Ver")[:20], "url": part.url}},
            **common,
        )
    if part.text:
        return ChatMessage(type="text", text=part.text, **common)
    return None


async def call_agent(rt: Runtime, request: AgentTurnRequest) -> tuple[AgentTurnResponse | None, str | None]:
    try:
        resp = await agent_client(rt).post(
            "/v1/turns", content=request.model_dump_json(), headers={"content-type": "application/json"}
        )
    except httpx.HTTPError as exc:
        return None, f"agent_service unreachable: {type(exc).__name__}"
    if resp.status_code != 200:
        return None, f"agent_service answered {resp.status_code}"
    try:
        parsed = AgentTurnResponse.model_validate_json(resp.content)
    except ValidationError:
        return None, "agent_service answered an invalid body"
    if parsed.run_id != request.run_id or not parsed.parts:
        return None, "agent_service answered for another run or with no reply"
    return parsed, None


def fallback_response(run_id: uuid.UUID, language: str, error: str) -> AgentTurnResponse:
    """agent_service itself is down: the customer still gets an answer and a human is flagged."""
    lang = (language or "es")[:2].lower()
    return AgentTurnResponse(
        run_id=run_id,
        parts=[ReplyPart(type="text", text=FALLBACK_TEXT.get(lang, FALLBACK_TEXT["es"]))],
        handoff=True,
        handoff_reason="agent unavailable",
        provider="orchestrator",
        fallback_used=True,
        language=lang,
        steps=[
            ThinkingStep(kind="error", name="agent_service", detail={"error": error}, at=datetime.now(UTC))
        ],
    )
