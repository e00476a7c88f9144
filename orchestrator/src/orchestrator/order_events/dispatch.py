"""`dispatch(event)`: run every order step for one order webhook."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings
from ..notifications.orders import on_order_event


@dataclass(frozen=True)
class OrderEvent:
    maker: async_sessionmaker[AsyncSession]
    settings: Settings
    tenant_id: uuid.UUID
    topic: str  # "order/paid", ...
    order_id: int


OrderStep = Callable[[OrderEvent], Awaitable[str]]


async def notify(ev: OrderEvent) -> str:
    return await on_order_event(ev.maker, ev.settings, ev.tenant_id, ev.topic, ev.order_id)


STEPS: list[tuple[str, OrderStep]] = [("notify", notify)]


async def dispatch(ev: OrderEvent) -> str:
    outcomes = [f"{name}={await step(ev)}" for name, step in STEPS]
    return ",".join(outcomes)
