"""Send the recovery messages that are due, a batch at a time.

For each due checkout: ask Tienda Nube whether it is still abandoned (the checkout is gone or
completed → skip), whether the buyer ordered since (an order by the same e-mail or phone created
after the checkout → skip) and, when the customer's consent is unknown, whether they accepted
marketing at the checkout; then, in one transaction with the checkout row locked, the customer is
matched by phone, the cooldown checked, and the message queued (or the skip recorded).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from ..consent import service as consent
from ..integrations.tiendanube import catalog
from ..integrations.tiendanube.client import ServiceClient, TiendanubeNotFound, service_client
from ..integrations.tiendanube.mapping import parse_ts
from ..models import AbandonedCheckout, Customer, CustomerConsent, ProactiveMessage, Tenant
from ..notifications import proactive, texts
from ..notifications import settings as notification_settings
from ..notifications.schemas import RecoverySetting
from ..phones import match_keys
from ..runtime import Runtime
from . import schedule

log = structlog.get_logger("orchestrator.recovery.sender")

BATCH = 100
# Checks of one store in flight at a time (each is up to three requests, one after the other).
# tiendanube_service paces every request through the store's bucket, so more in flight cannot
# overflow it; they keep the bucket busy while a round trip or a settle is slow (a loaded
# machine), which one at a time could not: pacing then fell to 1.5x the bucket's minimum.
CHECKS_IN_FLIGHT = 4


@dataclass
class Verdict:
    skip: str | None  # a reason, or None: send
    accepts_marketing: bool = False


def _ts(value: Any) -> datetime | None:
    when = parse_ts(value)
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


async def check_store(
    client: ServiceClient, store_id: int, token: str, row: AbandonedCheckout, region: str, consent_known: bool
) -> Verdict:
    try:
        checkout = await client.checkout(store_id, token, row.checkout_id)
    except TiendanubeNotFound:
        return Verdict("checkout_gone")  # converted (it leaves the list) or deleted
    if checkout.get("completed_at"):
        return Verdict("ordered")
    phone_keys = match_keys(row.contact_phone, default_region=region)
    query: dict[str, Any] = (
        {"email": row.contact_email} if row.contact_email else {"phone": row.contact_phone}
    )
    if query.get("email") or query.get("phone"):
        for order in await client.search_orders(store_id, token, **query):
            created = _ts(order.get("created_at"))
            if created is None or created < row.abandoned_at:
                continue
            emails = {str(order.get("contact_email") or "").lower()}
            if (row.contact_email and row.contact_email in emails) or (
                phone_keys & match_keys(order.get("contact_phone"), default_region=region)
            ):
                return Verdict("ordered")
    accepts = False
    if not consent_known and row.contact_email:
        for c in await client.customers_by_email(store_id, token, row.contact_email):
            if str(c.get("email") or "").lower() == row.contact_email and c.get("accepts_marketing"):
                accepts = True
    return Verdict(None, accepts)


async def _customer_for(
    session: AsyncSession, tenant_id: uuid.UUID, row: AbandonedCheckout
) -> Customer | None:
    if not row.contact_phone:
        return None
    customer = await session.scalar(
        select(Customer)
        .where(Customer.tenant_id == tenant_id, Customer.phone_number == row.contact_phone)
        .order_by(Customer.created_at)
        .limit(1)
    )
    if customer is None:
        customer = Customer(
            tenant_id=tenant_id,
            phone_number=row.contact_phone,
            name=row.contact_name,
            email=row.contact_email,
            locale=(row.language or "")[:2] or None,
        )
        session.add(customer)
        await session.flush()
    return customer


async def _in_cooldown(
    session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID, days: int
) -> bool:
    if days <= 0:
        return False
    recent = await session.scalar(
        select(func.count())
        .select_from(ProactiveMessage)
        .where(
            ProactiveMessage.tenant_id == tenant_id,
            ProactiveMessage.customer_id == customer_id,
            ProactiveMessage.kind == "cart_recovery",
            ProactiveMessage.state == "queued",
            ProactiveMessage.created_at > datetime.now(UTC) - timedelta(days=days),
        )
    )
    return bool(recent)


async def _phones_with_known_consent(
    session: AsyncSession, tenant_id: uuid.UUID, phones: set[str]
) -> set[str]:
    """Of these phones, those whose customer (the oldest with the phone, as `_customer_for`
    picks) has opted in or out on WhatsApp: their checkout needs no consent lookup at Tienda
    Nube. One query for the whole batch: a query or two per checkout, one after the other, kept
    a batch from starting its first check for up to seconds while its store's bucket sat empty
    (every store's batch starts at once after a poll, on one event loop and one pool)."""
    if not phones:
        return set()
    oldest = (
        select(Customer.id, Customer.phone_number)
        .where(Customer.tenant_id == tenant_id, Customer.phone_number.in_(phones))
        .ext(distinct_on(Customer.phone_number))
        .order_by(Customer.phone_number, Customer.created_at)
        .subquery()
    )
    known = await session.scalars(
        select(oldest.c.phone_number).join(
            CustomerConsent,
            (CustomerConsent.customer_id == oldest.c.id)
            & (CustomerConsent.tenant_id == tenant_id)
            & (CustomerConsent.channel == "whatsapp"),
        )
    )
    return {p for p in known if p}


async def _settle(
    session: AsyncSession, tenant: Tenant, conf: RecoverySetting, row_id: uuid.UUID, verdict: Verdict
) -> str:
    row = await session.scalar(
        select(AbandonedCheckout).where(AbandonedCheckout.id == row_id).with_for_update(skip_locked=True)
    )
    if row is None or row.state != "pending":
        return "taken"  # another worker settled it
    customer = await _customer_for(session, tenant.id, row)
    reason = verdict.skip or (None if customer is not None else "no_phone")
    if reason is None and customer is not None:
        if verdict.accepts_marketing:
            await consent.record(
                session, tenant.id, customer.id, "opted_in", "checkout", only_if_unknown=True
            )
        if await _in_cooldown(session, tenant.id, customer.id, conf.cooldown_days):
            reason = "cooldown"
    if reason is not None or customer is None:
        row.state, row.reason = "skipped", reason
        return reason or "skipped"
    language = conf.language or await proactive.customer_language(session, customer, row.language)
    name = texts.first_name(customer.name or row.contact_name)
    total = f"{row.currency or ''} {row.total}".strip() if row.total is not None else ""
    url = row.url or ""
    result = await proactive.queue_proactive(
        session,
        proactive.Outreach(
            tenant_id=tenant.id,
            kind="cart_recovery",
            dedupe_key=f"checkout:{row.checkout_id}",
            customer=customer,
            consent_kind="marketing",
            template=conf.template,
            language=language,
            variables=[name, tenant.name, total, url],
            window_text=texts.render("cart_recovery", language, name=name, store=tenant.name, url=url),
            reference=str(row.checkout_id),
            amount=row.total,
            currency=row.currency,
        ),
    )
    if result == "queued":
        row.state, row.reason = "sent", None
    else:
        reason = await session.scalar(
            select(ProactiveMessage.reason).where(
                ProactiveMessage.tenant_id == tenant.id,
                ProactiveMessage.dedupe_key == f"checkout:{row.checkout_id}",
            )
        )
        row.state, row.reason = "skipped", (reason or result)[:40]
    return result


def _failed(counts: dict[str, int]) -> bool:
    return bool(counts.get("check_failed") or counts.get("settle_failed"))


async def send_due(rt: Runtime, tenant_id: uuid.UUID, batch: int = BATCH) -> dict[str, int]:
    """Handle up to `batch` due checkouts; defers itself again when more are due."""
    now = datetime.now(UTC)
    async with rt.sessionmaker() as session:
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            return {}
        conf = notification_settings.of(tenant).cart_recovery
        access = await catalog.store_access(session, rt.settings.crypto, tenant_id)
        region = str(((tenant.settings or {}).get("tiendanube") or {}).get("country") or "AR")
        rows = (
            await session.scalars(
                select(AbandonedCheckout)
                .where(
                    AbandonedCheckout.tenant_id == tenant_id,
                    AbandonedCheckout.state == "pending",
                    AbandonedCheckout.due_at <= now,
                )
                .order_by(AbandonedCheckout.due_at)
                .limit(batch)
            )
        ).all()
        phones = await _phones_with_known_consent(
            session, tenant_id, {r.contact_phone for r in rows if r.contact_phone}
        )
        known = {r.id: not r.contact_phone or r.contact_phone in phones for r in rows}
    if not conf.enabled or access is None or not rows:
        return {}
    counts: dict[str, int] = {}
    gate = asyncio.Semaphore(CHECKS_IN_FLIGHT)

    async def check(
        client: ServiceClient, row: AbandonedCheckout
    ) -> tuple[AbandonedCheckout, Verdict | None]:
        async with gate:
            try:
                return row, await check_store(
                    client, access.store_id, access.token, row, region, known[row.id]
                )
            except Exception as exc:  # noqa: BLE001 - the row stays pending for a later batch
                log.warning("recovery.check_failed", tenant_id=str(tenant_id), error=type(exc).__name__)
                return row, None

    async with service_client(rt.settings, background=True) as client:
        checks = [asyncio.ensure_future(check(client, row)) for row in rows]
        try:
            # Each checkout is settled as soon as its check is back, while the others go on.
            for n, done in enumerate(asyncio.as_completed(checks), 1):
                row, verdict = await done
                try:
                    async with rt.sessionmaker() as session, session.begin():
                        outcome = (
                            await _settle(session, tenant, conf, row.id, verdict)
                            if verdict
                            else "check_failed"
                        )
                        if n == len(rows) == batch and not _failed(counts) and verdict:
                            await schedule.defer_send_due(session, tenant_id)  # more may be due
                except Exception as exc:  # noqa: BLE001 - rolled back: the row stays pending
                    # (e.g. no database connection free in time on a loaded replica)
                    log.warning("recovery.settle_failed", tenant_id=str(tenant_id), error=type(exc).__name__)
                    outcome = "settle_failed"
                counts[outcome] = counts.get(outcome, 0) + 1
        finally:
            for c in checks:
                c.cancel()
            await asyncio.gather(*checks, return_exceptions=True)
    log.info("recovery.sent", tenant_id=str(tenant_id), **counts)
    return counts
