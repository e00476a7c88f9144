from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from nexus_common.errors import BadRequest
from sqlalchemy import select, tuple_

from ..auth import Admin
from ..db import Session
from ..models import AuditLog
from ..models.audit_log import LEVELS

router = APIRouter(prefix="/api/v1/telemetry", tags=["telemetry"])


def _encode(at: datetime, id_: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{id_}".encode()).decode()


def _decode(raw: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, id_ = base64.urlsafe_b64decode(raw.encode()).decode().split("|")
        return datetime.fromisoformat(at), uuid.UUID(id_)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("invalid cursor") from None


@router.get("/logs")
async def logs(
    principal: Admin,
    session: Session,
    actor: Annotated[str | None, Query(max_length=120)] = None,
    action: Annotated[
        str | None, Query(max_length=80, description="Exact, or a prefix ending in `*`")
    ] = None,
    level: Annotated[
        Literal["debug", "info", "warning", "error"] | None, Query(description="Minimum")
    ] = None,
    conversation_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """The tenant's audit and event log, newest first. Keyset pagination on (time, id): pages stay
    stable while new entries arrive. Payloads were sanitized when written."""
    stmt = select(AuditLog).where(AuditLog.tenant_id == principal.tenant)
    if actor:
        stmt = stmt.where(AuditLog.actor == actor)
    if action:
        if action.endswith("*"):
            prefix = action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(AuditLog.action.like(prefix + "%"))
        else:
            stmt = stmt.where(AuditLog.action == action)
    if level:
        stmt = stmt.where(AuditLog.level.in_(LEVELS[LEVELS.index(level) :]))
    if conversation_id:
        stmt = stmt.where(AuditLog.conversation_id == conversation_id)
    if since:
        stmt = stmt.where(AuditLog.created_at >= since)
    if until:
        stmt = stmt.where(AuditLog.created_at < until)
    if cursor:
        at, id_ = _decode(cursor)
        stmt = stmt.where(tuple_(AuditLog.created_at, AuditLog.id) < tuple_(at, id_))
    rows = (
        await session.scalars(stmt.order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(limit + 1))
    ).all()
    page = rows[:limit]
    return {
        "items": [
            {
                "id": r.id,
                "at": r.created_at,
                "actor": r.actor,
                "action": r.action,
                "level": r.level,
                "target_type": r.target_type,
                "target_id": r.target_id,
                "conversation_id": r.conversation_id,
                "request_id": r.request_id,
                "payload": r.payload,
            }
            for r in page
        ],
        "next_cursor": _encode(page[-1].created_at, page[-1].id) if len(rows) > limit else None,
    }
