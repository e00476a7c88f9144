# ruff: noqa: E501 - message texts read better unwrapped
"""Telling the store's owners that the platform paused their campaign (e-mail, es/pt/en).

The mail is a job deferred in the transaction that paused the campaign, so it goes out exactly
when the pause committed; its outcome is audited like every staff e-mail.
"""

from __future__ import annotations

import uuid
from html import escape

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.service import record_mail
from ..config import Settings
from ..jobs import defer, names
from ..mail import client as mail_client
from ..models import Campaign, Tenant, User

TEXTS = {
    "es": (
        "[{tenant}] La campaña «{name}» se pausó",
        "Nexus pausó la campaña «{name}». Motivo: {reason}. Revisala en el panel y reanudala cuando esté resuelto.",
    ),
    "pt": (
        "[{tenant}] A campanha «{name}» foi pausada",
        "O Nexus pausou a campanha «{name}». Motivo: {reason}. Confira no painel e retome quando estiver resolvido.",
    ),
    "en": (
        "[{tenant}] Campaign “{name}” was paused",
        "Nexus paused the campaign “{name}”. Reason: {reason}. Check it on the dashboard and resume it once fixed.",
    ),
}


async def campaign_paused(session: AsyncSession, campaign: Campaign, reason: str) -> None:
    await defer(session, names.CAMPAIGNS_NOTIFY_PAUSED, {"campaign_id": str(campaign.id), "reason": reason})


async def send_paused_mail(
    session: AsyncSession, settings: Settings, campaign_id: uuid.UUID, reason: str
) -> None:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        return
    tenant = await session.get(Tenant, campaign.tenant_id)
    owners = list(
        (
            await session.scalars(
                select(User.email).where(
                    User.tenant_id == campaign.tenant_id, User.role == "owner", User.is_active.is_(True)
                )
            )
        ).all()
    )
    if tenant is None or not owners:
        return
    lang = str((tenant.settings or {}).get("language") or "es")[:2]
    subject, body = TEXTS.get(lang, TEXTS["es"])
    values = {"tenant": tenant.name, "name": campaign.name, "reason": reason}
    text = body.format(**values)
    mail = mail_client.Mail(
        to=owners,
        subject=subject.format(**values),
        text=text,
        html=f"<p>{escape(text)}</p>",
    )
    smtp = settings.smtp_url.get_secret_value() if settings.smtp_url else None
    outcome = await mail_client.send(smtp, settings.mail_from, mail)
    await record_mail(session, outcome, kind="campaign_paused", to=owners, tenant_id=campaign.tenant_id)
