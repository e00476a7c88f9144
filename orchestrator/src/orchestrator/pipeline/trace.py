"""Per-hop timings of one reply: webhook → stored → turn → agent → outbox → Graph.

A trace is a small dict of wall-clock marks (`time.time()`, seconds) that travels in the job
arguments from hop to hop: the webhook's ingest job, the turn it defers, the send job the turn
queues. When the reply has been handed to Graph the hops are written into the agent run's thinking
log (one `timing` step per hop, `duration_ms` set) in the send's own transaction, and logged as one
`pipeline.timings` line. The marks are taken around work already being done: no extra round trip
on the reply's path. A burst answered by one turn is traced from its first message.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

Trace = dict[str, float]

# (hop, from mark, to mark), in pipeline order. A hop is reported when both marks are present.
HOPS: list[tuple[str, str, str]] = [
    ("webhook → ingest job", "received", "ingest_started"),
    ("ingest: store message", "ingest_started", "ingest_done"),
    ("commit → turn job", "ingest_done", "turn_started"),
    ("turn: read conversation", "turn_started", "agent_called"),
    ("agent_service", "agent_called", "agent_answered"),
    ("turn: write outbox", "agent_answered", "outbox_written"),
    ("commit → send job", "outbox_written", "send_started"),
    ("send: claim row", "send_started", "graph_called"),
    ("whatsapp_service → Graph", "graph_called", "graph_answered"),
    ("total: webhook → Graph", "received", "graph_answered"),
]


def start() -> Trace:
    return {"received": time.time()}


def mark(trace: Trace | None, name: str) -> Trace | None:
    """Add a mark (no-op without a trace: jobs queued by other paths, or before traces existed)."""
    if trace is not None:
        trace[name] = time.time()
    return trace


def clean(value: Any) -> Trace | None:
    """A trace read back from job arguments: only numeric marks are kept."""
    if not isinstance(value, dict):
        return None
    return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)} or None


def hops(trace: Trace) -> dict[str, float]:
    """Hop name → milliseconds."""
    return {name: round((trace[b] - trace[a]) * 1000, 2) for name, a, b in HOPS if a in trace and b in trace}


def log_fields(trace: Trace) -> dict[str, float]:
    """The hops as structured-log fields (`ms_<hop>`)."""
    return {
        "ms_" + name.split(":")[0].replace(" → ", "_to_").replace(" ", "_"): ms
        for name, ms in hops(trace).items()
    }


def steps(trace: Trace) -> list[dict[str, Any]]:
    """The hops as thinking-log steps (the `ThinkingStep` shape, kind `timing`)."""
    at = datetime.fromtimestamp(trace.get("received", time.time()), UTC).isoformat()
    return [
        {"kind": "timing", "name": name, "detail": {}, "duration_ms": ms, "at": at}
        for name, ms in hops(trace).items()
    ]
