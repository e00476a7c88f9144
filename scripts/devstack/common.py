"""What every module of the dev stack shares: the repository, one-line errors, printing, the
environment (an empty value counts as not set), DSN masking and a TCP probe."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


class DevError(Exception):
    """A failure explained in one line; the command prints it and exits 1."""


class Shutdown(BaseException):
    """Raised from the SIGTERM/SIGHUP handler to unwind into the cleanup path."""


_print_lock = threading.Lock()


def say(msg: str = "") -> None:
    with _print_lock:
        print(msg, flush=True)


def env_value(name: str) -> str:
    """The variable's value from this process's environment; empty means not set."""
    return os.environ.get(name, "").strip()


def state_dir() -> Path:
    """<repo>/.dev, or NEXUS_DEV_DIR: secrets, logs, data, pgdata, demo.json."""
    return Path(env_value("NEXUS_DEV_DIR") or REPO / ".dev").resolve()


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
