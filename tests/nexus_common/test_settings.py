from __future__ import annotations

import os
import subprocess
import sys

import pytest
from nexus_common.settings import ConfigError, load_settings
from orchestrator.config import Settings

from ..conftest import REPO


def test_missing_required_variable_is_named(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADMIN_TOKEN")
    with pytest.raises(ConfigError) as exc:
        load_settings(Settings)
    assert str(exc.value) == "configuration error: ADMIN_TOKEN is required but not set"


def test_malformed_encryption_key_is_named_without_echoing_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", "not-a-fernet-key-but-secretish")
    with pytest.raises(ConfigError) as exc:
        load_settings(Settings)
    msg = str(exc.value)
    assert "ENCRYPTION_KEY" in msg and "Fernet" in msg
    assert "not-a-fernet-key-but-secretish" not in msg


def test_malformed_dsn_is_named(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_DSN", "mysql://root:hunter2@db/x")
    with pytest.raises(ConfigError) as exc:
        load_settings(Settings)
    assert "POSTGRES_DSN" in str(exc.value)
    assert "hunter2" not in str(exc.value)


def test_placeholder_secret_refused_in_production_only(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADMIN_TOKEN", "change-me-admin-token")
    monkeypatch.setenv("NEXUS_ENV", "production")
    with pytest.raises(ConfigError) as exc:
        load_settings(Settings)
    assert "ADMIN_TOKEN" in str(exc.value) and "placeholder" in str(exc.value)
    monkeypatch.setenv("NEXUS_ENV", "development")
    assert load_settings(Settings).admin_token.get_secret_value() == "change-me-admin-token"


def test_production_is_the_default_environment(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEXUS_ENV")
    assert load_settings(Settings).is_production


@pytest.mark.parametrize(
    "module",
    ["orchestrator", "agent_service", "whatsapp_service", "tiendanube_service", "bff"],
)
def test_service_exits_at_start_with_one_line_naming_the_variable(module: str) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("INTERNAL_API_TOKEN", "ADMIN_TOKEN")}
    proc = subprocess.run(
        [sys.executable, "-c", f"from {module}.app import create_app; create_app()"],
        env={
            **clean,
            "NEXUS_ENV": "test",
            "POSTGRES_DSN": "postgresql://x@127.0.0.1:1/x",
            "ENCRYPTION_KEY": "x" * 43 + "=",
        },
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == 78
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{module}: configuration error:")
    assert "INTERNAL_API_TOKEN is required but not set" in lines[0]


def test_placeholder_inside_a_dsn_is_refused_in_production(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGRES_DSN", "postgresql://nexus:change-me-db-password@postgres:5432/nexus")
    monkeypatch.setenv("NEXUS_ENV", "production")
    with pytest.raises(ConfigError) as exc:
        load_settings(Settings)
    assert "POSTGRES_DSN" in str(exc.value)
    assert "change-me-db-password" not in str(exc.value)


def test_empty_optional_values_count_as_unset(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("API_BASE_URL", "")
    s = load_settings(Settings)
    assert s.redis_url is None
    assert s.api_base_url == "http://localhost"
