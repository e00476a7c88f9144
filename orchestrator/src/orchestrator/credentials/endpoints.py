"""The tenant's credentials, write-only: stored encrypted, answered masked (owner)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from nexus_common.errors import NotFound
from sqlalchemy import delete, select

from ..audit import service as audit
from ..auth import Owner
from ..db import Session, rowcount
from ..deps import AppSettings
from ..models import Credential
from . import service as credentials
from .schemas import KIND, CredentialIn

router = APIRouter(prefix="/api/v1", tags=["settings"])


@router.get("/credentials")
async def list_credentials(principal: Owner, session: Session) -> dict[str, Any]:
    """Stored credentials, masked (last 4 characters at most). Values are never returned."""
    rows = (
        await session.scalars(
            select(Credential)
            .where(Credential.tenant_id == principal.tenant)
            .order_by(Credential.kind, Credential.scope)
        )
    ).all()
    return {
        "items": [
            {"kind": c.kind, "scope": c.scope, "value": credentials.mask(c.hint), "updated_at": c.updated_at}
            for c in rows
        ],
        "next_cursor": None,
    }


@router.put("/credentials/{kind}")
async def put_credential(
    kind: KIND, body: CredentialIn, principal: Owner, session: Session, settings: AppSettings
) -> dict[str, Any]:
    """Store or replace a credential (owner). Stored encrypted; answered masked."""
    await credentials.put(session, settings.crypto, principal.tenant, kind, body.value, body.scope)
    await audit.record(
        session,
        actor=principal.actor,
        action="credential.put",
        tenant_id=principal.tenant,
        target_type="credential",
        target_id=kind,
        payload={"scope": body.scope},
    )
    hint = body.value[-4:] if len(body.value) >= 12 else None
    return {"kind": kind, "scope": body.scope, "value": credentials.mask(hint)}


@router.delete("/credentials/{kind}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_credential(
    kind: KIND, principal: Owner, session: Session, scope: Annotated[str, Query(max_length=128)] = ""
) -> Response:
    """Delete a credential (owner)."""
    result = await session.execute(
        delete(Credential).where(
            Credential.tenant_id == principal.tenant, Credential.kind == kind, Credential.scope == scope
        )
    )
    if rowcount(result) == 0:
        raise NotFound("credential not found")
    await audit.record(
        session,
        actor=principal.actor,
        action="credential.deleted",
        tenant_id=principal.tenant,
        target_id=kind,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
