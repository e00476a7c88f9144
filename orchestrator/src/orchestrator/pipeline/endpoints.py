"""Meta webhooks: verify → store the raw event → enqueue → 200 (DESIGN.md §3, §5.1).

`X-Hub-Signature-256` is an HMAC of the raw body bytes with the app secret of the channel
account the body is addressed to; it is checked in constant time on the bytes as received (the
JSON is decoded only to read which account that is, and nothing is stored or acted on before the
check passes). The event row and its jobs commit in one transaction before the 200: nothing is
acknowledged that is not stored, and a Postgres outage answers 503 so Meta retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from nexus_common.errors import BadRequest, Forbidden, ServiceUnavailable, Unauthorized
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..jobs import defer_many, names
from ..models import InboundEvent
from ..rejections import service as rejections
from .accounts import Account, account_with_app_secret, accounts_of_wabas, verify_token_matches
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


def signature_ok(raw: bytes, secret: str, header_hex: str) -> bool:
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header_hex.lower())


async def receive(request: Request, source: str, parse: Callable[[Any], ParsedWebhook]) -> dict[str, str]:
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    crypto = request.app.state.settings.crypto
    header = request.headers.get("x-hub-signature-256", "")
    raw = await request.body()
    m = _SIG.match(header)
    if m is None:
        await rejections.count(maker, source, "signature missing or malformed")
        raise Unauthorized("missing or malformed X-Hub-Signature-256")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body is not valid JSON", code="malformed_json") from None
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
        async with maker() as session:
            accounts: dict[tuple[str, str], Account] = {}
            for channel, external_id in sorted(parsed.channel_accounts):
                found = await account_with_app_secret(session, crypto, channel, external_id)
                if found is None:
                    await session.rollback()
                    await rejections.count(maker, source, f"unknown {channel} account")
                    raise Unauthorized("signature cannot be verified for this account")
                account, secret = found
                if not signature_ok(raw, secret, m.group(1)):
                    await session.rollback()
                    await rejections.count(maker, source, "signature mismatch")
                    raise Unauthorized("invalid X-Hub-Signature-256")
                accounts[(channel, external_id)] = account
            await session.rollback()  # the lookups are done; the write goes with its batch
        await group_commit(request).submit(PendingEvent(source, raw, data, parsed, accounts))
    except (Unauthorized, BadRequest):
        raise
    except Exception as exc:
        if is_db_unavailable(exc):
            log.warning("webhook.postgres_unavailable", source=source, error=type(exc).__name__)
            raise ServiceUnavailable(
                "storage unavailable, retry later", headers={"Retry-After": "5"}
            ) from None
        raise
    return {"status": "received"}


@dataclass
class PendingEvent:
    source: str
    raw: bytes
    data: Any
    parsed: ParsedWebhook
    accounts: dict[tuple[str, str], Account]


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


async def store_batch(session: AsyncSession, events: list[PendingEvent]) -> list[uuid.UUID | None]:
    """Insert raw events and their jobs in the caller's transaction: three statements for the
    whole batch. Returns each event's id, or None for a body already stored (a redelivery)."""
    rows = []
    for ev in events:
        tenants = {a.tenant_id for a in ev.accounts.values()}
        rows.append(
            {
                "tenant_id": next(iter(tenants)) if len(tenants) == 1 else None,
                "source": ev.source,
                "body_sha256": hashlib.sha256(ev.raw).hexdigest(),
                "payload": ev.data,
                # Nothing to process (echoes, receipts, other fields): stored for the record only.
                "state": "pending"
                if ev.parsed.messages
                or ev.parsed.statuses
                or ev.parsed.template_updates
                or ev.parsed.preferences
                else "ignored",
            }
        )
    # One cached statement run as "insertmanyvalues" (batched VALUES), not a fresh compile per size.
    inserted = (
        await session.execute(
            insert(InboundEvent)
            .on_conflict_do_nothing(index_elements=["source", "body_sha256"])
            .returning(InboundEvent.id, InboundEvent.source, InboundEvent.body_sha256),
            rows,
        )
    ).all()
    ids = {(r.source, r.body_sha256): r.id for r in inserted}
    out: list[uuid.UUID | None] = []
    jobs: list[dict[str, Any]] = []
    for ev, row in zip(events, rows, strict=True):
        # The same body twice in one batch: the first occurrence owns the row and the jobs.
        event_id = ids.pop((row["source"], row["body_sha256"]), None)
        out.append(event_id)
        if event_id is not None:
            jobs.extend(_jobs_for(event_id, ev))
    await defer_many(session, jobs)
    return out


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

    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self.maker = maker
        self.pending: list[tuple[PendingEvent, asyncio.Future[uuid.UUID | None]]] = []
        self.lock = asyncio.Lock()

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
            async with self.maker() as session, session.begin():
                ids = await store_batch(session, [ev for ev, _ in batch])
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


def group_commit(request: Request) -> GroupCommit:
    gc: GroupCommit | None = getattr(request.app.state, "webhook_group_commit", None)
    if gc is None:
        gc = GroupCommit(request.app.state.sessionmaker)
        request.app.state.webhook_group_commit = gc
    return gc


@router.post("/webhooks/whatsapp")
async def whatsapp_webhook(request: Request) -> dict[str, str]:
    """WhatsApp Cloud API events (messages and statuses), signed with `X-Hub-Signature-256`."""
    return await receive(request, "whatsapp", parse_whatsapp)


@router.post("/webhooks/meta")
async def meta_webhook(request: Request) -> dict[str, str]:
    """Instagram and Messenger events (`entry[].messaging[]`), signed with `X-Hub-Signature-256`."""
    return await receive(request, "meta", parse_meta)


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
