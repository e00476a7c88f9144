"""Worker side of an inbound webhook: customer, identity, conversation, message; statuses.

Runs under the conversation's procrastinate lock, so one person's messages are stored one at a
time and in the order they were acknowledged. Every write is idempotent: a redelivered provider
message id inserts nothing, a status never moves backwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..consent import service as consent
from ..conversations.events import conversation_data, message_data
from ..events.publisher import publish
from ..jobs import defer, names
from ..models import ChannelIdentity, ChatConversation, ChatMessage, Customer, InboundEvent
from . import consent_keywords, send_errors
from . import trace as hop_trace
from .accounts import Account, cached_account, find_account
from .parsing import (
    InboundMessage,
    ParsedWebhook,
    PreferenceUpdate,
    StatusUpdate,
    parse_meta,
    parse_whatsapp,
)

log = structlog.get_logger("orchestrator.pipeline.ingest")

STATUS_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4, "failed": 5}
# Messages that never start an AI turn on their own.
SILENT_TYPES = ("reaction", "consent")


def parse_event(source: str, payload: Any) -> ParsedWebhook:
    return parse_whatsapp(payload) if source == "whatsapp" else parse_meta(payload)


async def upsert_customer(
    session: AsyncSession, tenant_id: uuid.UUID, m: InboundMessage | PreferenceUpdate, now: datetime
) -> Customer:
    ident = await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.tenant_id == tenant_id,
            ChannelIdentity.channel == m.channel,
            ChannelIdentity.external_id == m.contact_key,
        )
    )
    if ident is not None:
        customer = await session.get(Customer, ident.customer_id)
        assert customer is not None
        if m.name and not customer.name:
            customer.name = m.name
        if m.name and ident.display_name != m.name:
            ident.display_name = m.name
        customer.last_seen_at = now
        return customer
    customer = None
    if m.phone_e164:
        # Known from another channel or from the store (Tienda Nube) by the same phone.
        customer = await session.scalar(
            select(Customer)
            .where(Customer.tenant_id == tenant_id, Customer.phone_number == m.phone_e164)
            .order_by(Customer.created_at)
            .limit(1)
        )
    if customer is None:
        customer = Customer(tenant_id=tenant_id, phone_number=m.phone_e164, name=m.name, last_seen_at=now)
        session.add(customer)
        await session.flush()
    await session.execute(
        insert(ChannelIdentity)
        .values(
            tenant_id=tenant_id,
            customer_id=customer.id,
            channel=m.channel,
            external_id=m.contact_key,
            display_name=m.name,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "channel", "external_id"])
    )
    return customer


async def live_conversation(
    session: AsyncSession, account: Account, customer: Customer, channel: str
) -> ChatConversation:
    q = (
        select(ChatConversation)
        .where(
            ChatConversation.tenant_id == account.tenant_id,
            ChatConversation.customer_id == customer.id,
            ChatConversation.channel == channel,
            ChatConversation.status != "resolved",
        )
        .with_for_update()
    )
    conv = await session.scalar(q)
    if conv is not None:
        return conv
    # A new conversation comes back from its INSERT; only a concurrent insert's row is read again.
    created = await session.scalar(
        insert(ChatConversation)
        .values(
            tenant_id=account.tenant_id,
            customer_id=customer.id,
            channel_account_id=account.id,
            channel=channel,
        )
        .on_conflict_do_nothing(
            index_elements=["tenant_id", "customer_id", "channel"], index_where=text("status <> 'resolved'")
        )
        .returning(ChatConversation)
    )
    if created is not None:
        return created
    conv = await session.scalar(q)
    assert conv is not None
    return conv


async def store_messages(
    session: AsyncSession,
    account: Account,
    items: list[InboundMessage],
    debounce: float,
    trace: hop_trace.Trace | None = None,
) -> tuple[ChatConversation, list[ChatMessage]]:
    """Store one contact's messages; defer the (debounced) turn when something new arrived."""
    now = datetime.now(UTC)
    customer = await upsert_customer(session, account.tenant_id, items[0], now)
    conv = await live_conversation(session, account, customer, items[0].channel)
    stored: list[ChatMessage] = []
    for m in items:
        # RETURNING the row itself: no second round trip to load what was just written.
        msg = await session.scalar(
            insert(ChatMessage)
            .values(
                tenant_id=account.tenant_id,
                conversation_id=conv.id,
                channel=m.channel,
                direction="inbound",
                sender="customer",
                provider_message_id=m.provider_message_id,
                # An opt-out/opt-in keyword is stored as a silent `consent` message (never to the AI).
                type=consent_keywords.CONSENT_TYPE if consent_keywords.intent_of(m.type, m.text) else m.type,
                text=m.text,
                media=m.media,
                payload=m.payload,
                status="received",
                provider_timestamp=m.timestamp,
                created_at=func.clock_timestamp(),
            )
            .on_conflict_do_nothing(index_elements=["channel", "provider_message_id"])
            .returning(ChatMessage)
        )
        if msg is None:
            continue  # redelivered: already stored, already answered (or about to be)
        stored.append(msg)
        await publish(session, account.tenant_id, "message.created", message_data(msg))
        if msg.type == consent_keywords.CONSENT_TYPE:
            await consent_keywords.handle(session, customer, conv, msg)
    if not stored:
        return conv, stored
    conv.last_message_at = stored[-1].created_at
    conv.last_inbound_at = now
    conv.unread_count = conv.unread_count + len(stored)
    await session.flush()
    await publish(session, account.tenant_id, "conversation.updated", conversation_data(conv))
    if any(m.type not in SILENT_TYPES for m in stored) and not conv.ai_paused and conv.status == "open":
        hop_trace.mark(trace, "ingest_done")
        await defer(
            session,
            names.TURN,
            {"conversation_id": str(conv.id), **({"trace": trace} if trace else {})},
            at=now + timedelta(seconds=debounce) if debounce > 0 else None,
            **names.turn_locks(conv.id),
        )
    return conv, stored


