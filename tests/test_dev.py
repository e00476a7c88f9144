"""`make dev` (scripts/devstack): the whole platform starts, becomes ready and stops with no leftovers.

The slow tests run the real command as a subprocess (`--check`, shifted ports, its own state
directory); the others exercise its environment, secrets and seed handling in-process.
"""

from __future__ import annotations

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

import psycopg
import pytest

from scripts.devstack import common, processes, secretfile, seed

REPO = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "scripts.devstack"]  # what `make dev` runs, from the repository root
RUN_TIMEOUT = 80  # seconds for one whole `--check` run
READY_TIMEOUT = 45  # passed to the command
# What a plain `make dev` runs (the fake OpenAI only starts behind its flag).
SERVICES = {p.name: p.port for p in processes.active()}
READY_PATHS = {p.name: p.ready_path for p in processes.active()}


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
    """Every variable make dev may fill in, plus its own knobs."""
    names = set(secretfile.SECRETS) | {k for p in processes.PROCESSES for k in p.env_defaults}
    names |= {"POSTGRES_DSN", "REDIS_URL", "NEXUS_ENV", "DATA_DIR", "NEXUS_MIGRATIONS_DIR"}
    names |= {k for k in os.environ if k.startswith("NEXUS_DEV_")}
    return names


def clean_env(state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in managed_variables()}
    env["NEXUS_DEV_DIR"] = str(state_dir)
    env["NO_COLOR"] = "1"
    return env


def run_dev(env: dict[str, str], offset: int) -> subprocess.CompletedProcess[str]:
    argv = [*COMMAND, "--check", "--port-offset", str(offset)]
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
        os.killpg(proc.pid, signal.SIGTERM)  # make dev stops its children on SIGTERM
        out, _ = proc.communicate(timeout=20)
        pytest.fail(f"make dev --check did not finish in {RUN_TIMEOUT} s:\n{out}")
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
    stored = secretfile.read_env_file(secrets_file)
    assert set(stored) == set(secretfile.SECRETS)
    for value in stored.values():
        assert value not in out
    assert (tmp_path / "dev" / "logs" / "orchestrator.log").stat().st_size > 0


