"""Auth jobs: the password-reset mail (queued, so the request's answer and time never depend on
whether the account exists)."""

from __future__ import annotations

from .. import runtime
from ..jobs import names, task
from . import service


@task(names.SEND_PASSWORD_RESET, queue="default")
async def send_password_reset(email: str) -> None:
    rt = runtime.current()
    async with rt.sessionmaker() as session, session.begin():
        await service.send_password_reset(session, rt.settings, email)
