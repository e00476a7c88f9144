"""Server-sent events for the dashboard."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import structlog
from fastapi import FastAPI
from nexus_common.app import create_service_app
from nexus_common.health import HealthRegistry
from nexus_common.logging import configure_logging
from nexus_common.settings import ConfigError, exit_on_config_error, load_settings

from .config import Settings
from .hub import EventHub
from .stream import router as stream_router

SERVICE = "bff"
log = structlog.get_logger("bff.app")


def create_app(settings: Settings | None = None) -> FastAPI:
    if settings is None:
        try:
            settings = load_settings(Settings)
        except ConfigError as exc:
            exit_on_config_error(exc, SERVICE)
    configure_logging(settings.log_level, SERVICE)
    health = HealthRegistry()
    hub = (
        EventHub(
            settings.postgres_dsn.get_secret_value(),
            settings.redis_url.get_secret_value() if settings.redis_url else None,
            settings.sse_queue_size,
        )
        if settings.postgres_dsn
        else None
    )

    if hub is not None:

        async def check_listener() -> None:
            if not hub.listening:
                raise RuntimeError("not listening on Postgres")

        async def check_redis() -> None:
            if not hub.redis_connected:
                raise RuntimeError("Redis pub/sub not connected")

        health.add("postgres", check_listener)
        if settings.redis_url:
            health.add("redis", check_redis, required=False)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.http = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
        if hub is not None:
            await hub.start()
        else:
            log.warning("bff.no_postgres_dsn")
        try:
            yield
        finally:
            if hub is not None:
                await hub.stop()
            await app.state.http.aclose()

    app = create_service_app(
        service=SERVICE,
        version=settings.app_version,
        settings=settings,
        health=health,
        # Internal service: every route except the health checks requires X-Internal-Token, but the
        # browser stream authenticates staff tokens itself.
        internal_token=settings.internal_api_token.get_secret_value(),
        public_paths=("/events/stream",),
        lifespan=lifespan,
        description="Server-sent events for the dashboard.",
    )
    app.include_router(stream_router)
    app.state.settings = settings
    app.state.hub = hub
    return app
