"""Tienda Nube background jobs: full syncs, webhook processing, nightly, sweeper."""

from __future__ import annotations

import uuid

import structlog
from procrastinate import RetryStrategy
from sqlalchemy import select

from ... import runtime
from ...jobs import names, task
from ...models import Tenant
from . import catalog, webhooks

log = structlog.get_logger("orchestrator.tiendanube.tasks")

# Upstream hiccups (Tienda Nube 5xx, tiendanube_service restarting) are retried; a sync resumes
# from its recorded page.
RETRY = RetryStrategy(max_attempts=6, exponential_wait=2)


@task(names.TN_PRODUCTSALL, retry=RETRY)
async def productsall(sync_id: str) -> str:
    rt = runtime.current()
    return await catalog.run_catalog_sync(rt.sessionmaker, rt.settings, uuid.UUID(sync_id))


@task(names.TN_PROCESS_EVENT, retry=RETRY)
async def process_event(event_id: str) -> str:
    rt = runtime.current()
    return await webhooks.process_event(rt.sessionmaker, rt.settings, uuid.UUID(event_id))


@task(names.TN_NIGHTLY_SYNC, cron="17 4 * * *")
async def nightly_sync(timestamp: int) -> int:
    """Every connected store gets a full sync each night (catches anything webhooks missed)."""
    rt = runtime.current()
    started = 0
    async with rt.sessionmaker() as session, session.begin():
        ids = (
            await session.scalars(
                select(Tenant.id).where(Tenant.status == "active", Tenant.tiendanube_store_id.is_not(None))
            )
        ).all()
        for tid in ids:
            await catalog.start_catalog_sync(session, tid, trigger="nightly")
            started += 1
    log.info("catalog.nightly", tenants=started)
    return started


@task(names.TN_SWEEP, cron="* * * * *")
async def sweep(timestamp: int) -> dict[str, int]:
    """Resume syncs whose worker died and re-queue webhook events whose job never ran."""
    return await resume_stalled(runtime.current().settings.tiendanube_sync_stall_seconds)


async def resume_stalled(stall_seconds: float, event_age_seconds: float = 60.0) -> dict[str, int]:
    rt = runtime.current()
    async with rt.sessionmaker() as session, session.begin():
        syncs = await catalog.stalled_syncs(session, stall_seconds)
        events = await webhooks.stale_events(session, event_age_seconds)
        for sync_id, _tenant_id in syncs:
            await catalog.defer_sync(session, sync_id)
        for event_id, tenant_id, resource in events:
            await webhooks.defer_event(session, event_id, tenant_id, resource)
    if syncs or events:
        log.info("tiendanube.sweep", syncs=len(syncs), events=len(events))
    return {"syncs": len(syncs), "events": len(events)}
