"""Meta webhooks: verify → store the raw event → enqueue → 200 (DESIGN.md §3, §5.1).

`X-Hub-Signature-256` is an HMAC of the raw body bytes with the app secret of the channel
account the body is addressed to; it is checked in constant time on the bytes as received (the
JSON is decoded only to read which account that is, and nothing is stored or acted on before the
check passes). The event row and its jobs commit in one transaction before the 200: nothing is
acknowledged that is not stored, and a Postgres outage answers 503 so Meta retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from nexus_common.errors import BadRequest, Forbidden, ServiceUnavailable, Unauthorized
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from ..jobs import JOBS_SCHEMA, names
from ..rejections import service as rejections
from .accounts import (
    Account,
    accounts_of_wabas,
    cached_account,
    load_account,
    verify_token_matches,
)
from .dbutil import is_db_unavailable
from .parsing import (
    InboundMessage,
    ParsedWebhook,
    PreferenceUpdate,
    UnknownShape,
    parse_meta,
    parse_whatsapp,
)

log = structlog.get_logger("orchestrator.webhooks")

router = APIRouter(tags=["webhooks"])

_SIG = re.compile(r"^sha256=([0-9a-fA-F]{64})$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def without_nul(value: Any) -> Any:
    """`value` with every U+0000 removed from its strings (keys included)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    return value


def signature_ok(raw: bytes, secret: str, header_hex: str) -> bool:
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header_hex.lower())


async def receive(
    state: Any, source: str, parse: Callable[[Any], ParsedWebhook], header: str, raw: bytes
) -> None:
    """Verify, store and enqueue one webhook body; returns once it is durable (raises a
    NexusError for 400/401/503). `state` is the app's state (sessionmaker, engine, settings)."""
    received = time.time()
    maker: async_sessionmaker[AsyncSession] = state.sessionmaker
    crypto = state.settings.crypto
    m = _SIG.match(header)
    if m is None:
        await rejections.count(maker, source, "signature missing or malformed")
        raise Unauthorized("missing or malformed X-Hub-Signature-256")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body is not valid JSON", code="malformed_json") from None
    # Postgres text and jsonb cannot hold U+0000: a message carrying one would fail the whole
    # group-commit batch (503 for every webhook in it, again on each of Meta's redeliveries).
    nul_free = b"\\u0000" not in raw
    if not nul_free:
        data = without_nul(data)
    try:
        parsed = parse(data)
    except UnknownShape as exc:
        raise BadRequest(f"unknown webhook shape: {exc}", code="unknown_shape") from None
    if parsed.template_updates and not parsed.channel_accounts:
        # Template webhooks are addressed to the WABA: verify with its numbers' app secret.
        try:
            async with maker() as session:
                parsed.channel_accounts |= await accounts_of_wabas(
                    session, {u.waba_id for u in parsed.template_updates}
                )
        except Exception as exc:
            if is_db_unavailable(exc):
                raise ServiceUnavailable(
                    "storage unavailable, retry later", headers={"Retry-After": "5"}
                ) from None
            raise
        if not parsed.channel_accounts:
            await rejections.count(maker, source, "unknown WhatsApp Business Account")
            raise Unauthorized("signature cannot be verified for this account")
    if not parsed.channel_accounts:
        raise BadRequest("unknown webhook shape: no channel account", code="unknown_shape")
    try:
        accounts: dict[tuple[str, str], Account] = {}
        for channel, external_id in sorted(parsed.channel_accounts):
            # The cache answers almost every request: a session is opened only on a miss.
            found = cached_account(channel, external_id) or await load_account(
                maker, crypto, channel, external_id
            )
            if found is None:
                await rejections.count(maker, source, f"unknown {channel} account")
                raise Unauthorized("signature cannot be verified for this account")
            account, secret = found
            if not signature_ok(raw, secret, m.group(1)):
                await rejections.count(maker, source, "signature mismatch")
                raise Unauthorized("invalid X-Hub-Signature-256")
            accounts[(channel, external_id)] = account
        try:
            text_body: str | None = raw.decode("utf-8") if nul_free else None
        except UnicodeDecodeError:
            text_body = None  # JSON in UTF-16/32: stored as re-serialised
        await group_commit(state).submit(
            PendingEvent(source, raw, data, parsed, accounts, text_body, received)
        )
    except (Unauthorized, BadRequest):
        raise
    except Exception as exc:
        if is_db_unavailable(exc):
            log.warning("webhook.postgres_unavailable", source=source, error=type(exc).__name__)
            raise ServiceUnavailable(
                "storage unavailable, retry later", headers={"Retry-After": "5"}
            ) from None
        raise


