"""The audit and event log. Payloads are sanitized at write time: a secret is never stored."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from nexus_common.logging import redact
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import AuditLog


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    tenant_id: uuid.UUID | None = None,
    level: str = "info",
    target_type: str | None = None,
    target_id: str | None = None,
    conversation_id: uuid.UUID | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditLog:
    rid = structlog.contextvars.get_contextvars().get("request_id")
    entry = AuditLog(
        tenant_id=tenant_id,
        actor=actor[:120],
        action=action[:80],
        level=level,
        target_type=target_type,
        target_id=target_id,
        conversation_id=conversation_id,
        request_id=rid,
        payload=redact(payload or {}),
    )
    session.add(entry)
    await session.flush()
    return entry
