"""The single point Tienda Nube order events go through to the domains that follow orders.

The Tienda Nube webhook dispatch (integrations) calls `order_event` once per stored `order/*`
event; a domain above it (revenue attribution in `sales`) registers an async listener here, so
the integration never imports the domains that use its events. A listener that raises fails the
event's processing, which the job layer retries: listeners must be idempotent (redelivered
webhooks are anyway).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings

Listener = Callable[
    [async_sessionmaker[AsyncSession], Settings, uuid.UUID, str, dict[str, Any]], Awaitable[str]
]

_listeners: list[Listener] = []


def register(listener: Listener) -> Listener:
    """Add a listener (idempotent); usable as a decorator."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def unregister(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


async def order_event(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tenant_id: uuid.UUID,
    topic: str,
    payload: dict[str, Any],
) -> list[str]:
    """Run every listener for one order event; returns their outcomes (for the event's log)."""
    return [await listener(maker, settings, tenant_id, topic, payload) for listener in list(_listeners)]
