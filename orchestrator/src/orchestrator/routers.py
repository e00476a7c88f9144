"""Every domain's routers, included once by the app (one line per domain)."""

from __future__ import annotations

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    from .tiendanube import endpoints as tiendanube

    app.include_router(tiendanube.router)
    app.include_router(tiendanube.internal_router)
    from .analytics.endpoints import router as analytics_router
    from .auth.endpoints import internal_router as auth_internal_router
    from .auth.endpoints import router as auth_router
    from .staff.admin import router as admin_router
    from .staff.conversations import router as conversations_router
    from .staff.settings import router as settings_router
    from .telemetry.endpoints import router as telemetry_router

    app.include_router(auth_router)
    app.include_router(auth_internal_router)
    app.include_router(conversations_router)
    app.include_router(admin_router)
    app.include_router(analytics_router)
    app.include_router(telemetry_router)
    app.include_router(settings_router)
    from .staff.customers import router as customers_router  # the dashboard's customer panel

    app.include_router(customers_router)
    from .staff.synonyms import router as synonyms_router  # the dashboard's synonym editor

    app.include_router(synonyms_router)
