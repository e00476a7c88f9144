"""The pipeline's jobs: ingest, turn, send (names in `jobs.names`).

Locks: `conv:<tenant>:<channel>:<contact>` orders one person's ingests; `turn:<conversation>` and
`send:<conversation>` keep one turn / one outbox drain per conversation at a time (their
`…q:` queueing locks keep at most one pending). The turn and send locks are separate from the
ingest lock on purpose: a debounced turn waits in the queue as a scheduled job, and procrastinate
would hold back every later job of its lock behind it.
"""

from __future__ import annotations

import uuid

from procrastinate import RetryStrategy

from .. import runtime
from ..events.publisher import announce
from ..jobs import names, task
from . import ingest as ingest_service
from . import outbox, turn
from . import trace as hop_trace

# Postgres blips and the like: retried (the same job keeps its place in its lock's order).
_RETRY = RetryStrategy(max_attempts=20, exponential_wait=1)


@task(names.INGEST, retry=_RETRY)
async def ingest(
    event_id: str,
    channel: str | None = None,
    account: str | None = None,
    contact: str | None = None,
    statuses: bool = False,
    trace: dict[str, float] | None = None,
) -> None:
    rt = runtime.current()
    marks = hop_trace.mark(hop_trace.clean(trace), "ingest_started")
    async with rt.sessionmaker() as session:
        async with session.begin():
            await ingest_service.process(
                session,
                uuid.UUID(event_id),
                channel=channel,
                account_external_id=account,
                contact=contact,
                statuses=statuses,
                debounce=rt.settings.nexus_debounce_seconds,
                trace=marks,
            )
        await announce(session, rt.redis)


@task(names.TURN, retry=_RETRY)
async def run_turn(conversation_id: str, trace: dict[str, float] | None = None) -> None:
    marks = hop_trace.mark(hop_trace.clean(trace), "turn_started")
    await turn.run_turn(runtime.current(), uuid.UUID(conversation_id), marks)


@task(names.SEND, retry=_RETRY)
async def send(conversation_id: str, trace: dict[str, float] | None = None) -> None:
    marks = hop_trace.mark(hop_trace.clean(trace), "send_started")
    await outbox.drain(runtime.current(), uuid.UUID(conversation_id), marks)
