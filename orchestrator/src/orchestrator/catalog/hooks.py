"""Catalog change hook: the catalog mirror announces changed products; listeners react.

The Tienda Nube sync calls `products_changed` after it has committed product rows; the search
index (retrieval) registers a listener. A failing listener is logged and never breaks the sync.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence

import structlog

log = structlog.get_logger("orchestrator.catalog.hooks")

Listener = Callable[[uuid.UUID, Sequence[uuid.UUID], Sequence[uuid.UUID]], Awaitable[None]]

_listeners: list[Listener] = []


def register(fn: Listener) -> Listener:
    """Add a listener (idempotent); usable as a decorator."""
    if fn not in _listeners:
        _listeners.append(fn)
    return fn


async def products_changed(
    tenant_id: uuid.UUID,
    changed_product_ids: Sequence[uuid.UUID],
    deleted_product_ids: Sequence[uuid.UUID],
) -> None:
    """Await every listener; log failures, never raise (the catalog rows are already committed)."""
    for fn in list(_listeners):
        try:
            await fn(tenant_id, changed_product_ids, deleted_product_ids)
        except Exception as exc:  # noqa: BLE001 - a listener's failure must not fail the sync
            log.error(
                "catalog.listener_failed",
                listener=getattr(fn, "__qualname__", repr(fn)),
                tenant_id=str(tenant_id),
                error=type(exc).__name__,
            )
