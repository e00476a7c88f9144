"""The campaign sender: one per WhatsApp number across every replica, paced to Meta's limits.

Exactly once. A recipient is claimed `pending → sending` in a committed transaction before its
send, and only the claimer sends it: right before the request the claimer commits `handed_at`
on the rows still carrying its claim (`claimed_at`), and sends only those. The send carries
`cr:<recipient id>`, which Meta echoes in every status webhook, so a send whose answer was lost
(kill -9, timeout) is recognised when its `sent` status arrives. Rows a dead sender claimed but
never handed over go back to `pending` as soon as the next sender starts (they cannot have gone
out); rows it handed over go back only after the grace period (counted from the later of their
claim and this sender's start), by which time an accepted message has reported itself. Opt-outs
are re-read at claim time, so an opt-out during a campaign takes effect for every message not
yet sent.

Pacing. One sender per number (a Postgres advisory lock held on its own connection: a dead
replica's lock dies with its connection) sends at `messages_per_second` from a credit that
refills continuously and holds at most half a second's worth, so no burst exceeds what Meta's
throughput bucket allows. The store's rolling 24-hour unique-user limit caps what is claimed; a
recipient Meta answers with 131056 (pair rate) waits 4^n s, and 130429 (throughput) makes the
whole sender back off. Template errors (paused, disabled, wrong parameters) and an error-rate
spike pause the campaign and tell the owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from nexus_common.http import make_client
from sqlalchemy import func, select, text

from ..audiences import reach
from ..events.publisher import announce
from ..models import Campaign, ChannelAccount, Customer, Tenant
from ..pipeline.accounts import access_token, find_account
from ..runtime import Runtime
from ..templates import service as templates
from . import render, service

log = structlog.get_logger("orchestrator.campaigns.sender")

TICK = 0.05  # the pacing loop's period: each tick sends what the credit allows, as one batch
PAIR_SECONDS = 6.0  # Meta: one message per 6 s to the same user
MAX_ATTEMPTS = 8
ERROR_RATE = 0.25  # failed share of the last minute's outcomes that pauses a campaign…
ERROR_MIN = 40  # …once at least this many failed
TEMPLATE_CODES = {
    "132015": "template paused by Meta (low quality)",
    "132016": "template disabled by Meta",
    "132001": "template does not exist or is not approved in this language",
    "132000": "template parameter count does not match",
    "132005": "template text too long after filling the variables",
    "132007": "template format policy violated",
    "132012": "template parameter format mismatch",
}
ACCOUNT_CODES = {"368": "WhatsApp account restricted for policy", "131031": "WhatsApp account locked"}
RETRY_SOON = {"131016", "131000", "130429", "80007", "4"}

_LOCK = text("SELECT pg_try_advisory_lock(hashtextextended(:key, 0))")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtextextended(:key, 0))")

_CLAIM = text(
    """
    WITH due AS (
        SELECT r.id FROM campaign_recipients r
        WHERE r.campaign_id = :campaign AND r.state = 'pending'
          AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= now())
          AND NOT EXISTS (
              SELECT 1 FROM campaign_recipients o
              WHERE o.tenant_id = r.tenant_id AND o.customer_id = r.customer_id
                AND o.sent_at > now() - make_interval(secs => :pair))
        ORDER BY r.next_attempt_at  -- the partial index's order: due retries, then the rest
        LIMIT :n
        FOR UPDATE SKIP LOCKED
    )
    UPDATE campaign_recipients r
    SET state = 'sending', claimed_at = now(), handed_at = NULL, attempts = r.attempts + 1, reason = NULL,
        updated_at = now()
    FROM due WHERE r.id = due.id
    RETURNING r.id, r.customer_id, r.wa_id, r.attempts, r.pair_attempts, r.claimed_at
    """
)
# Committed before the request: only rows still under this claim go out (a sender that took
# over may have requeued — and even re-claimed — a row this one holds in its buffer).
_HAND = text(
    """
    UPDATE campaign_recipients r SET handed_at = now()
    FROM unnest(CAST(:ids AS uuid[]), CAST(:claims AS timestamptz[])) AS v(id, claimed_at)
    WHERE r.id = v.id AND r.state = 'sending' AND r.handed_at IS NULL AND r.claimed_at = v.claimed_at
    RETURNING r.id
    """
)

_SET = {
    "sent": """
        UPDATE campaign_recipients r SET
            state = CASE WHEN r.state IN ('sending', 'pending') THEN 'sent' ELSE r.state END,
            provider_message_id = coalesce(r.provider_message_id, v.pid),
            sent_at = coalesce(r.sent_at, now()),
            -- a `failed` status webhook may have come first: keep its code
            error_code = CASE WHEN r.state IN ('sending', 'pending') THEN NULL ELSE r.error_code END,
            next_attempt_at = NULL,
            updated_at = now()
        FROM unnest(CAST(:ids AS uuid[]), CAST(:pids AS text[])) AS v(id, pid) WHERE r.id = v.id""",
    "failed": """
        UPDATE campaign_recipients r SET state = 'failed', error_code = v.code, reason = v.msg,
            next_attempt_at = NULL, updated_at = now()
        FROM unnest(CAST(:ids AS uuid[]), CAST(:codes AS text[]), CAST(:msgs AS text[])) AS v(id, code, msg)
        WHERE r.id = v.id AND r.state = 'sending'""",
    "retry": """
        UPDATE campaign_recipients r SET state = 'pending', claimed_at = NULL, error_code = v.code,
            next_attempt_at = now() + make_interval(secs => v.delay),
            pair_attempts = r.pair_attempts + v.pair, updated_at = now()
        FROM unnest(CAST(:ids AS uuid[]), CAST(:codes AS text[]), CAST(:delays AS float8[]),
                    CAST(:pairs AS int[])) AS v(id, code, delay, pair)
        WHERE r.id = v.id AND r.state = 'sending'""",
    "release": """
        UPDATE campaign_recipients r SET state = 'pending', claimed_at = NULL,
            attempts = greatest(r.attempts - 1, 0), updated_at = now()
        FROM unnest(CAST(:ids AS uuid[])) AS v(id) WHERE r.id = v.id AND r.state = 'sending'""",
    "ambiguous": """
        UPDATE campaign_recipients r SET claimed_at = now(), reason = 'ambiguous', updated_at = now()
        FROM unnest(CAST(:ids AS uuid[])) AS v(id) WHERE r.id = v.id AND r.state = 'sending'""",
    "opted_out": """
        UPDATE campaign_recipients r SET state = 'opted_out', error_code = v.code, reason = v.msg,
            next_attempt_at = NULL, updated_at = now()
        FROM unnest(CAST(:ids AS uuid[]), CAST(:codes AS text[]), CAST(:msgs AS text[])) AS v(id, code, msg)
        WHERE r.id = v.id AND r.state IN ('sending', 'pending')""",
    "skipped": """
        UPDATE campaign_recipients r SET state = 'skipped', error_code = v.code, reason = v.msg,
            next_attempt_at = NULL, updated_at = now()
        FROM unnest(CAST(:ids AS uuid[]), CAST(:codes AS text[]), CAST(:msgs AS text[])) AS v(id, code, msg)
        WHERE r.id = v.id AND r.state = 'sending'""",
}
# Claimed by an earlier sender (before this one took the number's lock) and never handed over:
# certainly not sent, so due again now, the attempt not counted.
_UNHANDED = text(
    """
    UPDATE campaign_recipients r SET state = 'pending', claimed_at = NULL, reason = NULL,
        attempts = greatest(r.attempts - 1, 0), updated_at = now()
    FROM campaigns c
    WHERE c.id = r.campaign_id AND c.channel_account_id = :account
      AND r.state = 'sending' AND r.handed_at IS NULL AND r.claimed_at < :since
    RETURNING r.id
    """
)
_STALE = text(
    """
    UPDATE campaign_recipients r SET state = 'pending', claimed_at = NULL, handed_at = NULL, reason = NULL,
        updated_at = now()
    FROM campaigns c
    WHERE c.id = r.campaign_id AND c.channel_account_id = :account
      AND r.state = 'sending' AND r.provider_message_id IS NULL
      AND (r.claimed_at < :since OR r.reason = 'ambiguous')
      AND greatest(r.claimed_at, :since) < now() - make_interval(secs => :grace)
    RETURNING r.id
    """
)
# WhatsApp webhooks stored but not processed yet (statuses that may settle rows in flight).
_STATUSES_WAITING = text(
    "SELECT EXISTS (SELECT 1 FROM inbound_events WHERE source = 'whatsapp' AND state = 'pending')"
)
_CANCEL_LEFT = text(
    """
    UPDATE campaign_recipients r SET state = 'cancelled', next_attempt_at = NULL, updated_at = now()
    FROM campaigns c WHERE c.id = r.campaign_id AND c.status = 'cancelled' AND c.channel_account_id = :account
      AND r.state = 'pending'
    """
)
# A campaign message in the customer's conversation (issue 12's proactive messages are written
# the same way): open a conversation where none is live, then one message per accepted send.
_OPEN_CONVERSATIONS = text(
    """
    INSERT INTO chat_conversations (tenant_id, customer_id, channel_account_id, channel)
    SELECT DISTINCT r.tenant_id, r.customer_id, CAST(:account AS uuid), 'whatsapp'
    FROM campaign_recipients r WHERE r.id = ANY(CAST(:ids AS uuid[]))
    ON CONFLICT (tenant_id, customer_id, channel) WHERE status <> 'resolved' DO NOTHING
    """
)
_CAMPAIGN_MESSAGES = text(
    """
    INSERT INTO chat_messages (tenant_id, conversation_id, channel, direction, sender,
                               provider_message_id, type, text, payload, status, created_at)
    SELECT r.tenant_id, c.id, 'whatsapp', 'outbound', 'system', v.pid, 'template', v.body,
           jsonb_build_object('proactive', 'campaign', 'campaign_id', r.campaign_id,
                              'recipient_id', r.id, 'to', r.wa_id),
           'sent', now()
    FROM unnest(CAST(:ids AS uuid[]), CAST(:pids AS text[]), CAST(:texts AS text[])) AS v(id, pid, body)
    JOIN campaign_recipients r ON r.id = v.id
    JOIN chat_conversations c ON c.tenant_id = r.tenant_id AND c.customer_id = r.customer_id
         AND c.channel = 'whatsapp' AND c.status <> 'resolved'
    ON CONFLICT (channel, provider_message_id) DO NOTHING
    RETURNING conversation_id
    """
)
_TOUCH_CONVERSATIONS = text(
    """
    UPDATE chat_conversations SET last_message_at = greatest(coalesce(last_message_at, now()), now()),
        updated_at = now()
    WHERE id = ANY(CAST(:ids AS uuid[]))
    """
)
_ERROR_RATE = text(
    """
    SELECT count(*) FILTER (WHERE state = 'failed'), count(*) FROM campaign_recipients
    WHERE campaign_id = :campaign AND updated_at > now() - interval '60 seconds'
      AND state IN ('sent', 'delivered', 'read', 'failed')
    """
)


@dataclass
class Claimed:
    id: uuid.UUID
    campaign_id: uuid.UUID
    wa_id: str
    params: list[str]
    attempts: int
    pair_attempts: int
    claimed_at: datetime | None = None  # the claim's token: handed over only while it holds


@dataclass
class Result:
    kind: str  # sent | failed | retry | ambiguous | opted_out | skipped | release
    item: Claimed
    pid: str | None = None
    code: str | None = None
    message: str | None = None
    delay: float = 0.0
    pair: int = 0


@dataclass
class Run:
    """A running campaign as the sender needs it."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    template: str
    language: str
    variables: list[str]
    coupon: dict[str, Any] | None = None
    body: str = ""  # the template's body text, {{n}} filled per recipient for the conversation


