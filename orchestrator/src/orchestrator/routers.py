"""Every domain's routers, included once by the app (one line per domain)."""

from __future__ import annotations

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    from .tiendanube import endpoints as tiendanube

    app.include_router(tiendanube.router)
    app.include_router(tiendanube.internal_router)
