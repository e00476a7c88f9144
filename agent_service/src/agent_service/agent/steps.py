"""The thinking log: every step is kept for the response and streamed to the orchestrator now."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from nexus_common.contracts.agent import StepKind, ThinkingStep
from nexus_common.logging import redact

log = structlog.get_logger("agent_service.steps")


class StepLog:
    def __init__(self, http: httpx.AsyncClient | None, run_id: uuid.UUID) -> None:
        self.steps: list[ThinkingStep] = []
        self._http = http
        self._run_id = run_id
        self._queue: asyncio.Queue[ThinkingStep | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._pump()) if http is not None else None
        self._warned = False

    def add(self, kind: StepKind, name: str, duration_ms: float | None = None, **detail: Any) -> None:
        step = ThinkingStep(
            kind=kind,
            name=name,
            detail=redact(detail),
            duration_ms=None if duration_ms is None else round(duration_ms, 1),
            at=datetime.now(UTC),
        )
        self.steps.append(step)
        if self._task is not None:
            self._queue.put_nowait(step)

    async def _pump(self) -> None:
        assert self._http is not None
        while (step := await self._queue.get()) is not None:
            try:
                r = await self._http.post(
                    f"/internal/agent-runs/{self._run_id}/steps",
                    json=step.model_dump(mode="json"),
                    timeout=5.0,
                )
                r.raise_for_status()
            except httpx.HTTPError as exc:  # best effort: the steps also go back in the response
                if not self._warned:
                    self._warned = True
                    log.warning(
                        "agent.step_stream_failed", run_id=str(self._run_id), error=type(exc).__name__
                    )

    async def close(self, wait_s: float = 3.0) -> None:
        if self._task is None:
            return
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), wait_s)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
