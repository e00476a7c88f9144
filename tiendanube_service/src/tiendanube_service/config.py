"""tiendanube_service settings (DESIGN.md §2)."""

from __future__ import annotations

from nexus_common.settings import BaseServiceSettings
from pydantic import AnyHttpUrl, SecretStr


class Settings(BaseServiceSettings):
    tiendanube_api_url: AnyHttpUrl = AnyHttpUrl("https://api.tiendanube.com/v1")
    tiendanube_auth_url: AnyHttpUrl = AnyHttpUrl("https://www.tiendanube.com/apps/authorize/token")
    tiendanube_client_id: str | None = None
    tiendanube_client_secret: SecretStr | None = None
    # The platform refuses requests without a User-Agent naming the app and a contact address.
    tiendanube_user_agent: str = "Nexus (soporte@nexus.example)"
    # Documented bucket (40 requests, 2/s leak) until a response's x-rate-limit-* headers say more.
    tiendanube_bucket_size: int = 40
    tiendanube_leak_per_second: float = 2.0
    tiendanube_timeout_seconds: float = 20.0
