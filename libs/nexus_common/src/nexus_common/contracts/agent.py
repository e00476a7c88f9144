"""orchestrator → agent_service: one AI turn (`POST /v1/turns` on agent_service)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Channel = Literal["whatsapp", "instagram", "messenger", "playground"]
Role = Literal["customer", "ai", "human", "system"]


class HistoryMessage(BaseModel):
    role: Role
    text: str = Field(default="", max_length=8000)
    type: str = "text"
    at: datetime | None = None
    # The id of the row or button a customer chose in an interactive message (list/button reply).
    reply_id: str | None = Field(default=None, max_length=256)


class CustomerInfo(BaseModel):
    id: uuid.UUID
    name: str | None = None
    phone_number: str | None = None  # E.164; None for Instagram/Messenger-only customers
    email: str | None = None
    locale: str | None = None


# The only store facts the agent may read, by `store_info` topic, with the keys each is found
# under in the tenant's settings (`settings.store_info`, or top-level for older tenants). A
# whitelist in code: a customer's message cannot make the agent read any other setting.
STORE_TOPICS: dict[str, tuple[str, ...]] = {
    "shipping": ("shipping", "envios", "envíos"),
    "payments": ("payments", "payment_methods", "pagos"),
    "returns": ("returns", "devoluciones", "cambios"),
    "hours": ("hours", "business_hours", "horarios"),
    "contact": ("contact", "contacto", "email", "phone"),
}


def agent_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """What of a tenant's settings goes to the agent: the whitelisted store facts and the provider
    chain, nothing else (never staff e-mails, synonyms, integration config)."""
    nested = settings.get("store_info")
    source = nested if isinstance(nested, dict) else settings
    keys = {k for keys in STORE_TOPICS.values() for k in keys}
    out: dict[str, Any] = {
        "store_info": {k: source[k] for k in sorted(keys) if source.get(k) not in (None, "", [], {})}
    }
    if isinstance(settings.get("provider_chain"), list):
        out["provider_chain"] = [str(p) for p in settings["provider_chain"]]
    return out


class TenantInfo(BaseModel):
    id: uuid.UUID
    name: str
    language: str = "es"  # default reply language when the customer's is unclear
    persona: str | None = None
    # Store facts the `store_info` tool answers from (shipping, payments, returns, hours...).
    settings: dict[str, Any] = Field(default_factory=dict)


class AgentTurnRequest(BaseModel):
    run_id: uuid.UUID  # agent_runs.id, already created by the orchestrator
    tenant: TenantInfo
    conversation_id: uuid.UUID
    channel: Channel
    customer: CustomerInfo
    history: list[HistoryMessage] = Field(default_factory=list, max_length=100)
    # The burst being answered (one or more customer messages), oldest first.
    new_messages: list[HistoryMessage] = Field(min_length=1, max_length=50)
    within_care_window: bool = True
    # Consecutive previous turns the offline responder could not help with.
    unhelped_turns: int = Field(default=0, ge=0, le=100)
    deadline_seconds: float = Field(default=300.0, gt=0, le=300.0)


class Button(BaseModel):
    id: str = Field(max_length=256)
    title: str = Field(max_length=20)


class ListRow(BaseModel):
    id: str = Field(max_length=200)
    title: str = Field(max_length=24)
    description: str | None = Field(default=None, max_length=72)


class ReplyPart(BaseModel):
    """One outbound message. `list` and `cta_url` are WhatsApp interactive messages; on other
    channels the orchestrator sends them as text (rows numbered, the URL written out)."""

    type: Literal["text", "image", "buttons", "list", "cta_url"] = "text"
    text: str | None = Field(default=None, max_length=4096)
    media_url: str | None = None  # only URLs that came from tool results (catalog images)
    buttons: list[Button] = Field(default_factory=list, max_length=3)
    list_button: str | None = Field(default=None, max_length=20)
    rows: list[ListRow] = Field(default_factory=list, max_length=10)
    url: str | None = Field(default=None, max_length=2048)  # cta_url: only a checkout URL Nexus created
    display_text: str | None = Field(default=None, max_length=20)


# `timing`: one hop of the reply's way through the pipeline (written by the orchestrator).
StepKind = Literal[
    "retrieval", "tool_call", "tool_result", "llm", "fallback", "guardrail", "handoff", "error", "timing"
]


class ThinkingStep(BaseModel):
    kind: StepKind
    name: str
    detail: dict[str, Any] = Field(default_factory=dict)
    duration_ms: float | None = None
    at: datetime | None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class AgentTurnResponse(BaseModel):
    run_id: uuid.UUID
    parts: list[ReplyPart]
    handoff: bool = False
    handoff_reason: str | None = None
    provider: str  # "openai", "anthropic" or "offline"
    # The offline responder could not help with this turn (two in a row hand off to a person).
    unhelped: bool = False
    model: str | None = None
    fallback_used: bool = False
    language: str | None = None
    steps: list[ThinkingStep] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
