"""An instant agent_service stand-in (see turns.py)."""

from __future__ import annotations

from fastapi import FastAPI

from .turns import ACK, router


def create_app() -> FastAPI:
    app = FastAPI(title="instant agent (fake agent_service)")
    app.include_router(router)
    return app


__all__ = ["ACK", "create_app"]
