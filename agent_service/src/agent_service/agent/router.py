"""`POST /v1/turns`: one AI turn (orchestrator → agent_service, internal token)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from nexus_common.contracts.agent import AgentTurnRequest, AgentTurnResponse

router = APIRouter(prefix="/v1", tags=["agent"])


@router.post("/turns")
async def create_turn(request: Request, body: AgentTurnRequest) -> AgentTurnResponse:
    """Answer the customer's burst of messages: tools, provider chain, guardrails, thinking log."""
    return await request.app.state.agent.run(body)
