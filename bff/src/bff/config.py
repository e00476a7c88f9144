"""bff settings (DESIGN.md §2)."""

from __future__ import annotations

from nexus_common.settings import BaseServiceSettings
from pydantic import AnyHttpUrl, SecretStr  # noqa: F401


class Settings(BaseServiceSettings):
    orchestrator_url: AnyHttpUrl = AnyHttpUrl("http://orchestrator:8000")
    redis_url: SecretStr | None = None
