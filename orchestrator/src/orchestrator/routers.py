"""Every domain's routers, included once by the app (one line per domain)."""

from __future__ import annotations

from fastapi import FastAPI


def include_routers(app: FastAPI) -> None:
    from .analytics.endpoints import router as analytics_router
    from .assistant.endpoints import router as assistant_router
    from .auth.endpoints import internal_router as auth_internal_router
    from .auth.endpoints import router as auth_router
    from .retrieval.endpoints import routers as retrieval_routers
    from .staff.admin import router as admin_router
    from .staff.conversations import router as conversations_router
    from .staff.customers import router as customers_router  # the dashboard's customer panel
    from .staff.settings import router as settings_router
    from .staff.synonyms import router as synonyms_router  # the dashboard's synonym editor
    from .telemetry.endpoints import router as telemetry_router
    from .tiendanube import endpoints as tiendanube
    from .transcripts.endpoints import router as transcripts_router

    for router in [
        auth_router,
        auth_internal_router,
        conversations_router,
        admin_router,
        analytics_router,
        telemetry_router,
        settings_router,
        tiendanube.router,
        tiendanube.internal_router,
        *retrieval_routers,
        assistant_router,
        customers_router,
        synonyms_router,
        transcripts_router,
    ]:
        app.include_router(router)
    from .pipeline.playground import router as playground_router
    from .pipeline.webhooks import router as webhooks_router
    from .provisioning.endpoints import router as provisioning_router

    app.include_router(webhooks_router)
    app.include_router(provisioning_router)
    app.include_router(playground_router)
