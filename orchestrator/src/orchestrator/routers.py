"""Every domain's routers, included once by the app (one line per domain)."""

from __future__ import annotations

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    from .assistant.endpoints import router as assistant_router
    from .retrieval.endpoints import routers as retrieval_routers

    for r in [*retrieval_routers, assistant_router]:
        app.include_router(r)
