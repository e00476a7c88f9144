"""agent_service settings (DESIGN.md §2)."""

from __future__ import annotations

from nexus_common.settings import BaseServiceSettings
from pydantic import AnyHttpUrl, SecretStr  # noqa: F401


class Settings(BaseServiceSettings):
    orchestrator_url: AnyHttpUrl = AnyHttpUrl("http://orchestrator:8000")
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    # Providers and the chain (issue 5).
    anthropic_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    anthropic_model: str = "claude-haiku-4-5"
    llm_timeout_seconds: float = 45.0  # one provider's share of a turn (the turn's ceiling is 300 s)
    breaker_failures: int = 3  # consecutive failures that open a provider's circuit
    breaker_cooldown_seconds: float = 30.0
