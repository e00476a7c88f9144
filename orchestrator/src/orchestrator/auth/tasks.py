"""Auth jobs: the password-reset mail (queued, so the request's answer and time never depend on
whether the account exists)."""

from __future__ import annotations

from procrastinate import Blueprint

from .. import runtime
from ..jobs import BLUEPRINTS
from . import service


async def send_password_reset(email: str) -> None:
    rt = runtime.current()
    async with rt.sessionmaker() as session, session.begin():
        await service.send_password_reset(session, rt.settings, email)


def blueprint() -> Blueprint:
    """A fresh blueprint per job App (see jobs.BLUEPRINTS)."""
    bp = Blueprint()
    bp.task(name="send_password_reset", queue="default")(send_password_reset)
    return bp


BLUEPRINTS.append(("auth", blueprint))
