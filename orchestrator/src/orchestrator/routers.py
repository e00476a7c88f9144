"""Every domain's routers, included once by the app (one line per router)."""

from __future__ import annotations

from fastapi import FastAPI

from .admin.endpoints import router as admin_router
from .analytics.endpoints import router as analytics_router
from .assistant.endpoints import router as assistant_router
from .audiences.endpoints import router as audiences_router
from .auth.endpoints import internal_router as auth_internal_router
from .auth.endpoints import router as auth_router
from .campaigns.endpoints import router as campaigns_router
from .channels.endpoints import router as channels_router
from .conversations.endpoints import router as conversations_router
from .credentials.endpoints import router as credentials_router
from .customers.endpoints import router as customers_router
from .integrations.tiendanube import endpoints as tiendanube
from .notifications.endpoints import router as notifications_router
from .pipeline.endpoints import router as webhooks_router
from .playground.endpoints import router as playground_router
from .provisioning.endpoints import router as provisioning_router
from .retrieval.endpoints import routers as retrieval_routers
from .sales import endpoints as sales
from .synonyms.endpoints import router as synonyms_router
from .telemetry.endpoints import router as telemetry_router
from .templates.endpoints import router as templates_router
from .tenants.endpoints import router as tenants_router
from .transcripts.endpoints import router as transcripts_router
from .users.endpoints import router as users_router


def include_routers(app: FastAPI) -> None:
    for router in [
        auth_router,
        auth_internal_router,
        conversations_router,
        admin_router,
        analytics_router,
        telemetry_router,
        tenants_router,
        channels_router,
        credentials_router,
        users_router,
        tiendanube.router,
        tiendanube.internal_router,
        *retrieval_routers,
        assistant_router,
        customers_router,
        synonyms_router,
        webhooks_router,
        provisioning_router,
        playground_router,
        transcripts_router,
        sales.router,
        sales.internal_router,
        templates_router,
        notifications_router,
        audiences_router,
        campaigns_router,
    ]:
        app.include_router(router)
