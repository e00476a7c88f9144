"""Typed FastAPI dependencies shared by the orchestrator's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from nexus_common.errors import Unauthorized
from nexus_common.security import HEADER, token_matches

from .config import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


AppSettings = Annotated[Settings, Depends(get_settings)]


async def require_internal(request: Request) -> None:
    """For `/internal/*` routes that other Nexus services call (agent tools, step streaming)."""
    expected = request.app.state.settings.internal_api_token.get_secret_value()
    if not token_matches(request.headers.get(HEADER), expected):
        raise Unauthorized(f"missing or invalid {HEADER}")


InternalOnly = Depends(require_internal)
