"""A client-side leaky bucket per store, kept in step with the platform's x-rate-limit-* headers.

Tienda Nube counts requests per store and app in a leaky bucket (40 requests, leaking 2/s; ×10 on
some plans). We mirror it: before a request we reserve one slot, waiting until our estimate of the
store's bucket has room, so a long sync is paced instead of refused. Every response corrects the
estimate from `x-rate-limit-limit` / `-remaining` / `-reset` (ms until the bucket is empty):

- the level is `limit - remaining`, which the platform rounds up, so we never under-count;
- the leak rate is estimated as `max(1, level - 1) / reset` (right after our own request the
  true level is at least 1 and above `level - 1`), which can only under-estimate it; we keep the
  best (largest) such estimate, so pacing converges on the real rate from below;
- a response's headers are a snapshot taken when the platform counted *that* request. With
  several requests in flight, responses can arrive in another order than the platform counted
  them, so a response's figure may miss our requests counted after it. Each reservation is a
  `Ticket` that remembers how many of our requests had completed when it was sent: only those are
  certainly in the snapshot. The others (still in flight, or answered since) are added to the
  platform's figure, and the estimate only moves down to that bound, never below it;
- a reserved request counts as a whole slot, without leaking, until its answer is back: the
  platform may count it well after we reserved it (a loaded machine delays it), and our estimate
  must never fall below the platform's level in between;
- until a store's first response tells us its limit, one request at a time is in flight;
- a 429 means our estimate was wrong: the bucket is full, and `reset` gives the true leak rate;
- background work (a cart-recovery batch, a catalog sync) yields: while a foreground request
  (an order update, an assistant's lookup) waits for room in the same bucket, no background
  request takes a slot, so a bucket kept full by a batch does not delay a customer's message
  by the whole batch's queue.

The state lives in this process (tiendanube_service is a single replica per deployment).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

# Waiting a few milliseconds more than the estimate absorbs clock and rounding skew between us
# and the platform; it costs well under 1% of a paced sync.
SAFETY_LEVEL = 0.02


def _num(headers: Mapping[str, str], name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class Ticket:
    """One reserved request: how many of the store's requests had completed when it was sent."""

    completed_before: int