# Statuses of messages sent outside a conversation's outbox (campaigns) belong to the domain that
# sent them: it registers (claims, apply) at import and gets them in bulk, per tenant.
StatusClaim = Callable[[StatusUpdate], bool]
StatusApply = Callable[[AsyncSession, uuid.UUID, list[StatusUpdate]], Awaitable[object]]
_STATUS_HOOKS: list[tuple[StatusClaim, StatusApply]] = []


def register_status_hook(claims: StatusClaim, apply: StatusApply) -> None:
    if all(c is not claims for c, _ in _STATUS_HOOKS):
        _STATUS_HOOKS.append((claims, apply))


def _rank_sql() -> Any:
    return case(STATUS_RANK, value=ChatMessage.status, else_=-1)


async def apply_status(session: AsyncSession, tenant_id: uuid.UUID, st: StatusUpdate) -> bool:
    """Apply one delivery status monotonically (sent < delivered < read; failed is final)."""
    rank = STATUS_RANK.get(st.status)
    if rank is None or rank < STATUS_RANK["sent"]:
        return False  # "played", "deleted", unknown: nothing to record
    values: dict[str, Any] = {"status": st.status}
    if st.status == "failed":
        values["error_code"] = (st.error_code or "unknown")[:32]
        values["error_message"] = st.error_message
    base = [
        ChatMessage.tenant_id == tenant_id,
        ChatMessage.direction == "outbound",
        ChatMessage.channel == st.channel,
        _rank_sql() < rank,
    ]
    row = (
        await session.execute(
            update(ChatMessage)
            .where(ChatMessage.provider_message_id == st.provider_message_id, *base)
            .values(**values, next_attempt_at=None)
            .returning(ChatMessage.id, ChatMessage.conversation_id)
        )
    ).first()
    if row is None and st.callback_data:
        # The send's response was lost (crash or timeout): the status names our outbox row.
        try:
            outbox_id = uuid.UUID(st.callback_data)
        except ValueError:
            outbox_id = None
        if outbox_id is not None:
            row = (
                await session.execute(
                    update(ChatMessage)
                    .where(ChatMessage.id == outbox_id, ChatMessage.provider_message_id.is_(None), *base)
                    .values(**values, provider_message_id=st.provider_message_id, next_attempt_at=None)
                    .returning(ChatMessage.id, ChatMessage.conversation_id)
                )
            ).first()
    if row is None:
        return False
    if st.status == "failed" and st.error_code in send_errors.ACTIONABLE:
        # Meta's asynchronous verdict (131047 → template, 131050 → opt-out, ...).
        failed = await session.get(ChatMessage, row.id, with_for_update=True)
        if failed is not None and await send_errors.on_final_failure(session, failed, st.error_code):
            return True
    await publish(
        session,
        tenant_id,
        "message.status",
        {
            "message_id": str(row.id),
            "conversation_id": str(row.conversation_id),
            "status": st.status,
            "error_code": values.get("error_code"),
        },
    )
    return True


