"""Settings base shared by every service.

Configuration comes from the environment only (compose passes secrets that way). A missing or
malformed required variable stops the process at start with one line naming it; placeholder
secrets copied from `.env.example` are refused unless `NEXUS_ENV=development` or `test`.
"""

from __future__ import annotations

import sys
from typing import Literal, NoReturn, TypeVar

from pydantic import SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_PREFIXES = ("change-me", "changeme", "replace-me", "xxx")

Environment = Literal["development", "test", "production"]


class ConfigError(Exception):
    """A configuration problem, phrased as one line that names the variable."""


class BaseServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None,
        extra="ignore",
        case_sensitive=False,
        # Field names map 1:1 onto the variables of DESIGN.md §2 (upper-cased).
        env_prefix="",
        validate_default=True,
        # compose passes `VAR=` for unset optional values: treat empty as unset.
        env_ignore_empty=True,
    )

    nexus_env: Environment = "production"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    internal_api_token: SecretStr
    app_version: str = "dev"
    # The interactive API docs and openapi.json: off in production unless enabled (issue 11).
    api_docs_enabled: bool | None = None

    @property
    def docs_enabled(self) -> bool:
        return self.api_docs_enabled if self.api_docs_enabled is not None else not self.is_production

    @property
    def is_production(self) -> bool:
        return self.nexus_env == "production"

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> BaseServiceSettings:
        if self.nexus_env == "production":
            for name, value in self:
                raw = value.get_secret_value() if isinstance(value, SecretStr) else None
                if raw and _is_placeholder(raw):
                    raise ValueError(
                        f"{name.upper()} still holds the placeholder from .env.example; "
                        "set a real secret (placeholders are accepted only with NEXUS_ENV=development)"
                    )
        if len(self.internal_api_token.get_secret_value()) < 16:
            raise ValueError("INTERNAL_API_TOKEN must be at least 16 characters")
        return self


def _is_placeholder(raw: str) -> bool:
    low = raw.strip().lower()
    # Also inside URLs: postgresql://nexus:change-me-db-password@postgres/nexus
    return low.startswith(PLACEHOLDER_PREFIXES) or "change-me" in low or "changeme" in low


S = TypeVar("S", bound=BaseServiceSettings)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, naming the environment variable and never echoing its value."""
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
        name = loc[0].upper() if loc else ""
        msg = err.get("msg", "invalid value")
        if err.get("type") == "missing":
            msg = "is required but not set"
        msg = msg.removeprefix("Value error, ")
        parts.append(f"{name} {msg}".strip() if name else msg)
    return "; ".join(parts)


def load_settings(cls: type[S], **overrides: object) -> S:
    """Build settings or raise ConfigError with a single readable line (no values echoed)."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(f"configuration error: {describe_validation_error(exc)}") from None


def exit_on_config_error(exc: ConfigError, service: str) -> NoReturn:
    print(f"{service}: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(78)  # EX_CONFIG