@dataclass
class StoreBucket:
    capacity: float
    leak_per_s: float
    # Our estimate of the platform's level is `level + inflight`: `level` holds the requests whose
    # answer came back (it leaks, at a lower bound of the rate), `inflight` the ones reserved and
    # not answered yet, a whole slot each: we cannot know when the platform counts them (a loaded
    # machine can delay a request between its reservation and the platform by a good fraction of
    # a second), so they only start leaking once answered.
    level: float = 0.0
    at: float = field(default_factory=time.monotonic)
    known: bool = False  # has a response told us the store's limit yet?
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # background requests, in turn
    urgent_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # foreground requests, in turn
    urgent_waiting: int = 0  # foreground requests waiting for a slot
    probe: asyncio.Lock = field(default_factory=asyncio.Lock)
    best_rate: float = 0.0  # largest lower bound of the leak rate seen
    rate_upper: float = 0.0  # smallest upper bound of the leak rate seen (0 = none yet)
    throttled: int = 0  # 429s seen (all of them retried)
    inflight: int = 0  # reserved requests whose response has not been observed yet
    reserved: int = 0  # requests reserved so far (monotonic)
    completed: int = 0  # requests whose response (or network error) was seen so far (monotonic)

    def _leak(self, now: float) -> None:
        self.level = max(0.0, self.level - (now - self.at) * self.leak_per_s)
        self.at = now

    def estimate(self) -> float:
        """Our upper bound of the platform's level now."""
        self._leak(time.monotonic())
        return self.level + self.inflight

    async def acquire(self, *, background: bool = False) -> Ticket:
        """Reserve one request slot, sleeping while the bucket has no room. Each lane takes its
        turn in order; a background request also waits while a foreground one does. Checking
        the room and reserving it happen without an await in between, so the two lanes never
        book the same slot."""
        if background:
            async with self.lock:
                return await self._reserve(background=True)
        self.urgent_waiting += 1
        try:
            async with self.urgent_lock:
                return await self._reserve(background=False)
        finally:
            self.urgent_waiting -= 1

    async def _reserve(self, *, background: bool) -> Ticket:
        while True:
            now = time.monotonic()
            self._leak(now)
            room = self.capacity - SAFETY_LEVEL - self.level - self.inflight
            if background and self.urgent_waiting:
                await asyncio.sleep(0.01)  # a foreground request goes first
                continue
            if room >= 1.0:
                self.inflight += 1
                self.reserved += 1
                return Ticket(self.completed)
            wait = (1.0 - room) / self.leak_per_s
            if 1.0 - room > self.level:
                wait = min(wait, 0.01)  # answers in flight must come back first
            await asyncio.sleep(wait)

    def _complete(self) -> None:
        self.inflight = max(0, self.inflight - 1)
        self.completed += 1

    def release(self) -> None:
        """A reserved request ended without a response (network error, cancellation). It may
        have reached the platform: it stays counted (from now), and counts as completed (had it
        reached the platform, it was counted before the error came back)."""
        self._leak(time.monotonic())
        self.level += 1.0
        self._complete()

    def unseen(self, ticket: Ticket) -> int:
        """Our other requests the platform may have counted after the ticket's request: all
        reserved so far but the ones completed before it was sent, and itself."""
        return max(0, self.reserved - ticket.completed_before - 1)

    def observe(self, ticket: Ticket, headers: Mapping[str, str], *, throttled: bool = False) -> None:
        """Correct the estimate from a response's headers (one call per reserved request)."""
        limit = _num(headers, "x-rate-limit-limit")
        remaining = _num(headers, "x-rate-limit-remaining")
        reset_ms = _num(headers, "x-rate-limit-reset")
        now = time.monotonic()
        self._leak(now)
        was_known = self.known
        unseen = self.unseen(ticket)
        self._complete()
        # The answered request moves from in flight to the leaking part (a refused one was not
        # counted by the platform).
        if not throttled:
            self.level += 1.0
        if limit and limit > 0:
            if not self.known or limit != self.capacity:
                # Plans differ (×10); the documented ratio is a 20 s drain of a full bucket.
                self.leak_per_s = max(self.leak_per_s if self.known else 0.0, limit / 20.0)
            self.capacity = limit
            self.known = True
        if limit is not None and remaining is not None:
            used = max(0.0, limit - remaining)
            server_level = used
            if reset_ms is not None and reset_ms >= 0 and used >= 1:
                # The true level L is at most `used` (rounded up), so used/reset bounds the leak
                # rate from above, and reset × that bound bounds L from above, to a fraction of
                # a request instead of a whole one: pacing stays safe without losing a slot.
                upper = used / max(reset_ms / 1000.0, 1e-3)
                self.rate_upper = min(self.rate_upper, upper) if self.rate_upper else upper
                server_level = min(used, reset_ms / 1000.0 * self.rate_upper)
            if throttled:
                server_level = max(server_level, limit)
            # The snapshot plus whatever of ours it may miss (`unseen`, which includes every
            # request still in flight) bounds the level from above, and so does our own
            # estimate: keep the smaller. The first response, a platform figure above ours
            # (someone else used the bucket, or we restarted), or a refusal replaces it.
            ceiling = server_level + unseen - self.inflight
            if not was_known or throttled or server_level - 1.0 > self.level + self.inflight:
                self.level = max(0.0, ceiling)
            else:
                self.level = max(0.0, min(self.level, ceiling))
            if reset_ms and reset_ms > 0:
                if throttled and limit:
                    rate = limit / (reset_ms / 1000.0)
                    self.leak_per_s = min(self.leak_per_s, rate)
                    self.best_rate = min(self.best_rate, rate) if self.best_rate else rate
                elif server_level >= 1:
                    # Right after our own request was accepted the level was at least 1 (our
                    # request) and more than `used - 1` (the platform rounds up): a lower bound.
                    rate = max(1.0, server_level - 1.0) / (reset_ms / 1000.0)
                    if rate > self.best_rate:
                        self.best_rate = rate
                    self.leak_per_s = self.best_rate
        elif throttled:
            self.level = max(self.level, self.capacity - self.inflight)
        if throttled:
            self.throttled += 1


class RateLimiter:
    """One bucket per (store, app): the unit the platform counts in."""

    def __init__(self, default_capacity: int = 40, default_leak_per_s: float = 2.0) -> None:
        self.default_capacity = default_capacity
        self.default_leak = default_leak_per_s
        self.buckets: dict[int, StoreBucket] = {}

    def bucket(self, store_id: int) -> StoreBucket:
        b = self.buckets.get(store_id)
        if b is None:
            b = self.buckets[store_id] = StoreBucket(float(self.default_capacity), self.default_leak)
        return b