async def receive_request(
    request: Request, source: str, parse: Callable[[Any], ParsedWebhook]
) -> dict[str, str]:
    raw = await request.body()
    await receive(request.app.state, source, parse, request.headers.get("x-hub-signature-256", ""), raw)
    return {"status": "received"}


@dataclass
class PendingEvent:
    source: str
    raw: bytes
    data: Any
    parsed: ParsedWebhook
    accounts: dict[tuple[str, str], Account]
    # The body as JSON text for the jsonb column (the webhook's own bytes; None: serialise `data`).
    payload_text: str | None = None
    # When the webhook arrived (time.time()): the first mark of the reply's trace (trace.py).
    received: float | None = None


def _jobs_for(event_id: uuid.UUID, ev: PendingEvent) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    # A contact's messages and marketing preferences run under its conversation's lock (one
    # customer record, changes in the order they were acknowledged).
    contacts: list[InboundMessage | PreferenceUpdate] = [*ev.parsed.messages, *ev.parsed.preferences]
    for msg in contacts:
        key = (msg.channel, msg.account_id, msg.contact_key)
        if key in seen:
            continue
        seen.add(key)
        tenant_id = ev.accounts[(msg.channel, msg.account_id)].tenant_id
        jobs.append(
            {
                "task": names.INGEST,
                "args": {
                    "event_id": str(event_id),
                    "channel": msg.channel,
                    "account": msg.account_id,
                    "contact": msg.contact_key,
                    **({"trace": {"received": ev.received}} if ev.received is not None else {}),
                },
                "lock": names.conversation_key(tenant_id, msg.channel, msg.contact_key),
            }
        )
    if ev.parsed.statuses:
        jobs.append({"task": names.INGEST, "args": {"event_id": str(event_id), "statuses": True}})
    if ev.parsed.template_updates:
        tenants = sorted({str(a.tenant_id) for a in ev.accounts.values()})
        jobs.append(
            {
                "task": names.TEMPLATES_APPLY_WEBHOOK,
                "args": {"event_id": str(event_id), "tenant_ids": tenants},
            }
        )
    return jobs


# One statement for a whole batch: the raw events (a redelivered body is skipped by the unique
# key) and the jobs of the events that were inserted, with their NOTIFYs, in one implicit
# transaction. Event ids are made here, so a job names its event before the row exists; the
# `ORDER BY n` keeps job ids in acknowledgement order (one person's messages run in that order).
# Events go in in key order: the batches of two replicas that both carry the same redelivered
# bodies take their unique-index entries in the same order, so they cannot deadlock on each other.
_STORE = text(
    f"""
    WITH ins AS (
        INSERT INTO inbound_events (id, tenant_id, source, body_sha256, payload, state)
        SELECT e.id, e.tenant_id, e.source, e.sha, e.payload::jsonb, e.state
        FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:sources AS text[]),
                    CAST(:shas AS text[]), CAST(:payloads AS text[]), CAST(:states AS text[]))
             WITH ORDINALITY AS e(id, tenant_id, source, sha, payload, state, n)
        ORDER BY e.source, e.sha, e.n
        ON CONFLICT (source, body_sha256) DO NOTHING
        RETURNING id
    ), jobs AS (
        SELECT {JOBS_SCHEMA}.nexus_defer_job(j.task, j.lock, j.qlock, j.args::jsonb, NULL, 0) AS job
        FROM unnest(CAST(:job_events AS uuid[]), CAST(:tasks AS text[]), CAST(:locks AS text[]),
                    CAST(:qlocks AS text[]), CAST(:args AS text[]))
             WITH ORDINALITY AS j(event_id, task, lock, qlock, args, n)
        WHERE j.event_id IN (SELECT id FROM ins)
        ORDER BY j.n
    )
    SELECT array(SELECT id FROM ins) AS ids, (SELECT count(*) FROM jobs) AS jobs
    """  # noqa: S608 - a constant schema name, every value is a bind parameter
)


