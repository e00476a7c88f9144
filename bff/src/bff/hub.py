"""One shared event listener per BFF process, fanning out to every SSE connection.

Wake-ups come from Postgres `LISTEN nexus_events` (always, so Redis being down changes nothing)
and Redis `nexus:events` (when up, usually first). Either only carries an event id; the hub reads
the rows of all woken ids with one query and hands each to the queues of its tenant's
connections. Connections never query Postgres except once, to replay after a Last-Event-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from nexus_common.contracts.events import PG_CHANNEL, REDIS_CHANNEL

log = structlog.get_logger("bff.hub")

_COLUMNS = "id, tenant_id, type, data, created_at"


@dataclass(frozen=True)
class Event:
    id: int
    tenant_id: uuid.UUID
    type: str
    data: Any
    created_at: datetime

    def envelope(self) -> str:
        data = self.data if not isinstance(self.data, str) else json.loads(self.data)
        return json.dumps(
            {
                "id": self.id,
                "tenant_id": str(self.tenant_id),
                "type": self.type,
                "data": data,
                "created_at": self.created_at.isoformat(),
            },
            separators=(",", ":"),
        )


def _event(row: asyncpg.Record) -> Event:
    return Event(row["id"], uuid.UUID(str(row["tenant_id"])), row["type"], row["data"], row["created_at"])


@dataclass(eq=False)
class Subscription:
    tenant_id: uuid.UUID
    queue: asyncio.Queue[Event]
    overflowed: asyncio.Event = field(default_factory=asyncio.Event)


class EventHub:
    def __init__(self, dsn: str, redis_url: str | None = None, queue_size: int = 1000) -> None:
        self.dsn = dsn.replace("postgresql+asyncpg://", "postgresql://")
        self.redis_url = redis_url
        self.queue_size = queue_size
        self.pool: asyncpg.Pool | None = None
        self._subs: dict[uuid.UUID, set[Subscription]] = {}
        self._pending: set[int] = set()
        self._wake = asyncio.Event()
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._high = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = asyncio.Event()
        self.redis_connected = False

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening; never fails: until Postgres (and the `events` table, created by the
        orchestrator's migrations) is there, it retries in the background and readiness says so."""
        self._tasks = [asyncio.create_task(self._run(), name="hub-run")]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), 3)

    async def _run(self) -> None:
        delay = 0.5
        waiting_logged = False
        while True:
            try:
                if self.pool is None:
                    self.pool = await asyncpg.create_pool(
                        self.dsn, min_size=1, max_size=4, command_timeout=10
                    )
                self._high = int(await self.pool.fetchval("SELECT coalesce(max(id), 0) FROM events"))
                break
            except asyncio.CancelledError:
                raise
            except asyncpg.UndefinedTableError:
                # Expected on a first start: the orchestrator has not migrated yet. Not a warning,
                # and checked often, so the BFF is ready soon after the migrations are.
                if not waiting_logged:
                    log.info("hub.waiting_for_schema", table="events")
                    waiting_logged = True
                await asyncio.sleep(1)
            except Exception as exc:  # noqa: BLE001 - Postgres down: retry
                log.warning("hub.start_retry", error=type(exc).__name__, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
        workers = [
            asyncio.create_task(self._listen_postgres(), name="hub-pg"),
            asyncio.create_task(self._dispatch_loop(), name="hub-dispatch"),
        ]
        if self.redis_url:
            workers.append(asyncio.create_task(self._listen_redis(), name="hub-redis"))
        self._tasks.extend(workers)
        await asyncio.gather(*workers)

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self.pool is not None:
            await self.pool.close()

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    # --- wake-ups ---------------------------------------------------------------------------------

    def _notify(self, event_id: int) -> None:
        if event_id in self._seen:
            return
        self._pending.add(event_id)
        self._wake.set()

    async def _listen_postgres(self) -> None:
        delay = 0.5
        while True:
            conn: asyncpg.Connection | None = None
            lost = asyncio.Event()
            try:
                conn = await asyncpg.connect(self.dsn, timeout=5)
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())

                def on_notify(_c: Any, _pid: int, _channel: str, payload: str) -> None:
                    with contextlib.suppress(ValueError):
                        self._notify(int(payload))

                await conn.add_listener(PG_CHANNEL, on_notify)
                self._listening.set()
                delay = 0.5
                # Catch up on anything committed while we were not listening.
                self._catch_up = True
                self._wake.set()
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), 5)
                    if not lost.is_set():
                        await conn.execute("SELECT 1")  # notices a silently dropped connection
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep trying, Postgres will come back
                log.warning("hub.postgres_listen_failed", error=type(exc).__name__, retry_in=delay)
            finally:
                self._listening.clear()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=1)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)

    async def _listen_redis(self) -> None:
        import redis.asyncio as aioredis

        delay = 0.5
        while True:
            client = aioredis.from_url(self.redis_url, socket_connect_timeout=1.0)  # type: ignore[arg-type]
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(REDIS_CHANNEL)
                    self.redis_connected = True
                    delay = 0.5
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        with contextlib.suppress(ValueError, TypeError, KeyError):
                            self._notify(int(json.loads(message["data"])["id"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis is an accelerator; Postgres still delivers
                log.info("hub.redis_unavailable", error=type(exc).__name__, retry_in=delay)
            finally:
                self.redis_connected = False
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)

    # --- dispatch ---------------------------------------------------------------------------------

    _catch_up = False

    async def _dispatch_loop(self) -> None:
        assert self.pool is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            ids = [i for i in self._pending if i not in self._seen]
            self._pending.clear()
            catch_up, self._catch_up = self._catch_up, False
            try:
                rows: list[asyncpg.Record] = []
                if catch_up:
                    rows = await self.pool.fetch(
                        f"SELECT {_COLUMNS} FROM events WHERE id > $1 ORDER BY id LIMIT 10000",  # noqa: S608
                        self._high,
                    )
                if ids:
                    rows += await self.pool.fetch(
                        f"SELECT {_COLUMNS} FROM events WHERE id = ANY($1::bigint[]) ORDER BY id",  # noqa: S608
                        ids,
                    )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.warning("hub.fetch_failed", error=type(exc).__name__)
                self._pending.update(ids)
                self._catch_up = self._catch_up or catch_up
                await asyncio.sleep(0.5)
                self._wake.set()
                continue
            for row in sorted(rows, key=lambda r: r["id"]):
                if row["id"] in self._seen:
                    continue
                self._remember(row["id"])
                self._deliver(_event(row))

    def _remember(self, event_id: int) -> None:
        self._seen[event_id] = None
        self._high = max(self._high, event_id)
        while len(self._seen) > 50_000:
            self._seen.popitem(last=False)

    def _deliver(self, event: Event) -> None:
        for sub in list(self._subs.get(event.tenant_id, ())):
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.overflowed.set()

    # --- connections ------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def subscribe(self, tenant_id: uuid.UUID) -> AsyncIterator[Subscription]:
        sub = Subscription(tenant_id, asyncio.Queue(self.queue_size))
        self._subs.setdefault(tenant_id, set()).add(sub)
        try:
            yield sub
        finally:
            subs = self._subs.get(tenant_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    self._subs.pop(tenant_id, None)

    async def replay(self, tenant_id: uuid.UUID, after: int, limit: int) -> list[Event]:
        assert self.pool is not None
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",  # noqa: S608
            tenant_id,
            after,
            limit,
        )
        return [_event(r) for r in rows]

    @property
    def connections(self) -> int:
        return sum(len(s) for s in self._subs.values())
