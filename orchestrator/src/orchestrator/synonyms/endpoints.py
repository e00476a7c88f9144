"""`/api/v1/settings/synonyms`: the tenant's product-search synonym groups (retrieval/synonyms.py
reads `tenants.settings["synonyms"]`; none or an empty list means the built-in seed)."""

from __future__ import annotations

from fastapi import APIRouter

from ..audit import service as audit
from ..auth import Admin, Viewer
from ..db import Session
from ..tenants.service import get_tenant
from .schemas import Synonyms

router = APIRouter(prefix="/api/v1/settings", tags=["settings"])


@router.get("/synonyms")
async def get_synonyms(principal: Viewer, session: Session) -> Synonyms:
    """The store's own synonym groups (empty: the built-in Spanish/Portuguese seed applies)."""
    raw = ((await get_tenant(session, principal.tenant)).settings or {}).get("synonyms")
    groups = [[str(w) for w in g] for g in raw if isinstance(g, list)] if isinstance(raw, list) else []
    return Synonyms.model_validate({"groups": [g for g in groups if len(g) >= 2]})


@router.put("/synonyms")
async def put_synonyms(body: Synonyms, principal: Admin, session: Session) -> Synonyms:
    """Replace the synonym groups (admin); each group lists words that mean the same product."""
    tenant = await get_tenant(session, principal.tenant)
    groups = [[w.strip() for w in g if w.strip()] for g in body.groups]
    tenant.settings = {**(tenant.settings or {}), "synonyms": [g for g in groups if len(g) >= 2]}
    await audit.record(
        session,
        actor=principal.actor,
        action="settings.synonyms_updated",
        tenant_id=tenant.id,
        payload={"groups": len(body.groups)},
    )
    return Synonyms(groups=tenant.settings["synonyms"])
