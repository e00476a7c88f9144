"""`/api/v1/conversations`: the inbox, one conversation with its thinking log, and staff actions."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from nexus_common.errors import BadRequest
from nexus_common.logging import mask_phone
from sqlalchemy import and_, func, or_, select, tuple_

from ..auth import Agent, Viewer
from ..db import Session
from ..deps import AppSettings
from ..events.commit import commit_and_announce
from ..models import AgentRun, ChatConversation, ChatMessage, Customer
from . import service, transcripts
from .schemas import PauseIn, ReplyIn, TranscriptIn

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])


def _cursor(at: datetime, cid: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{cid}".encode()).decode()


def _parse_cursor(raw: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, cid = base64.urlsafe_b64decode(raw.encode()).decode().split("|")
        return datetime.fromisoformat(at), uuid.UUID(cid)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("invalid cursor") from None


def _conversation_out(conv: ChatConversation, customer: Customer | None) -> dict[str, Any]:
    return {
        "id": conv.id,
        "channel": conv.channel,
        "status": conv.status,
        "ai_paused": conv.ai_paused,
        "paused_by": conv.paused_by,
        "paused_at": conv.paused_at,
        "handoff_reason": conv.handoff_reason,
        "unread_count": conv.unread_count,
        "last_message_at": conv.last_message_at,
        "created_at": conv.created_at,
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "phone_number": mask_phone(customer.phone_number) if customer.phone_number else None,
        }
        if customer
        else None,
    }


def _message_out(m: ChatMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "direction": m.direction,
        "sender": m.sender,
        "type": m.type,
        "text": m.text,
        "status": m.status,
        "error_code": m.error_code,
        "sent_by_user_id": m.sent_by_user_id,
        "agent_run_id": m.agent_run_id,
        "created_at": m.created_at,
        # What an outbound interactive message offered (list rows, buttons, a checkout link).
        "interactive": m.payload if m.direction == "outbound" and m.type == "interactive" else None,
        # Sent by Nexus first (order_paid, cart_recovery, ...): the dashboard marks it as such.
        "proactive": (m.payload or {}).get("proactive") if m.direction == "outbound" else None,
    }


@router.get("")
async def list_conversations(
    principal: Viewer,
    session: Session,
    status_: Annotated[Literal["open", "pending_human", "resolved"] | None, Query(alias="status")] = None,
    channel: Literal["whatsapp", "instagram", "messenger"] | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    """The inbox, most recent activity first. Filter by status, channel, or customer name/phone/e-mail."""
    sort_at = func.coalesce(ChatConversation.last_message_at, ChatConversation.created_at)
    stmt = (
        select(ChatConversation, Customer, sort_at.label("sort_at"))
        .join(Customer, Customer.id == ChatConversation.customer_id)
        .where(ChatConversation.tenant_id == principal.tenant)
    )
    if status_:
        stmt = stmt.where(ChatConversation.status == status_)
    if channel:
        stmt = stmt.where(ChatConversation.channel == channel)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(Customer.name.ilike(like), Customer.phone_number.ilike(like), Customer.email.ilike(like))
        )
    if cursor:
        at, cid = _parse_cursor(cursor)
        stmt = stmt.where(tuple_(sort_at, ChatConversation.id) < tuple_(at, cid))
    rows = (
        await session.execute(stmt.order_by(sort_at.desc(), ChatConversation.id.desc()).limit(limit + 1))
    ).all()
    items = [_conversation_out(c, cu) for c, cu, _ in rows[:limit]]
    next_cursor = _cursor(rows[limit - 1].sort_at, rows[limit - 1][0].id) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{conversation_id}")
async def get_conversation(
    conversation_id: uuid.UUID,
    principal: Viewer,
    session: Session,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> dict[str, Any]:
    """One conversation with its latest messages (oldest first) and the AI's thinking log."""
    conv = await service.get_conversation(session, principal.tenant, conversation_id)
    customer = await session.get(Customer, conv.customer_id)
    messages = (
        await session.scalars(
            select(ChatMessage)
            .where(and_(ChatMessage.conversation_id == conv.id, ChatMessage.tenant_id == conv.tenant_id))
            .order_by(ChatMessage.created_at.desc(), ChatMessage.id.desc())
            .limit(limit)
        )
    ).all()
    runs = (
        await session.scalars(
            select(AgentRun)
            .where(AgentRun.conversation_id == conv.id, AgentRun.tenant_id == conv.tenant_id)
            .order_by(AgentRun.created_at.desc())
            .limit(50)
        )
    ).all()
    return {
        **_conversation_out(conv, customer),
        "messages": [_message_out(m) for m in reversed(messages)],
        "agent_runs": [
            {
                "id": r.id,
                "trigger_message_id": r.trigger_message_id,
                "outcome": r.outcome,
                "provider": r.provider,
                "model": r.model,
                "fallback_used": r.fallback_used,
                "latency_ms": r.latency_ms,
                "steps": r.steps,
                "created_at": r.created_at,
                "finished_at": r.finished_at,
            }
            for r in reversed(runs)
        ],
    }


@router.post("/{conversation_id}/pause")
async def pause_conversation(
    conversation_id: uuid.UUID,
    principal: Agent,
    session: Session,
    request: Request,
    body: PauseIn | None = None,
) -> dict[str, Any]:
    """Stop the AI on this conversation: status `pending_human`, who and when recorded."""
    conv = await service.get_conversation(session, principal.tenant, conversation_id, lock=True)
    await service.pause(session, conv, actor=principal.actor, reason=body.reason if body else "manual")
    await commit_and_announce(session, request)
    return _conversation_out(conv, None)


@router.post("/{conversation_id}/resume")
async def resume_conversation(
    conversation_id: uuid.UUID, principal: Agent, session: Session, request: Request
) -> dict[str, Any]:
    """Give the conversation back to the AI."""
    conv = await service.get_conversation(session, principal.tenant, conversation_id, lock=True)
    await service.resume(session, conv, actor=principal.actor)
    await commit_and_announce(session, request)
    return _conversation_out(conv, None)


@router.post("/{conversation_id}/messages", status_code=status.HTTP_202_ACCEPTED)
async def reply(
    conversation_id: uuid.UUID, body: ReplyIn, principal: Agent, session: Session, request: Request
) -> dict[str, Any]:
    """Reply as yourself. The AI is paused first; the message is queued in the outbox (`human`)."""
    conv = await service.get_conversation(session, principal.tenant, conversation_id, lock=True)
    msg = await service.human_reply(
        session, conv, actor=principal.actor, user_id=principal.user_id, text=body.text
    )
    await commit_and_announce(session, request)
    return _message_out(msg)


@router.post("/{conversation_id}/transcript", status_code=status.HTTP_202_ACCEPTED)
async def email_transcript(
    conversation_id: uuid.UUID, body: TranscriptIn, principal: Agent, session: Session, settings: AppSettings
) -> dict[str, str]:
    """E-mail the transcript (queued; the outcome is in the telemetry log) to the store's staff, the
    customer, or an owner-approved domain (else 403), within hourly limits (else 429)."""
    conv = await service.get_conversation(session, principal.tenant, conversation_id)
    await transcripts.queue(session, settings, conv, str(body.to), principal.actor)
    return {"status": "queued"}
