"""Templates: sync from the Graph API, webhook updates, lookup, and the send components."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from nexus_common.crypto import Crypto
from nexus_common.errors import Conflict, NexusError
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import ChannelAccount, WhatsAppTemplate
from ..pipeline.accounts import Account, access_token

log = structlog.get_logger("orchestrator.templates")

_VAR = re.compile(r"\{\{\s*(\d+)\s*\}\}")
APPROVED = "APPROVED"


@dataclass(frozen=True)
class WabaAccount:
    account: Account
    waba_id: str


def body_text(components: list[Any]) -> str | None:
    for comp in components or []:
        if isinstance(comp, dict) and str(comp.get("type", "")).upper() == "BODY":
            return str(comp.get("text") or "")
    return None


def body_parameters(components: list[Any]) -> int:
    return len(set(_VAR.findall(body_text(components) or "")))


def locale_key(language: str | None) -> str:
    return (language or "").replace("-", "_").lower()


async def waba_accounts(session: AsyncSession, tenant_id: uuid.UUID) -> list[WabaAccount]:
    rows = (
        await session.scalars(
            select(ChannelAccount).where(
                ChannelAccount.tenant_id == tenant_id,
                ChannelAccount.channel == "whatsapp",
                ChannelAccount.enabled.is_(True),
            )
        )
    ).all()
    out = []
    for r in rows:
        waba = (r.settings or {}).get("waba_id")
        if isinstance(waba, str) and waba:
            acc = Account(r.id, r.tenant_id, r.channel, r.external_id, r.enabled, dict(r.settings))
            out.append(WabaAccount(acc, waba))
    return out


async def fetch(client: httpx.AsyncClient, waba_id: str, token: str) -> list[dict[str, Any]]:
    try:
        resp = await client.get(
            "/v1/templates", params={"waba_id": waba_id}, headers={"X-Graph-Token": token}
        )
    except httpx.HTTPError:
        raise NexusError(
            "whatsapp_service unreachable", code="whatsapp_unavailable", status_code=503
        ) from None
    if resp.status_code != 200:
        try:
            err = resp.json().get("error", {})
        except ValueError:
            err = {}
        raise NexusError(
            "the Graph API refused to list the templates",
            code="templates_unavailable",
            status_code=502,
            details={"graph_code": (err.get("details") or {}).get("graph_code")},
        )
    items = resp.json().get("items")
    return [t for t in items if isinstance(t, dict)] if isinstance(items, list) else []


async def sync(
    session: AsyncSession, crypto: Crypto, client: httpx.AsyncClient, tenant_id: uuid.UUID
) -> tuple[int, int]:
    """Replace the tenant's stored templates with what the Graph API lists now.
    Returns (templates stored, templates removed)."""
    accounts = await waba_accounts(session, tenant_id)
    if not accounts:
        raise Conflict("no WhatsApp number with a waba_id is connected", code="no_waba")
    synced = removed = 0
    now = datetime.now(UTC)
    for wa in accounts:
        token = await access_token(session, crypto, wa.account)
        if not token:
            raise Conflict("the WhatsApp number has no access token", code="no_access_token")
        seen: set[tuple[str, str]] = set()
        for t in await fetch(client, wa.waba_id, token):
            name, lang = str(t.get("name") or "")[:512], str(t.get("language") or "")[:15]
            if not name or not lang or (name, lang) in seen:
                continue
            seen.add((name, lang))
            raw_components = t.get("components")
            components: list[Any] = raw_components if isinstance(raw_components, list) else []
            values = {
                "channel_account_id": wa.account.id,
                "waba_id": wa.waba_id,
                "external_id": str(t.get("id") or "")[:64] or None,
                "category": str(t.get("category") or "UNKNOWN")[:20].upper(),
                "status": str(t.get("status") or "UNKNOWN")[:20].upper(),
                "parameters": body_parameters(components),
                "components": components,
                "updated_at": now,
            }
            await session.execute(
                insert(WhatsAppTemplate)
                .values(tenant_id=tenant_id, name=name, language=lang, **values)
                .on_conflict_do_update(index_elements=["tenant_id", "name", "language"], set_=values)
            )
            synced += 1
        gone = await session.execute(
            delete(WhatsAppTemplate).where(
                WhatsAppTemplate.tenant_id == tenant_id,
                WhatsAppTemplate.waba_id == wa.waba_id,
                WhatsAppTemplate.updated_at < now,
            )
        )
        removed += gone.rowcount or 0  # type: ignore[attr-defined]
    log.info("templates.synced", tenant_id=str(tenant_id), synced=synced, removed=removed)
    return synced, removed


async def list_templates(session: AsyncSession, tenant_id: uuid.UUID) -> list[WhatsAppTemplate]:
    return list(
        (
            await session.scalars(
                select(WhatsAppTemplate)
                .where(WhatsAppTemplate.tenant_id == tenant_id)
                .order_by(WhatsAppTemplate.name, WhatsAppTemplate.language)
            )
        ).all()
    )


async def get_approved(
    session: AsyncSession, tenant_id: uuid.UUID, name: str, language: str | None = None
) -> WhatsAppTemplate | None:
    """The approved template `name` in `language` (its exact locale, else the same language in
    another locale: es ↔ es_AR), or in any language when `language` is empty."""
    rows = (
        await session.scalars(
            select(WhatsAppTemplate).where(
                WhatsAppTemplate.tenant_id == tenant_id,
                WhatsAppTemplate.name == name,
                WhatsAppTemplate.status == APPROVED,
            )
        )
    ).all()
    if not rows:
        return None
    if not language:
        return sorted(rows, key=lambda r: r.language)[0]
    want = locale_key(language)
    for r in rows:
        if locale_key(r.language) == want:
            return r
    for r in sorted(rows, key=lambda r: r.language):
        if locale_key(r.language)[:2] == want[:2]:
            return r
    return None


async def exists(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> bool:
    found = await session.scalar(
        select(WhatsAppTemplate.id)
        .where(WhatsAppTemplate.tenant_id == tenant_id, WhatsAppTemplate.name == name)
        .limit(1)
    )
    return found is not None


def build_components(template: WhatsAppTemplate, variables: list[str]) -> dict[str, Any]:
    """The `template` object of a send: the body takes the first N variables, N being how many
    the approved template has (a different count is Meta's error 132000)."""
    params = [{"type": "text", "text": (v or "-")[:1024]} for v in variables[: template.parameters]]
    params += [{"type": "text", "text": "-"}] * (template.parameters - len(params))
    body: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if params:
        body["components"] = [{"type": "body", "parameters": params}]
    return body


def render(template: WhatsAppTemplate, variables: list[str]) -> str:
    """The template's body with its variables filled in (what the conversation shows)."""
    return fill(body_text(template.components) or template.name, variables)


def fill(text: str, variables: list[str]) -> str:
    """`text` with {{n}} replaced by the n-th variable (empty when there is none)."""
    return _VAR.sub(
        lambda m: variables[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(variables) else "", text
    )


# ----- webhooks (message_template_status_update, template_category_update) -----
async def apply_update(
    session: AsyncSession, tenant_id: uuid.UUID, waba_id: str, value: dict[str, Any], field: str
) -> bool:
    """Apply one template webhook. Returns False when the template is unknown (sync it then)."""
    name = value.get("message_template_name")
    lang = value.get("message_template_language")
    if not isinstance(name, str) or not isinstance(lang, str):
        return True  # nothing to apply
    changes: dict[str, Any] = {"updated_at": datetime.now(UTC)}
    if field == "message_template_status_update":
        event = str(value.get("event") or "").upper()[:20]
        if not event:
            return True
        if event == "DELETED":
            await session.execute(
                delete(WhatsAppTemplate).where(
                    WhatsAppTemplate.tenant_id == tenant_id,
                    WhatsAppTemplate.name == name,
                    WhatsAppTemplate.language == lang,
                )
            )
            return True
        changes["status"] = {"REINSTATED": APPROVED, "UNARCHIVED": APPROVED}.get(event, event)
        if isinstance(value.get("message_template_category"), str):
            changes["category"] = value["message_template_category"].upper()[:20]
    elif field == "template_category_update":
        # "upcoming" updates carry correct_category; only a done change has previous_category.
        if "previous_category" not in value or not isinstance(value.get("new_category"), str):
            return True
        changes["category"] = value["new_category"].upper()[:20]
    else:
        return True
    res = await session.execute(
        update(WhatsAppTemplate)
        .where(
            WhatsAppTemplate.tenant_id == tenant_id,
            WhatsAppTemplate.waba_id == waba_id,
            WhatsAppTemplate.name == name,
            WhatsAppTemplate.language == lang,
        )
        .values(**changes)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]
