"""LLM agents: prompt, tools and the provider chain (stateless)."""

from __future__ import annotations

from fastapi import FastAPI
from nexus_common.app import create_service_app
from nexus_common.health import HealthRegistry
from nexus_common.logging import configure_logging
from nexus_common.settings import ConfigError, exit_on_config_error, load_settings

from .config import Settings
from .turns import router as turns_router

SERVICE = "agent_service"


def create_app(settings: Settings | None = None) -> FastAPI:
    if settings is None:
        try:
            settings = load_settings(Settings)
        except ConfigError as exc:
            exit_on_config_error(exc, SERVICE)
    configure_logging(settings.log_level, SERVICE)
    health = HealthRegistry()
    app = create_service_app(
        service=SERVICE,
        version=settings.app_version,
        health=health,
        # Internal service: every route except the health checks requires X-Internal-Token.
        internal_token=settings.internal_api_token.get_secret_value(),
        description="LLM agents: prompt, tools and the provider chain (stateless).",
    )
    app.include_router(turns_router)
    app.state.settings = settings
    return app
