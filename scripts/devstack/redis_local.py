"""Redis: REDIS_URL if set, else the machine's own server if it answers PING, else none (the
platform runs degraded)."""

from __future__ import annotations

import socket

from .common import HOST, env_value, mask_dsn, parse_hostport


def redis_ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0) as s:
            s.settimeout(1.0)
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def pick_redis() -> tuple[str | None, str]:
    """(url or None, description). NEXUS_DEV_LOCAL_REDIS replaces 127.0.0.1:6379 (tests)."""
    url = env_value("REDIS_URL")
    if url:
        return url, f"REDIS_URL from the environment ({mask_dsn(url)})"
    local = env_value("NEXUS_DEV_LOCAL_REDIS") or f"{HOST}:6379"
    host, port = parse_hostport(local, "NEXUS_DEV_LOCAL_REDIS")
    if redis_ping(host, port):
        url = f"redis://{host}:{port}/0"
        return url, f"local server {url}"
    return None, f"degraded: no Redis (nothing answers PING on {local})"
