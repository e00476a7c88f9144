"""`/api/v1/settings/transcript-domains`: the domains the owner lets transcripts go to."""

from __future__ import annotations

from fastapi import APIRouter
from nexus_common.errors import NexusError, NotFound

from ..audit import service as audit
from ..auth import Admin, Owner
from ..conversations import transcripts as service
from ..db import Session
from ..models import Tenant
from .schemas import TranscriptDomains

router = APIRouter(prefix="/api/v1/settings", tags=["settings"])


@router.get("/transcript-domains")
async def get_domains(principal: Admin, session: Session) -> TranscriptDomains:
    """Domains (besides staff and the customer) that may receive a transcript (admin reads)."""
    tenant = await session.get(Tenant, principal.tenant)
    if tenant is None:
        raise NotFound("tenant not found")
    return TranscriptDomains(domains=service.approved_domains(tenant))


@router.put("/transcript-domains")
async def put_domains(body: TranscriptDomains, principal: Owner, session: Session) -> TranscriptDomains:
    """Replace the approved domains (owner only: this widens where conversations may be mailed)."""
    try:
        domains = service.normalize_domains(body.domains)
    except ValueError as exc:
        raise NexusError(
            "Request validation failed",
            code="validation_error",
            status_code=422,
            details=[{"loc": ["body", "domains"], "msg": str(exc), "type": "value_error"}],
        ) from None
    tenant = await session.get(Tenant, principal.tenant, with_for_update=True)
    if tenant is None:
        raise NotFound("tenant not found")
    tenant.settings = {**(tenant.settings or {}), service.DOMAINS_KEY: domains}
    await audit.record(
        session,
        actor=principal.actor,
        action="settings.transcript_domains_updated",
        tenant_id=tenant.id,
        payload={"domains": domains},
    )
    return TranscriptDomains(domains=domains)