def backoff(attempt: int, cap: float = 300.0) -> float:
    return random.uniform(0.5, 1.0) * min(cap, 2.0 ** max(attempt - 1, 0))  # noqa: S311 - jitter


def classify(status: int, data: dict[str, Any], item: Claimed) -> Result:
    if status == 200 and isinstance(data.get("provider_message_id"), str):
        return Result("sent", item, pid=data["provider_message_id"][:128])
    raw_err = data.get("error")
    err: dict[str, Any] = raw_err if isinstance(raw_err, dict) else {}
    raw_details = err.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    code = str(details.get("graph_code") or err.get("code") or status)[:32]
    message = str(err.get("message") or "")[:300]
    if status == 504:
        return Result("ambiguous", item, code=code)
    if code == "131056":  # pair rate: this recipient only, after 4^n s
        return Result("retry", item, code=code, delay=float(4 ** (item.pair_attempts + 1)), pair=1)
    if code == "130429" or status in (429, 502, 503) or status >= 500 or code in RETRY_SOON:
        if item.attempts >= MAX_ATTEMPTS:
            return Result("failed", item, code=code, message="gave up after retries")
        return Result("retry", item, code=code, delay=backoff(item.attempts))
    if code == "131050":  # the user stopped marketing messages: suppress for good
        return Result("opted_out", item, code=code, message="user stopped marketing messages (Meta 131050)")
    return Result("failed", item, code=code, message=message)


