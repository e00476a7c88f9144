"""`POST /api/v1/admin/actions/{action}`: a whitelist of operations, each with a least role and a
validated body. Anything else is 404. Every call, allowed or not, is written to the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from nexus_common.errors import Conflict, Forbidden, NexusError, NotFound, ServiceUnavailable
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..analytics import service as analytics
from ..audit import service as audit
from ..auth import Principal, Viewer
from ..conversations import handoff, service, transcripts
from ..credentials import service as credentials
from ..db import Session
from ..events.commit import commit_and_announce
from ..integrations.tiendanube.catalog import start_catalog_sync
from ..models import Tenant
from ..recovery import schedule as recovery_schedule
from .schemas import ConversationBody, HandoffBody, NoBody, TranscriptBody

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


Handler = Callable[[Request, AsyncSession, Principal, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Action:
    role: str
    body: type[BaseModel]
    run: Handler


async def _clear_cache(request: Request, session: AsyncSession, p: Principal, body: NoBody) -> dict[str, Any]:
    try:
        return {"deleted_keys": await analytics.clear_cache(request.app.state.redis, p.tenant)}
    except RedisError:
        # Nothing is cached while Redis is down; say so instead of pretending.
        raise ServiceUnavailable("the cache (Redis) is not reachable") from None


async def _trigger_handoff(
    request: Request, session: AsyncSession, p: Principal, body: HandoffBody
) -> dict[str, Any]:
    conv = await service.get_conversation(session, p.tenant, body.conversation_id, lock=True)
    sent = await handoff.notify_handoff(session, conv.id, body.reason, actor=p.actor, source="admin")
    return {"conversation_id": str(conv.id), "handed_off": sent}


async def _resume_ai(
    request: Request, session: AsyncSession, p: Principal, body: ConversationBody
) -> dict[str, Any]:
    conv = await service.get_conversation(session, p.tenant, body.conversation_id, lock=True)
    return {"conversation_id": str(conv.id), "resumed": await service.resume(session, conv, actor=p.actor)}


async def _resync_catalog(
    request: Request, session: AsyncSession, p: Principal, body: NoBody
) -> dict[str, Any]:
    tenant = await session.get(Tenant, p.tenant)
    if tenant is None or tenant.tiendanube_store_id is None:
        raise Conflict("this store is not connected to Tienda Nube yet", code="tiendanube_not_connected")
    sync_id = await start_catalog_sync(session, p.tenant, trigger="admin")
    return {"started": True, "sync_id": str(sync_id)}


async def _poll_checkouts(
    request: Request, session: AsyncSession, p: Principal, body: NoBody
) -> dict[str, Any]:
    tenant = await session.get(Tenant, p.tenant)
    if tenant is None or tenant.tiendanube_store_id is None:
        raise Conflict("this store is not connected to Tienda Nube yet", code="tiendanube_not_connected")
    await recovery_schedule.start_poll(session, p.tenant)
    return {"started": True}


async def _rotate_keys(request: Request, session: AsyncSession, p: Principal, body: NoBody) -> dict[str, Any]:
    changed = await credentials.rotate_all(session, request.app.state.settings.crypto)
    return {"re_encrypted": changed}


async def _send_transcript(
    request: Request, session: AsyncSession, p: Principal, body: TranscriptBody
) -> dict[str, Any]:
    conv = await service.get_conversation(session, p.tenant, body.conversation_id)
    await transcripts.queue(session, request.app.state.settings, conv, str(body.to), p.actor)
    return {"conversation_id": str(conv.id), "queued": True}


ACTIONS: dict[str, Action] = {
    "clear_cache": Action("admin", NoBody, _clear_cache),
    "trigger_handoff": Action("agent", HandoffBody, _trigger_handoff),
    "resume_ai": Action("agent", ConversationBody, _resume_ai),
    "resync_catalog": Action("admin", NoBody, _resync_catalog),
    # Look for abandoned checkouts now instead of at the next scheduled poll.
    "poll_checkouts": Action("admin", NoBody, _poll_checkouts),
    # Re-encrypts every tenant's credentials (one platform key): the platform operator's call.
    "rotate_keys": Action("super_admin", NoBody, _rotate_keys),
    "send_transcript": Action("agent", TranscriptBody, _send_transcript),
}


async def _audit_apart(request: Request, principal: Principal, action: str, outcome: str, level: str) -> None:
    """Denied calls fail the request (its transaction rolls back): audit them in their own."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with maker() as s, s.begin():
        await audit.record(
            s,
            actor=principal.actor,
            action="admin.action",
            level=level,
            tenant_id=principal.tenant_id,
            target_type="admin_action",
            target_id=action[:80],
            payload={"action": action[:80], "outcome": outcome},
        )


@router.post("/actions/{action}")
async def run_action(
    action: str,
    principal: Viewer,
    session: Session,
    request: Request,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    """Run a whitelisted admin action: `clear_cache` (admin), `trigger_handoff` (agent),
    `resume_ai` (agent), `resync_catalog` (admin), `rotate_keys` (super-admin),
    `send_transcript` (agent). Unknown actions are 404; every call is audited."""
    spec = ACTIONS.get(action)
    if spec is None:
        await _audit_apart(request, principal, action, "unknown_action", "warning")
        raise NotFound("no such admin action")
    if not principal.at_least(spec.role):
        await _audit_apart(request, principal, action, "forbidden", "warning")
        raise Forbidden(f"this action needs the {spec.role} role")
    try:
        parsed = spec.body.model_validate(body or {})
    except ValidationError as exc:
        await _audit_apart(request, principal, action, "invalid_body", "warning")
        details = [
            {"loc": list(map(str, e["loc"])), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        raise NexusError(
            "Request validation failed", code="validation_error", status_code=422, details=details
        ) from None
    try:
        result = await spec.run(request, session, principal, parsed)
    except NexusError as exc:
        await _audit_apart(request, principal, action, f"error:{exc.code}", "warning")
        raise
    await audit.record(
        session,
        actor=principal.actor,
        action="admin.action",
        tenant_id=principal.tenant_id,
        target_type="admin_action",
        target_id=action,
        payload={"action": action, "outcome": "ok", "body": parsed.model_dump(mode="json"), "result": result},
    )
    await commit_and_announce(session, request)
    return {"action": action, "result": result}
