"""Dashboard events: what the orchestrator publishes and the BFF streams to browsers.

Every event is first written to the orchestrator's `events` table (bigserial `id`: the SSE event
id, so `Last-Event-ID` resumes without gaps) and then announced: Redis pub/sub channel
`nexus:events` when Redis is up, Postgres `NOTIFY nexus_events, '<id>'` always. Consumers read the
row by id (or the range after a Last-Event-ID); payloads never hold secrets.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

REDIS_CHANNEL = "nexus:events"
PG_CHANNEL = "nexus_events"

EventType = Literal[
    "message.created",  # data: message (id, conversation_id, direction, sender, type, text, status, at)
    "message.status",  # data: message_id, conversation_id, status, error_code
    "conversation.updated",  # data: conversation (id, status, ai_paused, unread_count, last_message_at)
    "agent.step",  # data: run_id, conversation_id, step (ThinkingStep)
    "agent.run",  # data: run_id, conversation_id, outcome, provider, model, latency_ms
    "handoff",  # data: conversation_id, reason, by
    "catalog.sync",  # data: sync_id, state, done, total
    "cart.updated",  # data: conversation_id, cart (items, subtotal, currency) or null, by
    "campaign.updated",  # data: campaign_id, status, paused_reason (progress: refetch the campaign)
    # data: conversation_id, order_id, number, total, currency, payment_status, source, campaign_id
    "order.attributed",
]


class Event(BaseModel):
    id: int
    tenant_id: uuid.UUID
    type: EventType
    data: dict[str, Any]
    created_at: datetime
