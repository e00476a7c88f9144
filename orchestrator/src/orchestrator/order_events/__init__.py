"""Tienda Nube `order/*` webhooks, dispatched to every step that cares.

The Tienda Nube integration calls `dispatch(event)` once per order webhook; domains register
their step with `@register("name")` (today: the order-status notification, which also credits cart
recoveries; revenue attribution joins beside it). Steps run in registration order, each in its own
transactions; a step that raises makes the whole event retried, so every step is idempotent.
This package imports no domain: it sits below the integration and the steps alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings


@dataclass(frozen=True)
class OrderEvent:
    maker: async_sessionmaker[AsyncSession]
    settings: Settings
    tenant_id: uuid.UUID
    topic: str  # "order/paid", ...
    order_id: int


OrderStep = Callable[[OrderEvent], Awaitable[str]]

_steps: dict[str, OrderStep] = {}


def register(name: str) -> Callable[[OrderStep], OrderStep]:
    """Add a step under `name` (registering the same name again replaces it)."""

    def add(step: OrderStep) -> OrderStep:
        _steps[name] = step
        return step

    return add


async def dispatch(ev: OrderEvent) -> str:
    """Run every step; returns `name=outcome,...` for the event's log."""
    return ",".join([f"{name}={await step(ev)}" for name, step in list(_steps.items())])