class AccountSender:
    def __init__(self, rt: Runtime, account_id: uuid.UUID) -> None:
        self.rt = rt
        self.account_id = account_id
        self.started = datetime.now(UTC)
        self.runs: dict[uuid.UUID, Run] = {}
        self.store_name: dict[uuid.UUID, str] = {}
        self.buffer: deque[Claimed] = deque()
        self.results: list[Result] = []
        self.inflight: set[asyncio.Task[None]] = set()
        self.rate = 80.0
        self.daily_limit: int | None = None
        self.quota_left: float = float("inf")
        self.throttled_until = 0.0
        self.throttle_level = 0
        self.idle_until: dict[uuid.UUID, float] = {}
        self.rr = 0
        self.token: str | None = None
        self.external_id = ""
        self.tenant_id: uuid.UUID | None = None
        self.progress_at: dict[uuid.UUID, float] = {}
        self.bodies: dict[tuple[str, str], str] = {}
        self.in_flight = 0  # messages (not requests) sent and not yet answered
        self.client: httpx.AsyncClient | None = None
        self.batch_api = True
        self.quota_lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        key = f"campaign-sender:{self.account_id}"
        async with self.rt.engine.connect() as lock_conn:
            got = (await lock_conn.execute(_LOCK, {"key": key})).scalar()
            # The database's clock: claims are stamped with it, and rows claimed before this
            # instant were claimed by an earlier sender.
            self.started = (await lock_conn.execute(text("SELECT now()"))).scalar_one()
            await lock_conn.commit()
            if not got:
                return  # another replica sends for this number
            try:
                log.info("campaign.sender_started", account_id=str(self.account_id))
                await self._loop()
            except Exception as exc:  # the supervisor starts a new sender next round
                log.error("campaign.sender_failed", account_id=str(self.account_id), error=repr(exc)[:300])
                raise
            finally:
                with contextlib.suppress(Exception):
                    await self._drain_inflight()
                    await self._flush()
                    async with self.rt.sessionmaker() as session, session.begin():
                        await session.execute(_CANCEL_LEFT, {"account": self.account_id})
                with contextlib.suppress(Exception):
                    await lock_conn.execute(_UNLOCK, {"key": key})
                    await lock_conn.commit()
                if self.client is not None:
                    with contextlib.suppress(Exception):
                        await self.client.aclose()

    async def _loop(self) -> None:
        """The pacing loop never waits for Postgres: claims, recording and the periodic checks run
        beside it (one of each at a time), so a slow round trip costs no sending slot."""
        upkeep = asyncio.create_task(self._upkeep())
        claim: asyncio.Task[None] | None = None
        flush: asyncio.Task[None] | None = None
        credit, last = 0.0, time.monotonic()
        try:
            while True:
                if upkeep.done():
                    upkeep.result()  # raises what stopped it
                    if not self.buffer and not self.inflight and (claim is None or claim.done()):
                        return  # nothing left to send for this number
                now = time.monotonic()
                credit = min(credit + (now - last) * self.rate, max(1.0, self.rate * 0.5))
                last = now
                if now < self.throttled_until:
                    credit = 0.0
                else:
                    low = len(self.buffer) < self._claim_size() // 2 + 1
                    if low and self.runs and (claim is None or claim.done()):
                        if claim is not None:
                            claim.result()
                        claim = asyncio.create_task(self._claim())
                    target = self._batch_size()
                    while self.buffer and credit >= max(1.0, min(target, len(self.buffer))):
                        n = min(int(credit), target, len(self.buffer), self._max_inflight() - self.in_flight)
                        if n < 1:
                            break
                        items: list[Claimed] = []
                        for _ in range(n):
                            item = self.buffer.popleft()
                            if item.campaign_id in self.runs:
                                items.append(item)
                            else:
                                self.results.append(Result("release", item))
                        if not items:
                            continue
                        credit -= len(items)
                        self.in_flight += len(items)
                        task = asyncio.create_task(self._send_batch(items))
                        self.inflight.add(task)
                        task.add_done_callback(self.inflight.discard)
                if self.results and (flush is None or flush.done()):
                    if flush is not None:
                        flush.result()
                    flush = asyncio.create_task(self._flush())
                await asyncio.sleep(TICK)
        finally:
            for t in (upkeep, claim, flush):
                if t is not None and not t.done():
                    t.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await t

    async def _upkeep(self) -> None:
        """Refresh what runs (0.5 s), settle rows dead senders left (1 s), re-read the daily
        limit's usage (10 s), watch the error rate (5 s); returns when no campaign runs."""
        last_sweep = last_quota = last_errors = 0.0
        while True:
            await self._refresh()
            if not self.runs:
                return
            now = time.monotonic()
            if now - last_sweep >= 1.0:
                await self._sweep()
                last_sweep = now
            if now - last_quota >= 10.0:
                await self._quota()
                last_quota = now
            if now - last_errors >= 5.0:
                await self._error_rate()
                last_errors = now
            await asyncio.sleep(0.5)

    async def _drain_inflight(self) -> None:
        if self.inflight:
            await asyncio.wait(list(self.inflight), timeout=70)
        for item in self.buffer:
            self.results.append(Result("release", item))
        self.buffer.clear()

    def _max_inflight(self) -> int:
        # Messages in flight: enough to keep the rate over a slow hop (a loaded machine's round
        # trip through whatsapp_service can pass a second), few enough that what bunches up behind
        # it stays within Meta's one-second bucket.
        return max(16, min(900, int(self.rate * 0.75)))

    def _batch_size(self) -> int:
        # One request to whatsapp_service carries a tick's worth of sends (1 at low rates).
        return max(1, min(100, int(self.rate * TICK)))

    def _claim_size(self) -> int:
        # Two seconds' worth: a claim round trip on a busy database must not drain the buffer.
        return max(20, min(1000, int(self.rate * 2)))

    # -- reading state -----------------------------------------------------------------------

    async def _refresh(self) -> None:
        """Re-read what runs; `self.runs` changes only once everything a claim needs is known."""
        async with self.rt.sessionmaker() as session:
            rows = (
                await session.scalars(
                    select(Campaign).where(
                        Campaign.channel_account_id == self.account_id, Campaign.status == "running"
                    )
                )
            ).all()
            await session.execute(_CANCEL_LEFT, {"account": self.account_id})
            await session.commit()
            if self.token is None or self.tenant_id is None:
                ca = await session.get(ChannelAccount, self.account_id)
                if ca is None:
                    self.runs = {}
                    return
                self.external_id, self.tenant_id = ca.external_id, ca.tenant_id
                account = await find_account(session, "whatsapp", ca.external_id)
                self.token = (
                    await access_token(session, self.rt.settings.crypto, account) if account else None
                )
            tenant = await session.get(Tenant, self.tenant_id)
            if tenant is not None:
                cfg = service.sending_settings(tenant)
                self.rate = float(cfg.messages_per_second)
                if cfg.effective_limit() != self.daily_limit:
                    self.daily_limit = cfg.effective_limit()
                    await self._quota()
                for c in rows:
                    self.store_name[c.id] = tenant.name
            runs = {}
            for c in rows:
                key = (c.template, c.language)
                if key not in self.bodies:
                    tpl = await templates.get_approved(session, c.tenant_id, c.template, c.language)
                    self.bodies[key] = (templates.body_text(tpl.components) if tpl else None) or c.template
                runs[c.id] = Run(
                    c.id,
                    c.tenant_id,
                    c.template,
                    c.language,
                    list(c.variables),
                    dict(c.coupon) if c.coupon else None,
                    self.bodies[key],
                )
            runs = await self._check_templates(session, runs)
        self.runs = runs
        keep = deque(i for i in self.buffer if i.campaign_id in runs)
        self.results.extend(Result("release", i) for i in self.buffer if i.campaign_id not in runs)
        self.buffer = keep

    async def _check_templates(self, session: Any, runs: dict[uuid.UUID, Run]) -> dict[uuid.UUID, Run]:
        """A template Meta paused or disabled (its webhook updated the store) pauses its campaigns."""
        if not runs or self.tenant_id is None:
            return runs
        statuses = await reach.template_statuses(session, self.tenant_id)
        for run in list(runs.values()):
            status = statuses.get((run.template, reach.locale_key(run.language)))
            if status == reach.APPROVED:
                continue
            reason = (
                f"template {run.template} ({run.language}) is {status.lower()} at Meta"
                if status
                else f"template {run.template} ({run.language}) no longer exists"
            )
            await self._pause(run.id, reason)
            del runs[run.id]
        return runs

    async def _pause(self, campaign_id: uuid.UUID, reason: str) -> None:
        async with self.rt.sessionmaker() as session:
            async with session.begin():
                await service.pause_for(session, campaign_id, reason)
            await announce(session, self.rt.redis)
        self.runs.pop(campaign_id, None)

    async def _quota(self) -> None:
        if self.tenant_id is None:
            return
        # The messaging tier may change while a campaign runs (Meta upgrades within 6 h).
        async with self.rt.sessionmaker() as session, session.begin():
            self.daily_limit = (await service.refresh_tier(session, self.tenant_id)).effective_limit()
        if self.daily_limit is None:
            self.quota_left = float("inf")
            return
        # Not while a claim is between its decrement of `quota_left` and its commit: `used`
        # would miss those rows and the limit would be handed out twice.
        async with self.quota_lock, self.rt.sessionmaker() as session:
            used = await service.used_last_24h(session, self.tenant_id)
            self.quota_left = float(self.daily_limit - used)

    # -- claiming ----------------------------------------------------------------------------

    async def _claim(self) -> None:
        if not self.runs or self.quota_left <= 0:
            return
        ids = sorted(self.runs)
        now = time.monotonic()
        for i in range(len(ids)):
            cid = ids[(self.rr + i) % len(ids)]
            if self.idle_until.get(cid, 0.0) > now:
                continue
            self.rr = (self.rr + i + 1) % len(ids)
            async with self.quota_lock:
                n = int(min(self._claim_size(), max(self.quota_left, 0)))
            if n <= 0:
                return
            got = await self._claim_from(self.runs[cid], n)
            if got == 0:
                self.idle_until[cid] = now + 0.5
                await self._maybe_finish(cid)
            return

    async def _claim_from(self, run: Run, n: int) -> int:
        async with self.quota_lock, self.rt.sessionmaker() as session, session.begin():
            rows = (await session.execute(_CLAIM, {"campaign": run.id, "n": n, "pair": PAIR_SECONDS})).all()
            if not rows:
                return 0
            customers = {r.customer_id for r in rows}
            opted_out = await reach.not_allowed_among(session, list(customers))
            names = dict(
                (
                    await session.execute(
                        select(Customer.id, Customer.name).where(Customer.id.in_(customers))
                    )
                ).all()
            )
            settled: list[Result] = []
            for r in rows:
                item = Claimed(r.id, run.id, r.wa_id, [], r.attempts, r.pair_attempts, r.claimed_at)
                if r.customer_id in opted_out:
                    settled.append(
                        Result("opted_out", item, code="opted_out", message="opted out before the send")
                    )
                    continue
                code, percent = render.coupon_context(run.coupon)
                params, reason = render.render(
                    run.variables,
                    render.Context(names.get(r.customer_id), self.store_name.get(run.id), code, percent),
                )
                if params is None:
                    settled.append(Result("skipped", item, code="missing_variable", message=reason))
                    continue
                item.params = params
                self.buffer.append(item)
                self.quota_left -= 1  # counted when claimed: the daily limit caps what is in flight
            await self._write(session, settled)
        return len(rows)

    async def _maybe_finish(self, campaign_id: uuid.UUID) -> None:
        if any(i.campaign_id == campaign_id for i in self.buffer):
            return
        async with self.rt.sessionmaker() as session:
            async with session.begin():
                done = await service.finish_if_drained(session, campaign_id)
            if done:
                await announce(session, self.rt.redis)
                self.runs.pop(campaign_id, None)
                log.info("campaign.done", campaign_id=str(campaign_id))

    # -- sending -----------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        """The sender's own connections to whatsapp_service, all kept alive (a pool that closes
        idle ones beyond a few reopens a TCP connection per request at campaign rates)."""
        if self.client is None or self.client.is_closed:
            s = self.rt.settings
            self.client = make_client(
                str(s.whatsapp_service_url).rstrip("/"),
                timeout=60.0,
                internal_token=s.internal_api_token.get_secret_value(),
                max_connections=64,
                max_keepalive=64,
            )
        return self.client

    def _body(self, run: Run, item: Claimed) -> dict[str, Any]:
        return {
            "channel": "whatsapp",
            "account_id": self.external_id,
            "to": item.wa_id,
            "type": "template",
            "template": {
                "name": run.template,
                "language": {"code": run.language},
                "components": render.components(item.params),
            },
            "callback_data": f"cr:{item.id}",
        }

    async def _send_batch(self, items: list[Claimed]) -> None:
        """One round trip to whatsapp_service for a tick's worth of sends (`/v1/messages/batch`);
        each answer is classified like a single send's."""
        try:
            ready: list[tuple[Claimed, dict[str, Any]]] = []
            for item in items:
                run = self.runs.get(item.campaign_id)
                if run is None:
                    self.results.append(Result("release", item))
                elif not self.token:
                    self.results.append(
                        Result("failed", item, code="no_access_token", message="channel has no access token")
                    )
                else:
                    ready.append((item, self._body(run, item)))
            ready = await self._hand_over(ready)
            if not ready:
                return
            if not self.batch_api or len(ready) == 1:
                await asyncio.gather(*(self._send(item, body) for item, body in ready))
                return
            try:
                resp = await self._client().post(
                    "/v1/messages/batch",
                    json={"messages": [b for _, b in ready]},
                    headers={"X-Graph-Token": self.token or ""},
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
                for item, _ in ready:  # never reached whatsapp_service: safe to send again later
                    self.results.append(
                        Result(
                            "retry", item, code="whatsapp_service_unreachable", delay=backoff(item.attempts)
                        )
                    )
                return
            except httpx.HTTPError as exc:
                log.warning("campaign.send_ambiguous", error=type(exc).__name__, count=len(ready))
                for item, _ in ready:
                    self.results.append(Result("ambiguous", item, code=type(exc).__name__[:32]))
                return
            if resp.status_code in (404, 405):  # an older whatsapp_service: one request per message
                self.batch_api = False
                await asyncio.gather(*(self._send(item, body) for item, body in ready))
                return
            try:
                data = resp.json()
            except ValueError:
                data = {}
            answers = data.get("results") if isinstance(data, dict) else None
            if resp.status_code != 200 or not isinstance(answers, list) or len(answers) != len(ready):
                for item, _ in ready:  # the whole request was refused: each gets its answer
                    self._outcome(item, resp.status_code, data if isinstance(data, dict) else {})
                return
            for (item, _), answer in zip(ready, answers, strict=True):
                ok = isinstance(answer, dict) and isinstance(answer.get("status"), int)
                self._outcome(item, int(answer["status"]) if ok else 502, answer if ok else {})
        finally:
            self.in_flight -= len(items)

    async def _hand_over(
        self, ready: list[tuple[Claimed, dict[str, Any]]]
    ) -> list[tuple[Claimed, dict[str, Any]]]:
        """Commit `handed_at` on the rows still under this sender's claim; only those are sent.
        A row whose claim changed (requeued by a sender that took over) is left to its new
        owner. If Postgres cannot be reached, nothing was sent: the rows go back to pending."""
        if not ready:
            return []
        try:
            async with self.rt.sessionmaker() as session, session.begin():
                mine = set(
                    (
                        await session.scalars(
                            _HAND,
                            {"ids": [i.id for i, _ in ready], "claims": [i.claimed_at for i, _ in ready]},
                        )
                    ).all()
                )
        except Exception as exc:  # noqa: BLE001 - Postgres away: nothing went out
            log.warning("campaign.hand_over_failed", error=type(exc).__name__, count=len(ready))
            self.results.extend(Result("release", i) for i, _ in ready)
            return []
        if len(mine) < len(ready):
            log.warning("campaign.claims_lost", count=len(ready) - len(mine), account_id=str(self.account_id))
        return [(i, b) for i, b in ready if i.id in mine]

    def _outcome(self, item: Claimed, status: int, data: dict[str, Any]) -> None:
        result = classify(status, data, item)
        if result.code == "130429":
            self.throttle_level += 1
            self.throttled_until = time.monotonic() + min(30.0, 0.5 * 2 ** (self.throttle_level - 1))
            log.warning("campaign.throttled", account_id=str(self.account_id), level=self.throttle_level)
        elif result.kind == "sent" and self.throttle_level:
            self.throttle_level = 0
        self.results.append(result)

    async def _send(self, item: Claimed, body: dict[str, Any]) -> None:
        try:
            resp = await self._client().post(
                "/v1/messages", json=body, headers={"X-Graph-Token": self.token or ""}
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
            # Never reached whatsapp_service: safe to send again later.
            self.results.append(
                Result("retry", item, code="whatsapp_service_unreachable", delay=backoff(item.attempts))
            )
            return
        except httpx.HTTPError as exc:
            # The request may have gone out: never resend blindly (its status webhook or the
            # grace period settles it).
            log.warning("campaign.send_ambiguous", error=type(exc).__name__)
            self.results.append(Result("ambiguous", item, code=type(exc).__name__[:32]))
            return
        try:
            data = resp.json()
        except ValueError:
            data = {}
        self._outcome(item, resp.status_code, data if isinstance(data, dict) else {})

    # -- recording ---------------------------------------------------------------------------

    async def _flush(self) -> None:
        if not self.results:
            return
        batch, self.results = self.results, []
        try:
            await self._record(batch)
        except Exception as exc:  # Postgres blip: keep the outcomes, try again next round
            self.results[:0] = batch
            log.warning("campaign.record_failed", error=type(exc).__name__)
            await asyncio.sleep(0.5)

    async def _record(self, batch: list[Result]) -> None:
        async with self.rt.sessionmaker() as session:
            async with session.begin():
                pauses = await self._write(session, batch)
                for campaign_id, reason in pauses.items():
                    await service.pause_for(session, campaign_id, reason)
                    self.runs.pop(campaign_id, None)
                now = time.monotonic()
                for campaign_id in {r.item.campaign_id for r in batch}:
                    if now - self.progress_at.get(campaign_id, 0.0) >= 1.0 and campaign_id in self.runs:
                        self.progress_at[campaign_id] = now
                        campaign = await session.get(Campaign, campaign_id)
                        if campaign is not None:
                            await service.changed(session, campaign)
            await announce(session, self.rt.redis)

    async def _write(self, session: Any, results: list[Result]) -> dict[uuid.UUID, str]:
        groups: dict[str, list[Result]] = {}
        for r in results:
            groups.setdefault(r.kind, []).append(r)
        pauses: dict[uuid.UUID, str] = {}
        for kind, rows in groups.items():
            ids = [r.item.id for r in rows]
            params: dict[str, Any] = {"ids": ids}
            if kind == "sent":
                params["pids"] = [r.pid for r in rows]
            elif kind in ("failed", "opted_out", "skipped"):
                params["codes"] = [(r.code or "unknown")[:32] for r in rows]
                params["msgs"] = [r.message for r in rows]
            elif kind == "retry":
                params["codes"] = [(r.code or "unknown")[:32] for r in rows]
                params["delays"] = [r.delay for r in rows]
                params["pairs"] = [r.pair for r in rows]
            await session.execute(text(_SET[kind]), params)
            if kind == "sent":
                await self._into_conversations(session, rows)
            for r in rows:
                if kind == "failed" and r.code in TEMPLATE_CODES:
                    pauses[r.item.campaign_id] = f"{TEMPLATE_CODES[r.code]} (Meta {r.code})"
                elif kind == "failed" and r.code in ACCOUNT_CODES:
                    for run_id in self.runs:
                        pauses[run_id] = f"{ACCOUNT_CODES[r.code]} (Meta {r.code})"
            if kind == "opted_out" and self.tenant_id is not None:
                meta = [r for r in rows if r.code == "131050"]
                if meta:
                    customers = await session.scalars(
                        text(
                            "SELECT customer_id FROM campaign_recipients WHERE id = ANY(CAST(:ids AS uuid[]))"
                        ),
                        {"ids": [r.item.id for r in meta]},
                    )
                    for customer_id in customers.all():
                        await reach.record_opt_out(session, self.tenant_id, customer_id)
        return pauses

    async def _into_conversations(self, session: Any, rows: list[Result]) -> None:
        """Write each accepted campaign message into the customer's conversation (opened if none
        is), marked `proactive: campaign`, so a reply lands there with it as context and the AI
        answers. Keyed by Meta's message id: written once, whatever is redelivered."""
        texts, pids, ids = [], [], []
        for r in rows:
            run = self.runs.get(r.item.campaign_id)
            if run is None or not r.pid:
                continue
            ids.append(r.item.id)
            pids.append(r.pid)
            texts.append(templates.fill(run.body, r.item.params))
        if not ids:
            return
        await session.execute(_OPEN_CONVERSATIONS, {"ids": ids, "account": self.account_id})
        convs = (
            await session.execute(_CAMPAIGN_MESSAGES, {"ids": ids, "pids": pids, "texts": texts})
        ).scalars()
        touched = sorted(set(convs.all()))
        if touched:
            await session.execute(_TOUCH_CONVERSATIONS, {"ids": touched})

    async def _sweep(self) -> None:
        grace = self.rt.settings.nexus_outbox_grace_seconds
        async with self.rt.sessionmaker() as session, session.begin():
            unhanded = (
                await session.execute(_UNHANDED, {"account": self.account_id, "since": self.started})
            ).all()
        if unhanded:
            log.warning("campaign.requeued_unhanded", count=len(unhanded), account_id=str(self.account_id))
        async with self.rt.sessionmaker() as session, session.begin():
            if await session.scalar(_STATUSES_WAITING):
                return  # a status still in the queue may be the one that settles a row
            rows = (
                await session.execute(
                    _STALE, {"account": self.account_id, "since": self.started, "grace": grace}
                )
            ).all()
        if rows:
            log.warning("campaign.requeued_stale", count=len(rows), account_id=str(self.account_id))

    async def _error_rate(self) -> None:
        for campaign_id in list(self.runs):
            async with self.rt.sessionmaker() as session:
                failed, total = (await session.execute(_ERROR_RATE, {"campaign": campaign_id})).one()
            if failed >= ERROR_MIN and failed / max(total, 1) >= ERROR_RATE:
                await self._pause(
                    campaign_id,
                    f"error-rate spike: {failed} of the last {total} sends failed within a minute",
                )


async def supervise(rt: Runtime, interval: float = 1.0) -> None:
    """Per replica: start due scheduled campaigns and a sender for each number with work."""
    senders: dict[uuid.UUID, asyncio.Task[None]] = {}
    while True:
        try:
            async with rt.sessionmaker() as session:
                async with session.begin():
                    await service.start_due(session)
                await announce(session, rt.redis)
                accounts = (
                    await session.scalars(
                        select(func.distinct(Campaign.channel_account_id)).where(
                            Campaign.status == "running", Campaign.channel_account_id.is_not(None)
                        )
                    )
                ).all()
            for account_id in accounts:
                task = senders.get(account_id)
                if task is None or task.done():
                    senders[account_id] = asyncio.create_task(AccountSender(rt, account_id).run())
        except asyncio.CancelledError:
            for task in senders.values():
                task.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - Postgres away: try again next round
            log.warning("campaign.supervisor_failed", error=type(exc).__name__)
        await asyncio.sleep(interval)
