"""whatsapp_service settings (DESIGN.md §2)."""

from __future__ import annotations

from nexus_common.settings import BaseServiceSettings
from pydantic import AnyHttpUrl, SecretStr  # noqa: F401


class Settings(BaseServiceSettings):
    whatsapp_graph_url: AnyHttpUrl = AnyHttpUrl("https://graph.facebook.com/v21.0")
