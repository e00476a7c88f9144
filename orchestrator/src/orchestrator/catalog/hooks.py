"""The single point every catalog change goes through.

Whoever keeps something derived from `products` (the search index of the agent issue) registers
an async listener here. The sync and the webhooks call `products_changed` once per committed
change, after the commit, with the product row ids (`products.id`) that changed or were deleted.
A failing listener is logged and never breaks the sync: the nightly full sync calls it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger("orchestrator.catalog.hooks")

Listener = Callable[[uuid.UUID, list[uuid.UUID], list[uuid.UUID]], Awaitable[None]]

_listeners: list[Listener] = []


def register(listener: Listener) -> Listener:
    """Add a listener (idempotent); usable as a decorator."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def unregister(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


async def products_changed(
    tenant_id: uuid.UUID, changed_product_ids: list[uuid.UUID], deleted_product_ids: list[uuid.UUID]
) -> None:
    if not changed_product_ids and not deleted_product_ids:
        return
    for listener in list(_listeners):
        try:
            await listener(tenant_id, list(changed_product_ids), list(deleted_product_ids))
        except Exception as exc:  # noqa: BLE001 - a listener never breaks the catalog sync
            log.error(
                "catalog.listener_failed",
                tenant_id=str(tenant_id),
                listener=getattr(listener, "__qualname__", repr(listener)),
                error=type(exc).__name__,
                changed=len(changed_product_ids),
                deleted=len(deleted_product_ids),
            )
