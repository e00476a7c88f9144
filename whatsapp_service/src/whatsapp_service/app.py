"""Meta Graph API client: send messages, mark read, download media."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from nexus_common.app import create_service_app
from nexus_common.health import HealthRegistry
from nexus_common.logging import configure_logging
from nexus_common.settings import ConfigError, exit_on_config_error, load_settings

from .api import router as api_router
from .config import Settings
from .graph import GraphClient

SERVICE = "whatsapp_service"


def create_app(settings: Settings | None = None) -> FastAPI:
    if settings is None:
        try:
            settings = load_settings(Settings)
        except ConfigError as exc:
            exit_on_config_error(exc, SERVICE)
    configure_logging(settings.log_level, SERVICE)
    health = HealthRegistry()
    graph = GraphClient(
        str(settings.whatsapp_graph_url),
        settings.whatsapp_graph_timeout_seconds,
        settings.whatsapp_graph_attempts,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await graph.aclose()

    app = create_service_app(
        lifespan=lifespan,
        service=SERVICE,
        version=settings.app_version,
        settings=settings,
        health=health,
        # Internal service: every route except the health checks requires X-Internal-Token.
        internal_token=settings.internal_api_token.get_secret_value(),
        description="Meta Graph API client: send messages, mark read, download media.",
    )
    app.include_router(api_router)
    app.state.settings = settings
    app.state.graph = graph
    return app
