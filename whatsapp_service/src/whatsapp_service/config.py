"""whatsapp_service settings (DESIGN.md §2)."""

from __future__ import annotations

from nexus_common.settings import BaseServiceSettings
from pydantic import AnyHttpUrl, SecretStr  # noqa: F401


class Settings(BaseServiceSettings):
    whatsapp_graph_url: AnyHttpUrl = AnyHttpUrl("https://graph.facebook.com/v21.0")
    # Per Graph call; a send that times out is NOT retried (it may have gone out).
    whatsapp_graph_timeout_seconds: float = 15.0
    # Attempts per call on connection errors, 429 and 5xx (backoff with jitter).
    whatsapp_graph_attempts: int = 3
