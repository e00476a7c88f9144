"""LLM agents: prompt, tools and the provider chain (stateless)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from nexus_common.app import create_service_app
from nexus_common.breaker import CircuitBreakers
from nexus_common.health import HealthRegistry
from nexus_common.http import make_client
from nexus_common.logging import configure_logging
from nexus_common.settings import ConfigError, exit_on_config_error, load_settings

from .agent.router import router as agent_router
from .agent.runner import Agent
from .config import Settings

SERVICE = "agent_service"


def create_app(settings: Settings | None = None) -> FastAPI:
    if settings is None:
        try:
            settings = load_settings(Settings)
        except ConfigError as exc:
            exit_on_config_error(exc, SERVICE)
    configure_logging(settings.log_level, SERVICE)
    for noisy in ("openai", "anthropic", "httpx", "httpx2", "httpcore"):
        # Client libraries log request details at DEBUG/INFO; ours are enough (and redacted).
        logging.getLogger(noisy).setLevel(logging.WARNING)
    health = HealthRegistry()
    token = settings.internal_api_token.get_secret_value()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        http = make_client(str(settings.orchestrator_url).rstrip("/"), timeout=15.0, internal_token=token)
        app.state.agent = Agent(
            settings=settings,
            http=http,
            breakers=CircuitBreakers(settings.breaker_failures, settings.breaker_cooldown_seconds),
        )
        try:
            yield
        finally:
            await http.aclose()

    app = create_service_app(
        service=SERVICE,
        version=settings.app_version,
        settings=settings,
        health=health,
        # Internal service: every route except the health checks requires X-Internal-Token.
        internal_token=token,
        lifespan=lifespan,
        description="LLM agents: prompt, tools and the provider chain (stateless).",
    )
    app.include_router(agent_router)
    app.state.settings = settings
    return app
