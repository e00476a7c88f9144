"""Credentials are stored only as ciphertext; rotate-keys re-encrypts; a wrong key stops start-up."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet
from nexus_common.crypto import Crypto
from orchestrator.credentials import service as credentials
from orchestrator.models import Tenant
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from ..conftest import REPO

SECRET = "EAAGtest0123456789abcdefSECRET"


@pytest.fixture(autouse=True)
def _no_job_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests exercise start-up and health; queue workers only add moving parts."""
    monkeypatch.setenv("NEXUS_WORKER_ENABLED", "false")


async def _store(engine: AsyncEngine, key: str) -> str:
    async with async_sessionmaker(engine)() as s, s.begin():
        t = Tenant(name="Store")
        s.add(t)
        await s.flush()
        await credentials.put(s, Crypto(key), t.id, "whatsapp_access_token", SECRET, scope="1234")
        return str(t.id)


async def test_only_ciphertext_is_stored(migrated_engine: AsyncEngine, env: dict[str, str]) -> None:
    tid = await _store(migrated_engine, env["ENCRYPTION_KEY"])
    with psycopg.connect(env["POSTGRES_DSN"]) as conn:
        dump = conn.execute("SELECT ciphertext::text, hint FROM credentials").fetchall()
    assert dump and all(SECRET not in str(row[0]) for row in dump)
    assert dump[0][1] == SECRET[-4:]
    import uuid

    async with async_sessionmaker(migrated_engine)() as s:
        got = await credentials.get(
            s, Crypto(env["ENCRYPTION_KEY"]), uuid.UUID(tid), "whatsapp_access_token", "1234"
        )
    assert got == SECRET


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )


async def test_rotate_keys_reencrypts_with_the_first_key(
    migrated_engine: AsyncEngine, env: dict[str, str]
) -> None:
    old = env["ENCRYPTION_KEY"]
    await _store(migrated_engine, old)
    new = Fernet.generate_key().decode()
    proc = _cli({**env, "ENCRYPTION_KEY": f"{new},{old}"}, "rotate-keys")
    assert proc.returncode == 0, proc.stderr
    assert "re-encrypted 1 credential(s)" in proc.stdout
    with psycopg.connect(env["POSTGRES_DSN"]) as conn:
        (ct,) = conn.execute("SELECT ciphertext FROM credentials").fetchone()  # type: ignore[misc]
        actions = conn.execute("SELECT action, payload->>'rotated' FROM audit_log").fetchall()
    assert Crypto(new).decrypt(ct) == SECRET  # the old key is no longer needed
    assert ("credentials.rotate_keys", "1") in actions
    again = _cli({**env, "ENCRYPTION_KEY": f"{new},{old}"}, "rotate-keys")
    assert "re-encrypted 0 credential(s)" in again.stdout


async def test_rotate_with_a_wrong_key_changes_nothing(
    migrated_engine: AsyncEngine, env: dict[str, str]
) -> None:
    await _store(migrated_engine, env["ENCRYPTION_KEY"])
    with psycopg.connect(env["POSTGRES_DSN"]) as conn:
        before = conn.execute("SELECT ciphertext FROM credentials").fetchall()
    proc = _cli({**env, "ENCRYPTION_KEY": Fernet.generate_key().decode()}, "rotate-keys")
    assert proc.returncode == 1
    assert "ENCRYPTION_KEY" in proc.stderr and "nothing was changed" in proc.stderr
    with psycopg.connect(env["POSTGRES_DSN"]) as conn:
        assert conn.execute("SELECT ciphertext FROM credentials").fetchall() == before


async def test_wrong_key_stops_orchestrator_start(
    migrated_engine: AsyncEngine, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestrator.app import create_app
    from orchestrator.startup import FatalStartupError

    await _store(migrated_engine, env["ENCRYPTION_KEY"])
    monkeypatch.setenv("ENCRYPTION_KEY", Fernet.generate_key().decode())
    app = create_app()
    with pytest.raises(FatalStartupError, match="ENCRYPTION_KEY"):
        async with app.router.lifespan_context(app):
            pass
    # With the right key it starts and is ready.
    monkeypatch.setenv("ENCRYPTION_KEY", env["ENCRYPTION_KEY"])
    app = create_app()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            assert (await c.get("/health/ready")).status_code == 200