async def store_batch(
    conn: AsyncSession | AsyncConnection, events: list[PendingEvent]
) -> list[uuid.UUID | None]:
    """Store raw events and queue their jobs with one statement, in the caller's transaction (or
    as its own when the connection autocommits). Returns each event's id, or None for a body
    already stored (a redelivery; within the batch the first occurrence owns the row)."""
    ids: list[uuid.UUID] = []
    rows: dict[str, list[Any]] = {k: [] for k in ("ids", "tenants", "sources", "shas", "payloads", "states")}
    jobs: dict[str, list[Any]] = {k: [] for k in ("job_events", "tasks", "locks", "qlocks", "args")}
    for ev in events:
        event_id = uuid.uuid4()
        ids.append(event_id)
        tenants = {a.tenant_id for a in ev.accounts.values()}
        rows["ids"].append(event_id)
        rows["tenants"].append(next(iter(tenants)) if len(tenants) == 1 else None)
        rows["sources"].append(ev.source)
        rows["shas"].append(hashlib.sha256(ev.raw).hexdigest())
        rows["payloads"].append(ev.payload_text if ev.payload_text is not None else json.dumps(ev.data))
        # Nothing to process (echoes, receipts, other fields): stored for the record only.
        rows["states"].append(
            "pending"
            if ev.parsed.messages or ev.parsed.statuses or ev.parsed.template_updates or ev.parsed.preferences
            else "ignored"
        )
        for job in _jobs_for(event_id, ev):
            jobs["job_events"].append(event_id)
            jobs["tasks"].append(job["task"])
            jobs["locks"].append(job.get("lock"))
            jobs["qlocks"].append(job.get("queueing_lock"))
            jobs["args"].append(json.dumps(job["args"]))
    result = (await conn.execute(_STORE, {**rows, **jobs})).one()
    stored = set(result.ids)
    return [i if i in stored else None for i in ids]


async def store_and_enqueue(
    session: AsyncSession,
    source: str,
    raw: bytes,
    data: Any,
    parsed: ParsedWebhook,
    accounts: dict[tuple[str, str], Account],
) -> uuid.UUID | None:
    """One event, in the caller's transaction (None: a duplicate body)."""
    return (await store_batch(session, [PendingEvent(source, raw, data, parsed, accounts)]))[0]


