"""The common FastAPI app skeleton every service builds on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI

from .errors import install_error_handlers
from .health import HealthRegistry, health_router
from .middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from .security import PUBLIC_PATHS, InternalTokenMiddleware
from .settings import BaseServiceSettings

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]] | Callable[[FastAPI], AsyncIterator[None]]


def create_service_app(
    *,
    service: str,
    version: str,
    health: HealthRegistry,
    internal_token: str | None,
    lifespan: Any = None,
    max_body_bytes: int = 3 * 1024 * 1024,
    description: str = "",
    public_paths: tuple[str, ...] = (),
    settings: BaseServiceSettings | None = None,
) -> FastAPI:
    """Build an app with error handlers, request ids, a body cap and health routes.

    When `internal_token` is given the whole service is internal: every route but the health
    checks requires `X-Internal-Token` (protected by default, nothing to remember per route).
    With `settings` in production: no /docs, /redoc or /openapi.json unless API_DOCS_ENABLED, and
    readiness names what is down without the exception text (that goes to the log).
    """
    docs = settings.docs_enabled if settings is not None else True
    app = FastAPI(
        title=f"Nexus {service}",
        version=version,
        description=description,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        # No OpenTelemetry here: with FastAPI's native telemetry left on, every request asked the
        # global tracer/meter/logger providers whether one was configured (~6% of a webhook ack).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_error_handlers(app)
    health.details = settings is None or not settings.is_production
    app.include_router(health_router(health, service))
    if internal_token is not None:
        # `public_paths`: routes that authenticate callers themselves (the BFF's browser stream).
        app.add_middleware(
            InternalTokenMiddleware, token=internal_token, public_paths=PUBLIC_PATHS | frozenset(public_paths)
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.state.health = health
    return app
