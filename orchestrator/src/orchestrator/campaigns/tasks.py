"""Campaign jobs (namespace `campaigns`): the owner's e-mail when the platform pauses a campaign."""

from __future__ import annotations

import uuid

from procrastinate import Blueprint, RetryStrategy

from .. import runtime
from ..jobs import BLUEPRINTS
from . import notify

bp = Blueprint()


@bp.task(name="notify_paused", retry=RetryStrategy(max_attempts=5, exponential_wait=2))
async def notify_paused(campaign_id: str, reason: str) -> None:
    rt = runtime.current()
    async with rt.sessionmaker() as session, session.begin():
        await notify.send_paused_mail(session, rt.settings, uuid.UUID(campaign_id), reason)


BLUEPRINTS.append(("campaigns", bp))
