"""What campaigns need from "Reaching out" (issue 12): consent and approved templates, in one place.

Consent is read as SQL expressions on issue 12's `customer_consents` (audiences and the sender's
claim filter thousands of customers in one statement, never one call per customer); decisions are
written through its consent service (state + history). Templates come from its template store,
kept fresh from the Graph API and the template webhooks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..consent import service as consent
from ..models import ConsentEvent, CustomerConsent
from ..templates import service as templates

CHANNEL = "whatsapp"
APPROVED = templates.APPROVED


def _consent_is(customer_id: Any, state: str) -> ColumnElement[bool]:
    return exists(
        select(CustomerConsent.id).where(
            CustomerConsent.customer_id == customer_id,
            CustomerConsent.channel == CHANNEL,
            CustomerConsent.state == state,
        )
    )


def opted_out(customer_id: Any) -> ColumnElement[bool]:
    """True for a customer who opted out of WhatsApp messages (never in any audience)."""
    return _consent_is(customer_id, "opted_out")


def opted_in(customer_id: Any) -> ColumnElement[bool]:
    """True for a customer who opted in to WhatsApp marketing (campaigns reach only them)."""
    return _consent_is(customer_id, "opted_in")


def marketing_allowed(customer_id: Any) -> ColumnElement[bool]:
    return and_(opted_in(customer_id), ~opted_out(customer_id))


async def opted_out_among(session: AsyncSession, customer_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these customers opted out."""
    if not customer_ids:
        return set()
    rows = await session.scalars(
        select(CustomerConsent.customer_id).where(
            CustomerConsent.customer_id.in_(customer_ids),
            CustomerConsent.channel == CHANNEL,
            CustomerConsent.state == "opted_out",
        )
    )
    return set(rows.all())


async def not_allowed_among(session: AsyncSession, customer_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these customers may not get marketing now (opted out, or no longer opted in):
    the check at the moment of sending."""
    if not customer_ids:
        return set()
    allowed = await session.scalars(
        select(CustomerConsent.customer_id).where(
            CustomerConsent.customer_id.in_(customer_ids),
            CustomerConsent.channel == CHANNEL,
            CustomerConsent.state == "opted_in",
        )
    )
    return set(customer_ids) - set(allowed.all())


async def record_opt_out(session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID) -> None:
    """Meta answered 131050 (the user stopped marketing messages): suppress for good."""
    await consent.record(session, tenant_id, customer_id, "opted_out", "meta", actor="whatsapp:131050")


async def opt_in_imported(
    session: AsyncSession, tenant_id: uuid.UUID, grants: list[tuple[uuid.UUID, str]], actor: str
) -> None:
    """Opt in imported customers (customer id, the CSV's consent source) in bulk; an existing
    decision (an earlier opt-in, or an opt-out) is never overwritten."""
    if not grants:
        return
    now = datetime.now(UTC)
    ids = [cid for cid, _ in grants]
    inserted = set(
        (
            await session.scalars(
                insert(CustomerConsent)
                .values(
                    [
                        {
                            "tenant_id": tenant_id,
                            "customer_id": cid,
                            "channel": CHANNEL,
                            "state": "opted_in",
                            "source": "import",
                            "at": now,
                        }
                        for cid in ids
                    ]
                )
                .on_conflict_do_nothing(index_elements=["tenant_id", "customer_id", "channel"])
                .returning(CustomerConsent.customer_id)
            )
        ).all()
    )
    events = [
        {
            "tenant_id": tenant_id,
            "customer_id": cid,
            "channel": CHANNEL,
            "state": "opted_in",
            "source": "import",
            # The CSV's own consent source is kept with the record of who imported it.
            "actor": f"{actor} csv:{source}"[:100],
            "created_at": now,
        }
        for cid, source in grants
        if cid in inserted
    ]
    if events:
        await session.execute(insert(ConsentEvent), events)


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    language: str  # the approved locale (what a send must use)
    category: str
    status: str
    parameters: int | None  # body variables ({{1}}, {{2}}, …)


async def approved_template(
    session: AsyncSession, tenant_id: uuid.UUID, name: str, language: str
) -> TemplateInfo | None:
    """The approved template of that name in that language (es ↔ es_AR match), or None."""
    t = await templates.get_approved(session, tenant_id, name, language)
    if t is None:
        return None
    return TemplateInfo(t.name, t.language, t.category, t.status, t.parameters)


async def template_statuses(session: AsyncSession, tenant_id: uuid.UUID) -> dict[tuple[str, str], str]:
    """(name, locale key) → status of every template of the store (the sender checks its own)."""
    return {
        (t.name, templates.locale_key(t.language)): t.status
        for t in await templates.list_templates(session, tenant_id)
    }


def locale_key(language: str) -> str:
    return templates.locale_key(language)
