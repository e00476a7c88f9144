"""Template jobs (namespace `templates`): apply a template webhook; re-sync a tenant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import structlog
from procrastinate import RetryStrategy

from .. import runtime
from ..jobs import names, task
from ..models import InboundEvent
from ..pipeline.clients import whatsapp_client
from ..pipeline.parsing import parse_whatsapp
from . import service

log = structlog.get_logger("orchestrator.templates.tasks")

RETRY = RetryStrategy(max_attempts=8, exponential_wait=2)


@task(names.TEMPLATES_APPLY_WEBHOOK, retry=RETRY)
async def apply_webhook(event_id: str, tenant_ids: list[str]) -> int:
    """Status/category changes are applied in place; a template we do not know yet (created in
    Meta's manager after the last sync) triggers a full re-sync of that tenant."""
    rt = runtime.current()
    resync: set[uuid.UUID] = set()
    applied = 0
    async with rt.sessionmaker() as session, session.begin():
        ev = await session.get(InboundEvent, uuid.UUID(event_id), with_for_update=True)
        if ev is None or ev.state == "done":
            return 0
        for update in parse_whatsapp(ev.payload).template_updates:
            for tid in tenant_ids:
                tenant_id = uuid.UUID(tid)
                if await service.apply_update(session, tenant_id, update.waba_id, update.value, update.field):
                    applied += 1
                else:
                    resync.add(tenant_id)
        ev.state, ev.processed_at, ev.attempts = "done", datetime.now(UTC), ev.attempts + 1
    for tenant_id in resync:
        async with rt.sessionmaker() as session, session.begin():
            await service.sync(session, rt.settings.crypto, whatsapp_client(rt), tenant_id)
    log.info("templates.webhook", applied=applied, resynced=len(resync))
    return applied
