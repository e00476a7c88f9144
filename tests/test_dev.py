"""`make dev` (scripts/dev.py): the whole platform starts, becomes ready and stops with no leftovers.

The slow tests run the real script as a subprocess (`--check`, shifted ports, its own state
directory); the others exercise its environment and secrets handling in-process.
"""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "dev.py"
RUN_TIMEOUT = 80  # seconds for one whole `dev.py --check` run
READY_TIMEOUT = 45  # passed to the script


def _load_dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nexus_dev_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


dev = _load_dev()
SERVICES = {p.name: p.port for p in dev.PROCESSES}
READY_PATHS = {p.name: p.ready_path for p in dev.PROCESSES}


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return not _listening(port)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def free_offset() -> int:
    """An offset that puts every service on a free port below the ephemeral range."""
    for _ in range(200):
        offset = random.randrange(10_000, 24_000)
        if all(_port_free(p + offset) for p in SERVICES.values()):
            return offset
    raise RuntimeError("no free port offset found")


def managed_variables() -> set[str]:
    """Every variable dev.py may fill in, plus its own knobs."""
    names = set(dev.SECRETS) | {k for p in dev.PROCESSES for k in p.env_defaults}
    names |= {"POSTGRES_DSN", "REDIS_URL", "NEXUS_ENV", "DATA_DIR", "NEXUS_MIGRATIONS_DIR"}
    names |= {k for k in os.environ if k.startswith("NEXUS_DEV_")}
    return names


def clean_env(state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in managed_variables()}
    env["NEXUS_DEV_DIR"] = str(state_dir)
    env["NO_COLOR"] = "1"
    return env


