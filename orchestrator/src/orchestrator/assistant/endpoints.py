"""Internal routes agent_service calls during a turn (X-Internal-Token only).

- `POST /internal/agent-runs/{run_id}/steps`: one thinking-log step, appended to
  `agent_runs.steps` and published as an `agent.step` event for the dashboard (staff only).
- `GET /internal/tenants/{tenant_id}/llm-keys`: the tenant's own OpenAI/Anthropic keys, decrypted,
  so they override the platform keys. Only over the internal network; never logged.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from nexus_common.contracts.agent import ThinkingStep
from nexus_common.errors import NotFound
from nexus_common.logging import redact
from sqlalchemy import text

from ..credentials import service as credentials
from ..db import Session
from ..deps import AppSettings, InternalOnly
from ..events.publisher import announce, publish

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[InternalOnly])

LLM_KEY_KINDS = {"openai": "openai_api_key", "anthropic": "anthropic_api_key"}

_APPEND = text(
    """
    UPDATE agent_runs SET steps = steps || jsonb_build_array(CAST(:step AS jsonb))
    WHERE id = :id
    RETURNING tenant_id, conversation_id, jsonb_array_length(steps)
    """
)


@router.post("/agent-runs/{run_id}/steps", status_code=201)
async def append_step(
    request: Request, session: Session, run_id: uuid.UUID, step: ThinkingStep
) -> dict[str, Any]:
    """Append one step of a running turn and tell the dashboard."""
    data = redact(step.model_dump(mode="json"))
    row = (await session.execute(_APPEND, {"step": json.dumps(data), "id": run_id})).one_or_none()
    if row is None:
        raise NotFound("agent run not found")
    tenant_id, conversation_id, count = row
    await publish(
        session,
        tenant_id,
        "agent.step",
        {"run_id": str(run_id), "conversation_id": str(conversation_id), "step": data},
    )
    await session.commit()
    await announce(session, request.app.state.redis)
    return {"index": count - 1}


@router.get("/tenants/{tenant_id}/llm-keys")
async def llm_keys(session: Session, settings: AppSettings, tenant_id: uuid.UUID) -> dict[str, str | None]:
    """The tenant's own LLM keys (null when it has none: the platform key applies)."""
    return {
        provider: await credentials.get(session, settings.crypto, tenant_id, kind)
        for provider, kind in LLM_KEY_KINDS.items()
    }
