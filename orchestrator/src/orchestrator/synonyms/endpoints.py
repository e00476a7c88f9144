"""`/api/v1/settings/synonyms`: the tenant's product-search synonym groups (retrieval/synonyms.py
reads `tenants.settings["synonyms"]`; none or an empty list means the built-in seed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from nexus_common.errors import NotFound
from pydantic import BaseModel, Field

from ..audit import service as audit
from ..auth import Admin, Viewer
from ..db import Session
from ..models import Tenant

router = APIRouter(prefix="/api/v1/settings", tags=["settings"])

Word = Annotated[str, Field(min_length=1, max_length=60)]


class Synonyms(BaseModel):
    groups: list[Annotated[list[Word], Field(min_length=2, max_length=30)]] = Field(
        default_factory=list, max_length=200
    )


async def _tenant(session: Session, tenant_id: object) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


@router.get("/synonyms")
async def get_synonyms(principal: Viewer, session: Session) -> Synonyms:
    """The store's own synonym groups (empty: the built-in Spanish/Portuguese seed applies)."""
    raw = ((await _tenant(session, principal.tenant)).settings or {}).get("synonyms")
    groups = [[str(w) for w in g] for g in raw if isinstance(g, list)] if isinstance(raw, list) else []
    return Synonyms.model_validate({"groups": [g for g in groups if len(g) >= 2]})


@router.put("/synonyms")
async def put_synonyms(body: Synonyms, principal: Admin, session: Session) -> Synonyms:
    """Replace the synonym groups (admin); each group lists words that mean the same product."""
    tenant = await _tenant(session, principal.tenant)
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