class GroupCommit:
    """Concurrent webhooks share one transaction (one WAL flush) instead of one each.

    Each request appends its event and waits; whoever holds the lock commits everything pending
    and resolves every waiter. A waiter is answered only after the commit that holds its row, so
    nothing is acknowledged that is not stored; if the commit fails, every waiter gets the error
    (→ 503). No background task: the flush runs in a request, shielded from its cancellation.
    """

    MAX_BATCH = 256

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.pending: list[tuple[PendingEvent, asyncio.Future[uuid.UUID | None]]] = []
        self.lock = asyncio.Lock()
        # One connection of its own, kept between batches: a pool checkout costs a pre-ping round
        # trip per batch (py-spy: ~11% of the ack path). `conn_lock` keeps one statement on it
        # at a time even when a cancelled request left its (shielded) flush running.
        self.conn: AsyncConnection | None = None
        self.conn_lock = asyncio.Lock()

    async def submit(self, ev: PendingEvent) -> uuid.UUID | None:
        fut: asyncio.Future[uuid.UUID | None] = asyncio.get_running_loop().create_future()
        self.pending.append((ev, fut))
        async with self.lock:
            while not fut.done():
                batch, self.pending = self.pending[: self.MAX_BATCH], self.pending[self.MAX_BATCH :]
                await asyncio.shield(asyncio.ensure_future(self._flush(batch)))
        return await fut

    async def _flush(self, batch: list[tuple[PendingEvent, asyncio.Future[uuid.UUID | None]]]) -> None:
        try:
            async with self.conn_lock:
                if self.conn is None:
                    # Checked out with a pre-ping; autocommit: the batch is one statement, which
                    # Postgres commits (synchronous_commit on) before it answers. No ORM session,
                    # no BEGIN/COMMIT round trips.
                    conn = await self.engine.connect()
                    self.conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                try:
                    ids = await store_batch(self.conn, [ev for ev, _ in batch])
                except BaseException:
                    # Broken or not, start the next batch on a fresh connection (→ 503 for this
                    # one; a body that was committed after all is deduplicated when Meta retries).
                    await self._drop()
                    raise
        except BaseException as exc:
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, fut), event_id in zip(batch, ids, strict=True):
            if not fut.done():
                fut.set_result(event_id)

    async def _drop(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()

    async def close(self) -> None:
        """Give the connection back (app shutdown, before the engine is disposed)."""
        async with self.conn_lock:
            conn, self.conn = self.conn, None
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()


def group_commit(state: Any) -> GroupCommit:
    gc: GroupCommit | None = getattr(state, "webhook_group_commit", None)
    if gc is None:
        gc = GroupCommit(state.engine)
        state.webhook_group_commit = gc
    return gc


@router.post("/webhooks/whatsapp")
async def whatsapp_webhook(request: Request) -> dict[str, str]:
    """WhatsApp Cloud API events (messages and statuses), signed with `X-Hub-Signature-256`."""
    return await receive_request(request, "whatsapp", parse_whatsapp)


@router.post("/webhooks/meta")
async def meta_webhook(request: Request) -> dict[str, str]:
    """Instagram and Messenger events (`entry[].messaging[]`), signed with `X-Hub-Signature-256`."""
    return await receive_request(request, "meta", parse_meta)


async def handshake(
    request: Request, prefix: str, mode: str, token: str, challenge: str, account: str | None
):
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    crypto = request.app.state.settings.crypto
    if mode != "subscribe" or not token or not _CHALLENGE.match(challenge):
        raise Forbidden("verification failed")
    try:
        async with maker() as session:
            matched = await verify_token_matches(session, crypto, prefix, token, account)
    except Exception as exc:
        if is_db_unavailable(exc):
            raise ServiceUnavailable("storage unavailable, retry later") from None
        raise
    if not matched:
        raise Forbidden("verification failed")
    return PlainTextResponse(challenge)


HubMode = Annotated[str, Query(alias="hub.mode")]
HubToken = Annotated[str, Query(alias="hub.verify_token")]
HubChallenge = Annotated[str, Query(alias="hub.challenge")]


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse)
async def whatsapp_handshake(
    request: Request,
    mode: HubMode = "",
    token: HubToken = "",
    challenge: HubChallenge = "",
    account: str | None = None,
) -> PlainTextResponse:
    """Meta's verification handshake: echoes `hub.challenge` when `hub.verify_token` matches a
    tenant's WhatsApp verify token (optionally `?account=<phone_number_id>`); otherwise 403."""
    return await handshake(request, "whatsapp", mode, token, challenge, account)


@router.get("/webhooks/meta", response_class=PlainTextResponse)
async def meta_handshake(
    request: Request,
    mode: HubMode = "",
    token: HubToken = "",
    challenge: HubChallenge = "",
    account: str | None = None,
) -> PlainTextResponse:
    """The same handshake for Instagram / Messenger (`meta_verify_token`)."""
    return await handshake(request, "meta", mode, token, challenge, account)