@pytest.mark.slow
def test_replaced_fakes_skip_their_seed_steps_and_the_platform_comes_up(
    tmp_path: Path, throwaway_db: str
) -> None:
    """A URL variable pointed elsewhere replaces its fake: nothing listens on 127.0.0.1:9, yet the
    platform becomes ready, and the seed steps needing the replaced fakes say they were skipped."""
    offset = free_offset()
    env = clean_env(tmp_path / "dev")
    env["POSTGRES_DSN"] = throwaway_db
    env["TIENDANUBE_API_URL"] = "http://127.0.0.1:9/v1"
    env["WHATSAPP_GRAPH_URL"] = "http://127.0.0.1:9/v21.0"
    env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"

    result = run_dev(env, offset)

    out = result.stdout
    assert result.returncode == 0, out
    assert "dev: check passed" in out, out
    assert (
        "dev: seed: demo store: skipped, TIENDANUBE_API_URL=http://127.0.0.1:9/v1 replaces the "
        "fake_tiendanube it needs" in out
    ), out
    assert "dev: seed: demo owner: skipped, it needs the demo store step" in out, out
    assert "dev: seed: demo WhatsApp number: skipped, WHATSAPP_GRAPH_URL=" in out, out
    assert "FAILED" not in out and "Traceback" not in out, out
    assert "no demo owner was seeded" in out, out
    assert_all_stopped(offset)


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
    for key in secretfile.SECRETS:
        monkeypatch.delenv(key, raising=False)
    path = tmp_path / "secrets.env"

    first = secretfile.load_secrets(path)
    assert set(first) == set(secretfile.SECRETS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert all(len(v) >= 16 for v in first.values())
    from cryptography.fernet import Fernet

    Fernet(first["ENCRYPTION_KEY"])  # a valid key

    assert secretfile.load_secrets(path) == first  # reused, not regenerated

    monkeypatch.setenv("ADMIN_TOKEN", "set-by-the-developer-0123456789")
    third = secretfile.load_secrets(path)
    assert "ADMIN_TOKEN" not in third  # the environment wins; the file is left alone
    assert secretfile.read_env_file(path)["ADMIN_TOKEN"] == first["ADMIN_TOKEN"]


def test_env_defaults_follow_the_port_offset_and_never_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in managed_variables():
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("WHATSAPP_SERVICE_URL", "http://real-whatsapp.example:9999")
    monkeypatch.setenv("AGENT_SERVICE_URL", "")  # empty counts as unset

    env = processes.build_env(tmp_path, 100)

    assert env["NEXUS_ENV"] == "development"
    assert env["DATA_DIR"] == str(tmp_path / "data")
    assert env["NEXUS_MIGRATIONS_DIR"] == str(REPO / "migrations")
    assert env["ORCHESTRATOR_URL"] == "http://127.0.0.1:8100"
    assert env["AGENT_SERVICE_URL"] == "http://127.0.0.1:8101"
    assert env["TIENDANUBE_SERVICE_URL"] == "http://127.0.0.1:8103"
    assert env["BFF_URL"] == "http://127.0.0.1:3100"
    assert env["WHATSAPP_SERVICE_URL"] == "http://real-whatsapp.example:9999"
    assert all(env[k] for k in secretfile.SECRETS)


def test_dsns_are_printed_masked() -> None:
    assert (
        common.mask_dsn("postgresql://nexus:s3cret@db:5432/nexus") == "postgresql://nexus:***@db:5432/nexus"
    )
    assert "s3cret" not in common.mask_dsn("postgresql://u@h/db?password=s3cret&sslmode=require")
    assert common.mask_dsn("postgresql://postgres@127.0.0.1:5432/nexus_dev").endswith(
        "@127.0.0.1:5432/nexus_dev"
    )
    assert common.mask_dsn("redis://:pw@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"


# --------------------------------------------------------------------------------------------
# seed steps (in-process, fast)
# --------------------------------------------------------------------------------------------


def test_a_fake_is_replaced_only_by_another_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in managed_variables():
        monkeypatch.delenv(key, raising=False)
    env = processes.build_env(tmp_path, 100)
    assert processes.replaced_fakes(env, 100) == {}

    env["TIENDANUBE_API_URL"] = "https://user:pw@api.tiendanube.example/v1"
    env["OPENAI_BASE_URL"] = ""  # empty counts as unset: the fake stays
    replaced = processes.replaced_fakes(env, 100)
    assert replaced == {"fake_tiendanube": "TIENDANUBE_API_URL=https://user:***@api.tiendanube.example/v1"}


def test_a_failing_seed_step_says_what_failed_and_the_rest_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[str] = []

    def boom(_demo: seed.Demo) -> str:
        raise KeyError("code")

    def later(_demo: seed.Demo) -> str:
        ran.append("later")
        return "done"

    monkeypatch.setattr(
        seed,
        "SEED_STEPS",
        [
            seed.Step("store", boom),
            seed.Step("needs store", later, needs_steps=("store",)),
            seed.Step("needs graph", later, needs_fakes=("fake_meta_graph",)),
            seed.Step("independent", later),
        ],
    )

    result = seed.run_steps({}, tmp_path, {"fake_meta_graph": "WHATSAPP_GRAPH_URL=http://graph.example"})

    out = capsys.readouterr().out.splitlines()
    assert out == [
        "dev: seed: store FAILED: KeyError: 'code'",
        "dev: seed: needs store: skipped, it needs the store step",
        "dev: seed: needs graph: skipped, WHATSAPP_GRAPH_URL=http://graph.example replaces the "
        "fake_meta_graph it needs",
        "dev: seed: independent: done",
    ]
    assert ran == ["later"]
    assert (result.done, result.skipped, result.failed) == (
        ["independent"],
        ["needs store", "needs graph"],
        ["store"],
    )


def test_the_offline_responder_answers_unless_the_fake_openai_is_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in managed_variables() | {"ANTHROPIC_API_KEY"}:
        monkeypatch.delenv(key, raising=False)
    default = processes.active()
    assert "fake_openai" not in {p.name for p in default}
    env = processes.build_env(tmp_path, 100, default)
    assert not env.get("OPENAI_API_KEY") and not env.get("OPENAI_BASE_URL")
    assert processes.assistant_banner(env, default)[0].startswith("Assistant: Nexus's own offline responder")

    flagged = processes.active(("--fake-openai",))
    env = processes.build_env(tmp_path, 100, flagged)
    assert env["OPENAI_BASE_URL"].endswith(f":{8092 + 100}/v1")
    assert "TEST DOUBLE" in processes.assistant_banner(env, flagged)[0]

    env["OPENAI_API_KEY"] = "sk-real-key-of-the-developer"
    env["OPENAI_BASE_URL"] = "https://user:secret@llm.example/v1"
    [line] = processes.assistant_banner(env, flagged)
    assert "OPENAI_API_KEY is set" in line and "secret" not in line
