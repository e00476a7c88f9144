"""The orchestrator's two listeners, as real processes: /internal/* answers only on the internal
port (404 on the public one, whatever the token), and forwarded headers are trusted only from
FORWARDED_ALLOW_IPS."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests.conftest import REPO, free_port

INTERNAL = {"X-Internal-Token": "test-internal-token-0123456789"}
ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}


@contextlib.contextmanager
def listeners(env: dict[str, str], **extra: str) -> Iterator[tuple[str, str]]:
    public, internal = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestrator.listeners.serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(public),
            "--internal-port",
            str(internal),
        ],  # fmt: skip
        env={**env, **extra},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    try:
        base = f"http://127.0.0.1:{public}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            assert proc.poll() is None, "orchestrator exited"
            time.sleep(0.2)
        else:
            raise AssertionError("orchestrator not ready")
        yield base, f"http://127.0.0.1:{internal}"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def full_env(base_env: dict[str, str]) -> dict[str, str]:
    import os

    return {**os.environ, **base_env, "NEXUS_WORKER_ENABLED": "false"}


@pytest.mark.slow
def test_internal_routes_answer_only_on_the_internal_listener(full_env: dict[str, str]) -> None:
    with listeners(full_env) as (public, internal):
        tenant = httpx.post(f"{public}/api/v1/tenants", json={"name": "Split"}, headers=ADMIN).json()["id"]
        path = f"/internal/tenants/{tenant}/llm-keys"
        outside = httpx.get(public + path, headers=INTERNAL)
        assert outside.status_code == 404 and outside.json()["error"]["code"] == "not_found"
        assert httpx.get(public + "/internal/auth/verify", headers=INTERNAL).status_code == 404
        inside = httpx.get(internal + path, headers=INTERNAL)
        assert inside.status_code == 200, inside.text
        assert httpx.get(internal + path).status_code == 401  # and still needs the token there
        # The public API is where it was.
        assert httpx.get(f"{public}/api/v1/tenants", headers=ADMIN).status_code == 200


def _login_ip(base: str, dsn: str, forged: str) -> str:
    email = f"nobody-{time.monotonic_ns()}@example.com"
    r = httpx.post(
        f"{base}/api/v1/auth/login",
        json={"email": email, "password": "wrong password!"},
        headers={"X-Forwarded-For": forged},
    )
    assert r.status_code == 401
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT payload->>'ip' FROM audit_log WHERE action = 'auth.login_failed' "
            "ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.slow
def test_forwarded_for_is_trusted_only_from_the_proxy(full_env: dict[str, str]) -> None:
    dsn = full_env["POSTGRES_DSN"]
    # nginx (here: some other address) is the only trusted hop: a direct client cannot forge its IP.
    with listeners(full_env, FORWARDED_ALLOW_IPS="10.9.9.9") as (public, _):
        assert _login_ip(public, dsn, "203.0.113.9") == "127.0.0.1"
    # From the trusted proxy's address the header names the real client.
    with listeners(full_env, FORWARDED_ALLOW_IPS="127.0.0.1") as (public, _):
        assert _login_ip(public, dsn, "203.0.113.9") == "203.0.113.9"