async def apply_preference(session: AsyncSession, account: Account, pref: PreferenceUpdate) -> None:
    """The user stopped or resumed the business's marketing messages in WhatsApp's own settings:
    recorded like their keyword (history, shown to staff; source `meta`). Meta already told the
    user, so no confirmation is sent. A change older than the consent on record (a late or
    reordered delivery) does not override it."""
    now = datetime.now(UTC)
    customer = await upsert_customer(session, account.tenant_id, pref, now)
    when = pref.timestamp or now
    current = await consent.get(session, account.tenant_id, customer.id, pref.channel)
    if current.at is not None and when < current.at:
        log.info("consent.preference_stale", tenant_id=str(account.tenant_id), value=pref.value)
        return
    state: consent.State = "opted_out" if pref.value == "stop" else "opted_in"
    changed = await consent.record(
        session,
        account.tenant_id,
        customer.id,
        state,
        "meta",
        channel=pref.channel,
        actor="whatsapp:user_preferences",
        at=when,
    )
    log.info("consent.preference", tenant_id=str(account.tenant_id), state=state, changed=changed)


async def process(
    session: AsyncSession,
    event_id: uuid.UUID,
    *,
    channel: str | None,
    account_external_id: str | None,
    contact: str | None,
    statuses: bool,
    debounce: float,
    trace: hop_trace.Trace | None = None,
) -> None:
    ev = await session.get(InboundEvent, event_id, with_for_update=True)
    if ev is None:
        return
    parsed = parse_event(ev.source, ev.payload)
    ev.attempts += 1
    if statuses:
        accounts: dict[tuple[str, str], Account | None] = {}
        hooked: dict[tuple[int, uuid.UUID], list[StatusUpdate]] = {}
        for st in parsed.statuses:
            key = (st.channel, st.account_id)
            if key not in accounts:
                accounts[key] = await find_account(session, *key)
            acc = accounts[key]
            if acc is None:
                continue
            hook = next((i for i, (claims, _) in enumerate(_STATUS_HOOKS) if claims(st)), None)
            if hook is not None:
                hooked.setdefault((hook, acc.tenant_id), []).append(st)  # applied in bulk below
            else:
                await apply_status(session, acc.tenant_id, st)
        for (hook, tenant_id), batch in hooked.items():
            await _STATUS_HOOKS[hook][1](session, tenant_id, batch)
    else:
        assert channel and account_external_id and contact
        items = [
            m
            for m in parsed.messages
            if m.channel == channel and m.account_id == account_external_id and m.contact_key == contact
        ]
        prefs = [
            p
            for p in parsed.preferences
            if p.channel == channel and p.account_id == account_external_id and p.contact_key == contact
        ]
        # The webhook that queued this job has just put the account in this replica's cache.
        hit = cached_account(channel, account_external_id)
        account = hit[0] if hit else await find_account(session, channel, account_external_id)
        if account is None or not (items or prefs):
            ev.state = "ignored"
            ev.processed_at = datetime.now(UTC)
            return
        for pref in prefs:
            await apply_preference(session, account, pref)
        if items:
            await store_messages(session, account, items, debounce, trace)
    ev.state = "done"
    ev.processed_at = datetime.now(UTC)