def run_dev(env: dict[str, str], offset: int) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(SCRIPT), "--check", "--port-offset", str(offset)]
    argv += ["--timeout", str(READY_TIMEOUT)]
    proc = subprocess.Popen(
        argv,
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # dev.py stops its children on SIGTERM
        out, _ = proc.communicate(timeout=20)
        pytest.fail(f"dev.py --check did not finish in {RUN_TIMEOUT} s:\n{out}")
    return subprocess.CompletedProcess(argv, proc.returncode, out, "")


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that contain `text` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and "pytest" not in cmdline:
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found


def assert_all_stopped(offset: int) -> None:
    for name, port in SERVICES.items():
        assert not _listening(port + offset), f"{name} still listening on {port + offset}"
        assert processes_mentioning(f"--port {port + offset}") == [], f"{name} left a process"


def assert_all_ready(out: str, offset: int) -> None:
    for name, port in SERVICES.items():
        url = f"http://127.0.0.1:{port + offset}{READY_PATHS[name]}"
        assert f"dev: ready: {name} {url}" in out, f"{name} not reported ready:\n{out}"
    assert f"dev: all {len(SERVICES)} services ready" in out, out
    assert "sign in as the demo store's owner: demo.owner@nexus.example.com" in out, out
    assert "dev: check passed" in out, out


@pytest.fixture
def throwaway_db() -> Iterator[str]:
    """A database of its own on 127.0.0.1:5432, dropped afterwards."""
    admin = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"nexus_devtest_{random.getrandbits(48):012x}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rpartition("/")[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------------------------
# the real thing
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_check_starts_every_service_on_the_given_database(tmp_path: Path, throwaway_db: str) -> None:
    offset = free_offset()
    env = clean_env(tmp_path / "dev")
    env["POSTGRES_DSN"] = throwaway_db

    result = run_dev(env, offset)

    assert result.returncode == 0, result.stdout
    out = result.stdout
    assert "dev: postgres: POSTGRES_DSN from the environment" in out
    assert_all_ready(out, offset)
    assert_all_stopped(offset)
    # The orchestrator migrated the database it was given.
    with psycopg.connect(throwaway_db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() is not None
    # Secrets were generated once, kept private, and never printed.
    secrets_file = tmp_path / "dev" / "secrets.env"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    stored = dev.read_env_file(secrets_file)
    assert set(stored) == set(dev.SECRETS)
    for value in stored.values():
        assert value not in out
    assert (tmp_path / "dev" / "logs" / "orchestrator.log").stat().st_size > 0


@pytest.fixture
def outside_tmp() -> Iterator[Path]:
    """A temporary directory outside pytest's basetemp.

    The embedded server runs as a system user of its own that must traverse every parent of its
    data directory, and each pytest session (others may start meanwhile) resets
    /tmp/pytest-of-<user> to 0700.
    """
    with tempfile.TemporaryDirectory(prefix="nexus-devtest-") as d:
        yield Path(d)


@pytest.mark.slow
def test_falls_back_to_an_embedded_postgres(outside_tmp: Path) -> None:
    offset = free_offset()
    state = outside_tmp / "dev"
    env = clean_env(state)
    env["POSTGRES_DSN"] = ""
    env["NEXUS_DEV_LOCAL_PG"] = "127.0.0.1:1"  # the "machine's own" Postgres is unreachable

    result = run_dev(env, offset)
    out = result.stdout

    assert "dev: starting an embedded Postgres" in out, out
    # Whatever happened, nothing is left running: no service, no embedded server.
    assert_all_stopped(offset)
    assert list(state.glob("pgdata/*/postmaster.pid")) == [], "embedded Postgres left running"
    assert processes_mentioning(str(state / "pgdata")) == []

    assert result.returncode == 0, out
    assert "dev: postgres: embedded" in out, out
    assert_all_ready(out, offset)


# --------------------------------------------------------------------------------------------
# environment and secrets (in-process, fast)
# --------------------------------------------------------------------------------------------


def test_secrets_are_created_once_private_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in dev.SECRETS:
        monkeypatch.delenv(key, raising=False)
    path = tmp_path / "secrets.env"

    first = dev.load_secrets(path)
    assert set(first) == set(dev.SECRETS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert all(len(v) >= 16 for v in first.values())
    from cryptography.fernet import Fernet

    Fernet(first["ENCRYPTION_KEY"])  # a valid key

    assert dev.load_secrets(path) == first  # reused, not regenerated

    monkeypatch.setenv("ADMIN_TOKEN", "set-by-the-developer-0123456789")
    third = dev.load_secrets(path)
    assert "ADMIN_TOKEN" not in third  # the environment wins; the file is left alone
    assert dev.read_env_file(path)["ADMIN_TOKEN"] == first["ADMIN_TOKEN"]


def test_env_defaults_follow_the_port_offset_and_never_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in managed_variables():
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("WHATSAPP_SERVICE_URL", "http://real-whatsapp.example:9999")
    monkeypatch.setenv("AGENT_SERVICE_URL", "")  # empty counts as unset

    env = dev.build_env(tmp_path, 100)

    assert env["NEXUS_ENV"] == "development"
    assert env["DATA_DIR"] == str(tmp_path / "data")
    assert env["NEXUS_MIGRATIONS_DIR"] == str(REPO / "migrations")
    assert env["ORCHESTRATOR_URL"] == "http://127.0.0.1:8100"
    assert env["AGENT_SERVICE_URL"] == "http://127.0.0.1:8101"
    assert env["TIENDANUBE_SERVICE_URL"] == "http://127.0.0.1:8103"
    assert env["BFF_URL"] == "http://127.0.0.1:3100"
    assert env["WHATSAPP_SERVICE_URL"] == "http://real-whatsapp.example:9999"
    assert all(env[k] for k in dev.SECRETS)


def test_dsns_are_printed_masked() -> None:
    assert dev.mask_dsn("postgresql://nexus:s3cret@db:5432/nexus") == "postgresql://nexus:***@db:5432/nexus"
    assert "s3cret" not in dev.mask_dsn("postgresql://u@h/db?password=s3cret&sslmode=require")
    assert dev.mask_dsn("postgresql://postgres@127.0.0.1:5432/nexus_dev").endswith(
        "@127.0.0.1:5432/nexus_dev"
    )
    assert dev.mask_dsn("redis://:pw@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
