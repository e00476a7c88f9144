"""tiendanube_service settings (DESIGN.md §2)."""

from __future__ import annotations

from nexus_common.settings import BaseServiceSettings
from pydantic import AnyHttpUrl, SecretStr  # noqa: F401


class Settings(BaseServiceSettings):
    tiendanube_api_url: AnyHttpUrl = AnyHttpUrl("https://api.tiendanube.com/v1")
    tiendanube_auth_url: AnyHttpUrl = AnyHttpUrl("https://www.tiendanube.com/apps/authorize/token")
    tiendanube_client_id: str | None = None
    tiendanube_client_secret: SecretStr | None = None
