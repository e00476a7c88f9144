"""`GET /api/v1/templates`, `POST /api/v1/templates/sync`."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..auth import Admin, Viewer
from ..db import Session
from ..pipeline.clients import whatsapp_client
from . import service
from .schemas import SyncResult, TemplateList, TemplateOut

router = APIRouter(prefix="/api/v1/templates", tags=["templates"])


@router.get("", response_model=TemplateList)
async def get_templates(principal: Viewer, session: Session) -> TemplateList:
    """Your WhatsApp number's message templates as last read from Meta (name, language,
    category, status, how many variables the body takes)."""
    rows = await service.list_templates(session, principal.tenant)
    return TemplateList(
        items=[
            TemplateOut(
                name=r.name,
                language=r.language,
                category=r.category,
                status=r.status,
                parameters=r.parameters,
                body=service.body_text(r.components),
                updated_at=r.updated_at,
            )
            for r in rows
        ]
    )


@router.post("/sync", response_model=SyncResult)
async def sync_templates(principal: Admin, session: Session, request: Request) -> SyncResult:
    """Re-read the templates from the Graph API now (needs `waba_id` on the WhatsApp channel)."""
    rt = request.app.state.runtime
    synced, removed = await service.sync(session, rt.settings.crypto, whatsapp_client(rt), principal.tenant)
    return SyncResult(synced=synced, removed=removed)
