"""The privacy webhooks (LGPD / Argentina's Ley 25.326): erase or export a customer's data.

An export holds the customer rows with their identities, conversations, consent (current, history)
and the proactive messages sent to them, plus the abandoned checkouts that name them.

What a customer is here: every `customers` row of the tenant matched by the Tienda Nube customer
id, the e-mail, or the phone (any E.164 spelling of it). Erasing deletes those rows, which
cascades to their channel identities, conversations, messages and agent runs; raw inbound
webhook bodies that carry their WhatsApp id; and their cached order lookups. Every request ends
with an audit entry saying what was done (counts, never the data).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ...audit import service as audit
from ...config import Settings
from ...db import rowcount
from ...models import (
    AbandonedCheckout,
    CatalogSync,
    ChannelIdentity,
    ChatConversation,
    ChatMessage,
    ConsentEvent,
    Credential,
    Customer,
    CustomerConsent,
    Event,
    InboundEvent,
    ProactiveMessage,
    Product,
    Tenant,
)
from ...phones import match_keys
from . import orders

log = structlog.get_logger("orchestrator.tiendanube.privacy")


async def _region(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    settings = await session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    return str((settings.get("tiendanube") or {}).get("country") or "AR")


async def matching_customers(
    session: AsyncSession, tenant_id: uuid.UUID, person: dict[str, Any]
) -> list[uuid.UUID]:
    conds = []
    tn_id = person.get("id")
    if isinstance(tn_id, int) and tn_id > 0:
        conds.append(Customer.tiendanube_customer_id == tn_id)
    email = person.get("email")
    if isinstance(email, str) and "@" in email:
        conds.append(func.lower(Customer.email) == email.strip().lower())
    phone = person.get("phone")
    phones = (
        match_keys(phone, default_region=await _region(session, tenant_id))
        if isinstance(phone, str)
        else set()
    )
    if phones:
        conds.append(Customer.phone_number.in_(phones))
        conds.append(
            Customer.id.in_(
                select(ChannelIdentity.customer_id).where(
                    ChannelIdentity.tenant_id == tenant_id,
                    ChannelIdentity.channel == "whatsapp",
                    ChannelIdentity.external_id.in_([p.lstrip("+") for p in phones]),
                )
            )
        )
    if not conds:
        return []
    return list(
        (await session.scalars(select(Customer.id).where(Customer.tenant_id == tenant_id, or_(*conds)))).all()
    )


async def _wa_ids(session: AsyncSession, customer_ids: list[uuid.UUID]) -> list[str]:
    return list(
        (
            await session.scalars(
                select(ChannelIdentity.external_id).where(ChannelIdentity.customer_id.in_(customer_ids))
            )
        ).all()
    )


async def redact_customer(
    session: AsyncSession, tenant_id: uuid.UUID, payload: dict[str, Any]
) -> dict[str, int]:
    person: dict[str, Any] = found if isinstance(found := payload.get("customer"), dict) else {}
    ids = await matching_customers(session, tenant_id, person)
    counts = {"customers": len(ids), "identities": 0, "conversations": 0, "messages": 0, "raw_events": 0}
    if ids:
        counts["messages"] = (
            await session.scalar(
                select(func.count())
                .select_from(ChatMessage)
                .join(ChatConversation, ChatConversation.id == ChatMessage.conversation_id)
                .where(ChatConversation.customer_id.in_(ids))
            )
            or 0
        )
        counts["conversations"] = (
            await session.scalar(
                select(func.count())
                .select_from(ChatConversation)
                .where(ChatConversation.customer_id.in_(ids))
            )
            or 0
        )
        external_ids = await _wa_ids(session, ids)
        counts["identities"] = len(external_ids)
        # Raw webhook bodies that name them (their channel id appears in the body).
        ext = [e for e in external_ids if len(e) >= 6]
        if ext:
            res = await session.execute(
                delete(InboundEvent).where(
                    InboundEvent.tenant_id == tenant_id,
                    InboundEvent.source != "tiendanube",
                    or_(*[cast(InboundEvent.payload, Text).contains(e) for e in ext]),
                )
            )
            counts["raw_events"] = rowcount(res)
        await session.execute(delete(Customer).where(Customer.tenant_id == tenant_id, Customer.id.in_(ids)))
        for cid in ids:
            await orders.forget_customer(tenant_id, cid)
    counts["abandoned_checkouts"] = await _redact_checkouts(session, tenant_id, person)
    orders_listed = payload.get("orders_to_redact")
    await audit.record(
        session,
        actor="tiendanube",
        action="privacy.customers_redact",
        tenant_id=tenant_id,
        target_type="tiendanube_customer",
        target_id=str(person.get("id")) if person.get("id") is not None else None,
        payload={**counts, "orders_to_redact": len(orders_listed) if isinstance(orders_listed, list) else 0},
    )
    log.info("privacy.customer_redacted", tenant_id=str(tenant_id), **counts)
    return counts


def _checkout_conditions(tenant_id: uuid.UUID, person: dict[str, Any]) -> list[Any]:
    """Abandoned checkouts kept for cart recovery name the buyer by e-mail and phone."""
    email = str(person.get("email") or "").strip().lower()
    phones = sorted(match_keys(person.get("phone")))
    conditions = []
    if "@" in email:
        conditions.append(AbandonedCheckout.contact_email == email)
    if phones:
        conditions.append(AbandonedCheckout.contact_phone.in_(phones))
    return [AbandonedCheckout.tenant_id == tenant_id, or_(*conditions)] if conditions else []


async def _redact_checkouts(session: AsyncSession, tenant_id: uuid.UUID, person: dict[str, Any]) -> int:
    where = _checkout_conditions(tenant_id, person)
    if not where:
        return 0
    return rowcount(await session.execute(delete(AbandonedCheckout).where(*where)))


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


async def _consent_export(session: AsyncSession, customer_id: uuid.UUID) -> dict[str, Any]:
    """The customer's consent per channel, its history, and the messages Nexus sent first."""
    current = (
        await session.scalars(select(CustomerConsent).where(CustomerConsent.customer_id == customer_id))
    ).all()
    history = (
        await session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.customer_id == customer_id)
            .order_by(ConsentEvent.created_at)
        )
    ).all()
    proactive = (
        await session.scalars(
            select(ProactiveMessage)
            .where(ProactiveMessage.customer_id == customer_id)
            .order_by(ProactiveMessage.created_at)
        )
    ).all()
    return {
        "consent": [
            {"channel": c.channel, "state": c.state, "source": c.source, "at": _iso(c.at)} for c in current
        ],
        "consent_history": [
            {"channel": e.channel, "state": e.state, "source": e.source, "at": _iso(e.created_at)}
            for e in history
        ],
        "proactive_messages": [
            {
                "kind": m.kind,
                "state": m.state,
                "reason": m.reason,
                "reference": m.reference,
                "at": _iso(m.created_at),
            }
            for m in proactive
        ],
    }


