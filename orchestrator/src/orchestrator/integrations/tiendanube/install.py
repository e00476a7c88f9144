"""Connecting a store: the OAuth install callback and the by-hand connection (DESIGN §3).

Everything that talks to Tienda Nube (code exchange, store info, webhook registration) happens
before anything is written; the tenant, its encrypted token, the first sync and the audit entry
are then written in one transaction. A failure anywhere leaves nothing half-created here
(webhook registration is idempotent, so a retried install converges).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from nexus_common.errors import Conflict, NotFound
from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ...audit import service as audit
from ...config import Settings
from ...credentials import service as credentials
from ...models import Tenant
from . import catalog
from .client import ServiceClient, webhook_url
from .mapping import localized, pick


@dataclass
class Connected:
    tenant_id: uuid.UUID
    store_id: int
    created: bool
    sync_id: uuid.UUID
    webhooks: int


def store_settings(info: dict[str, Any]) -> dict[str, Any]:
    main = info.get("main_language") if isinstance(info.get("main_language"), str) else None
    langs = info.get("languages")
    return {
        "main_language": main or "es",
        "languages": sorted(langs) if isinstance(langs, dict) else [main or "es"],
        "currency": str(info.get("main_currency") or "")[:3] or None,
        "country": str(info.get("country") or "AR")[:2],
        "url": info.get("url_with_protocol")
        or (f"https://{info['original_domain']}" if info.get("original_domain") else None),
    }


def store_name(info: dict[str, Any], store_id: int) -> str:
    name = pick(localized(info.get("name")), info.get("main_language"))
    return (name or f"Tienda {store_id}")[:200]


async def gather(
    client: ServiceClient, settings: Settings, store_id: int, token: str
) -> tuple[dict[str, Any], int]:
    """The remote half of connecting: store info and webhooks (idempotent)."""
    info = await client.store(store_id, token)
    hooks = await client.ensure_webhooks(store_id, token, webhook_url(settings))
    return info, len(hooks.get("webhooks") or [])


async def connect_store(
    session: AsyncSession,
    settings: Settings,
    *,
    store_id: int,
    token: str,
    info: dict[str, Any],
    webhooks: int,
    tenant_id: uuid.UUID | None = None,
    actor: str,
) -> Connected:
    """Create or update the tenant for `store_id` (or attach it to `tenant_id`), store the token."""
    existing = await session.scalar(
        select(Tenant).where(Tenant.tiendanube_store_id == store_id).with_for_update()
    )
    created = False
    if tenant_id is not None:
        tenant = await session.get(Tenant, tenant_id, with_for_update=True)
        if tenant is None:
            raise NotFound("tenant not found")
        if existing is not None and existing.id != tenant.id:
            raise Conflict("this Tienda Nube store is connected to another tenant")
    elif existing is not None:
        tenant = existing
    else:
        tenant = Tenant(name=store_name(info, store_id), tiendanube_store_id=store_id, settings={})
        session.add(tenant)
        created = True
    await session.flush()
    new_settings = dict(tenant.settings or {})
    new_settings["tiendanube"] = store_settings(info)
    await session.execute(
        update(Tenant)
        .where(Tenant.id == tenant.id)
        .values(
            tiendanube_store_id=store_id,
            # Reinstalling undoes the store's own uninstall, never the platform's disable.
            status=case((Tenant.platform_disabled_at.is_(None), "active"), else_=Tenant.status),
            settings=new_settings,
        )
    )
    await credentials.put(session, settings.crypto, tenant.id, catalog.TOKEN_KIND, token)
    sync_id = await catalog.start_catalog_sync(
        session, tenant.id, trigger="install" if actor == "tiendanube" else "manual"
    )
    await audit.record(
        session,
        actor=actor,
        action="tiendanube.connected",
        tenant_id=tenant.id,
        target_type="tiendanube_store",
        target_id=str(store_id),
        payload={"created": created, "webhooks": webhooks},
    )
    return Connected(tenant.id, store_id, created, sync_id, webhooks)
