"""Every domain's routers, included once by the app (one line per domain)."""

from __future__ import annotations

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    from .pipeline.playground import router as playground_router
    from .pipeline.webhooks import router as webhooks_router
    from .provisioning.endpoints import router as provisioning_router

    app.include_router(webhooks_router)
    app.include_router(provisioning_router)
    app.include_router(playground_router)
