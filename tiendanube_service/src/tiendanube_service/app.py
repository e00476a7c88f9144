"""Tienda Nube API client: OAuth, catalog, orders, customers, webhooks, rate limits."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from nexus_common.app import create_service_app
from nexus_common.health import HealthRegistry
from nexus_common.logging import configure_logging
from nexus_common.settings import ConfigError, exit_on_config_error, load_settings

from .api import router
from .client import TiendanubeAPI
from .config import Settings
from .ratelimit import RateLimiter

SERVICE = "tiendanube_service"


def create_app(settings: Settings | None = None) -> FastAPI:
    if settings is None:
        try:
            settings = load_settings(Settings)
        except ConfigError as exc:
            exit_on_config_error(exc, SERVICE)
    configure_logging(settings.log_level, SERVICE)
    # httpx logs every URL at INFO; Tienda Nube search URLs can hold a phone or an e-mail.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    health = HealthRegistry()
    limiter = RateLimiter(settings.tiendanube_bucket_size, settings.tiendanube_leak_per_second)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        secret = settings.tiendanube_client_secret
        app.state.api = TiendanubeAPI(
            str(settings.tiendanube_api_url),
            str(settings.tiendanube_auth_url),
            user_agent=settings.tiendanube_user_agent,
            client_id=settings.tiendanube_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            limiter=limiter,
            timeout=settings.tiendanube_timeout_seconds,
        )
        try:
            yield
        finally:
            await app.state.api.aclose()

    app = create_service_app(
        service=SERVICE,
        version=settings.app_version,
        settings=settings,
        health=health,
        # Internal service: every route except the health checks requires X-Internal-Token.
        internal_token=settings.internal_api_token.get_secret_value(),
        lifespan=lifespan,
        description="Tienda Nube API client: OAuth, catalog, orders, customers, webhooks, rate limits.",
    )
    app.include_router(router)
    app.state.settings = settings
    app.state.limiter = limiter
    return app
