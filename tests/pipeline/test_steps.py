"""The thinking log: steps agent_service streamed live are not stored (or announced) twice."""

from __future__ import annotations

from datetime import UTC, datetime

from nexus_common.contracts.agent import AgentTurnResponse, ReplyPart, ThinkingStep
from nexus_common.logging import redact
from orchestrator.models import AgentRun, ChatConversation, Customer, Event, Tenant
from orchestrator.pipeline.turn import _record_answer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker


async def test_streamed_steps_are_kept_once_and_new_ones_added(migrated_engine: AsyncEngine) -> None:
    at = datetime.now(UTC)
    streamed = ThinkingStep(kind="tool_call", name="search_products", detail={"query": "remera"}, at=at)
    extra = ThinkingStep(kind="llm", name="openai", detail={"phone": "+5491123456789"}, at=at)
    async with async_sessionmaker(migrated_engine, expire_on_commit=False)() as s, s.begin():
        t = Tenant(name="Steps")
        s.add(t)
        await s.flush()
        c = Customer(tenant_id=t.id)
        s.add(c)
        await s.flush()
        conv = ChatConversation(tenant_id=t.id, customer_id=c.id, channel="whatsapp")
        s.add(conv)
        await s.flush()
        # What POST /internal/agent-runs/{id}/steps stored while the turn ran.
        run = AgentRun(
            tenant_id=t.id, conversation_id=conv.id, steps=[redact(streamed.model_dump(mode="json"))]
        )
        s.add(run)
        await s.flush()
        response = AgentTurnResponse(
            run_id=run.id,
            parts=[ReplyPart(text="¡Hola!")],
            provider="openai",
            steps=[streamed, extra],
        )
        await _record_answer(s, None, conv, run, response, None, 12, datetime.now(UTC))  # type: ignore[arg-type]
        await s.flush()
        stored = (await s.get(AgentRun, run.id)).steps  # type: ignore[union-attr]
        announced = (
            await s.scalars(select(Event.data).where(Event.tenant_id == t.id, Event.type == "agent.step"))
        ).all()
    assert [st["name"] for st in stored] == ["search_products", "openai"]
    assert stored[1]["detail"]["phone"] != "+5491123456789"  # redacted before it is stored
    assert [e["step"]["name"] for e in announced] == ["openai"]
