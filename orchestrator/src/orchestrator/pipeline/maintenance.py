"""Per-replica housekeeping: retry jobs of dead workers, re-queue sends stuck mid-flight.

procrastinate leaves a job in `doing` when its worker dies (SIGKILL, OOM, power): a worker
without a heartbeat for NEXUS_WORKER_STALLED_SECONDS is dead, and its jobs go back to `todo`
(keeping their lock, so the conversation's order holds). Every replica runs this; both steps are
single atomic statements, so running them concurrently is safe.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from procrastinate import App
from procrastinate.exceptions import UniqueViolation
from procrastinate.jobs import Status

from ..runtime import Runtime
from . import outbox

log = structlog.get_logger("orchestrator.pipeline.maintenance")


async def retry_stalled_jobs(jobs: App, stalled_seconds: float) -> int:
    stalled = await jobs.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_seconds)
    n = 0
    for job in stalled:
        try:
            await jobs.job_manager.retry_job(job)
            n += 1
        except UniqueViolation:
            # The same job already waits under its queueing lock (deferred again since the crash):
            # this copy is redundant, and left `doing` it would hold its lock, and everything
            # queued behind it, forever.
            with contextlib.suppress(Exception):
                await jobs.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
                n += 1
        except Exception:  # noqa: BLE001, S110 - another replica got there first
            pass
    if n:
        log.warning("jobs.stalled_retried", count=n)
    return n


async def run_forever(rt: Runtime, jobs: App) -> None:
    s = rt.settings
    interval = max(0.2, min(s.nexus_worker_heartbeat_seconds, 5.0))
    while True:
        try:
            await retry_stalled_jobs(jobs, s.nexus_worker_stalled_seconds)
            await outbox.sweep(rt)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - Postgres away: try again next round
            log.warning("maintenance.failed", error=type(exc).__name__)
        await asyncio.sleep(interval)