async def _checkouts_export(
    session: AsyncSession, tenant_id: uuid.UUID, person: dict[str, Any]
) -> list[dict[str, Any]]:
    where = _checkout_conditions(tenant_id, person)
    if not where:
        return []
    rows = (
        await session.scalars(
            select(AbandonedCheckout).where(*where).order_by(AbandonedCheckout.abandoned_at)
        )
    ).all()
    return [
        {
            "checkout_id": r.checkout_id,
            "url": r.url,
            "contact_name": r.contact_name,
            "contact_email": r.contact_email,
            "contact_phone": r.contact_phone,
            "total": str(r.total) if r.total is not None else None,
            "currency": r.currency,
            "abandoned_at": _iso(r.abandoned_at),
            "recovery": r.state,
            "reason": r.reason,
        }
        for r in rows
    ]


async def export_customer(
    session: AsyncSession, settings: Settings, tenant_id: uuid.UUID, payload: dict[str, Any]
) -> Path:
    """Write everything we hold about the customer to a JSON file for the merchant to hand over."""
    person: dict[str, Any] = found if isinstance(found := payload.get("customer"), dict) else {}
    ids = await matching_customers(session, tenant_id, person)
    customers = (await session.scalars(select(Customer).where(Customer.id.in_(ids)))).all() if ids else []
    export: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(),
        "tiendanube_customer_id": person.get("id"),
        "data_request_id": (payload.get("data_request") or {}).get("id")
        if isinstance(payload.get("data_request"), dict)
        else None,
        "customers": [],
    }
    n_messages = 0
    for c in customers:
        idents = (
            await session.scalars(select(ChannelIdentity).where(ChannelIdentity.customer_id == c.id))
        ).all()
        convs = (
            await session.scalars(select(ChatConversation).where(ChatConversation.customer_id == c.id))
        ).all()
        conv_out = []
        for conv in convs:
            msgs = (
                await session.scalars(
                    select(ChatMessage)
                    .where(ChatMessage.conversation_id == conv.id)
                    .order_by(ChatMessage.created_at)
                )
            ).all()
            n_messages += len(msgs)
            conv_out.append(
                {
                    "channel": conv.channel,
                    "status": conv.status,
                    "created_at": conv.created_at.isoformat(),
                    "messages": [
                        {
                            "at": m.created_at.isoformat(),
                            "direction": m.direction,
                            "sender": m.sender,
                            "type": m.type,
                            "text": m.text,
                        }
                        for m in msgs
                    ],
                }
            )
        export["customers"].append(
            {
                "name": c.name,
                "email": c.email,
                "phone_number": c.phone_number,
                "created_at": c.created_at.isoformat(),
                "identities": [
                    {"channel": i.channel, "external_id": i.external_id, "display_name": i.display_name}
                    for i in idents
                ],
                "conversations": conv_out,
                **await _consent_export(session, c.id),
            }
        )
    export["abandoned_checkouts"] = await _checkouts_export(session, tenant_id, person)
    folder = Path(settings.data_dir) / "privacy_exports" / str(tenant_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"data_request_{export['data_request_id'] or uuid.uuid4().hex}.json"
    path.write_text(json.dumps(export, ensure_ascii=False, indent=2), encoding="utf-8")
    path.chmod(0o600)
    await audit.record(
        session,
        actor="tiendanube",
        action="privacy.customers_data_request",
        tenant_id=tenant_id,
        target_type="tiendanube_customer",
        target_id=str(person.get("id")) if person.get("id") is not None else None,
        payload={
            "customers": len(customers),
            "messages": n_messages,
            "abandoned_checkouts": len(export["abandoned_checkouts"]),
            "export_file": path.name,
        },
    )
    return path


async def redact_store(
    session: AsyncSession, tenant_id: uuid.UUID, keep_event: uuid.UUID | None = None
) -> dict[str, int]:
    """Sent after uninstall: erase everything the store's customers and catalog left here."""
    counts = {}
    for name, model in (
        ("customers", Customer),
        ("products", Product),
        ("catalog_syncs", CatalogSync),
        ("events", Event),
        ("credentials", Credential),
    ):
        res = await session.execute(delete(model).where(model.tenant_id == tenant_id))
        counts[name] = rowcount(res)
    raw = delete(InboundEvent).where(InboundEvent.tenant_id == tenant_id)
    if keep_event is not None:
        raw = raw.where(InboundEvent.id != keep_event)
    res = await session.execute(raw)
    counts["raw_events"] = rowcount(res)
    await session.execute(update(Tenant).where(Tenant.id == tenant_id).values(status="disabled"))
    await orders.invalidate_tenant_cache(tenant_id)
    await audit.record(
        session, actor="tiendanube", action="privacy.store_redact", tenant_id=tenant_id, payload=counts
    )
    return counts
