"""Campaign jobs: the owner's e-mail when the platform pauses a campaign; the status hook."""

from __future__ import annotations

import uuid

from procrastinate import RetryStrategy

from .. import runtime
from ..jobs import names, task
from ..pipeline import ingest
from . import notify, statuses

# Delivery statuses of campaign messages (callback `cr:<id>`) are applied by this domain, in bulk.
ingest.register_status_hook(statuses.is_campaign, statuses.apply)


@task(names.CAMPAIGNS_NOTIFY_PAUSED, retry=RetryStrategy(max_attempts=5, exponential_wait=2))
async def notify_paused(campaign_id: str, reason: str) -> None:
    rt = runtime.current()
    async with rt.sessionmaker() as session, session.begin():
        await notify.send_paused_mail(session, rt.settings, uuid.UUID(campaign_id), reason)
