"""Event payloads for the dashboard (contract: nexus_common.contracts.events). No secrets."""

from __future__ import annotations

from typing import Any

from ..models import ChatConversation, ChatMessage


def _iso(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


def message_data(m: ChatMessage) -> dict[str, Any]:
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
    return {
        "conversation": {
            "id": str(c.id),
            "customer_id": str(c.customer_id),
            "channel": c.channel,
            "status": c.status,
            "ai_paused": c.ai_paused,
            "unread_count": c.unread_count,
            "last_message_at": _iso(c.last_message_at),
        }
    }
