"""The conversation domain's dashboard event payloads (contract: nexus_common.contracts.events).

One shape per event, whoever publishes it (the pipeline or a staff action). No secrets.
"""

from __future__ import annotations

from typing import Any

from ..models import ChatConversation, ChatMessage


def _iso(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


def message_data(m: ChatMessage) -> dict[str, Any]:
    """`message.created` data."""
    return {
        "message": {
            "id": str(m.id),
            "conversation_id": str(m.conversation_id),
            "channel": m.channel,
            "direction": m.direction,
            "sender": m.sender,
            "type": m.type,
            "text": m.text,
            "status": m.status,
            "at": _iso(m.created_at),
        }
    }


def conversation_data(c: ChatConversation) -> dict[str, Any]:
    """`conversation.updated` data: the conversation's state as the inbox shows it."""
    return {
        "conversation": {
            "id": str(c.id),
            "customer_id": str(c.customer_id),
            "channel": c.channel,
            "status": c.status,
            "ai_paused": c.ai_paused,
            "paused_by": c.paused_by,
            "paused_at": _iso(c.paused_at),
            "handoff_reason": c.handoff_reason,
            "unread_count": c.unread_count,
            "last_message_at": _iso(c.last_message_at),
        }
    }
