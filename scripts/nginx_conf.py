"""Render the shipped nginx configuration (nginx/default.conf) for a run outside its container.

Used by `make dev` (scripts/devstack: the dashboard behind a real nginx) and by the tests
(tests/deploy/nginx_harness.py, tests/e2e). The server block is used as shipped; only what ties it
to the container is rewritten: listen address, access-log path, document root and the upstream
addresses (Docker's DNS at 127.0.0.11 does not exist here; with IP literals nginx needs no
resolver). Every rewrite must match exactly once, so a change to the shipped file cannot quietly
leave dev or the tests running something else.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NGINX_DIR = REPO / "nginx"
SERVER_CONF = NGINX_DIR / "default.conf"
RUNTIME_CONF = NGINX_DIR / "nexus-runtime.conf"
ENTRYPOINT_SCRIPT = NGINX_DIR / "docker-entrypoint.d" / "40-runtime-config.sh"

# The upstreams as default.conf names them (`set $<name> <url>;`).
DEFAULT_UPSTREAMS = {"orchestrator": "http://orchestrator:8000", "bff": "http://bff:3000"}


def replace_once(text: str, old: str, new: str) -> str:
    count = text.count(old)
    if count != 1:
        raise ValueError(f"the shipped default.conf should contain {old!r} exactly once (found {count})")
    return text.replace(old, new)


def render_server(
    *,
    port: int,
    access_log: Path,
    root: Path,
    upstreams: dict[str, str] | None = None,
    listen_host: str = "127.0.0.1",
) -> str:
    """default.conf with the container-specific lines pointed at this machine."""
    server = SERVER_CONF.read_text()
    server = replace_once(server, "listen 80 default_server;", f"listen {listen_host}:{port} default_server;")
    server = replace_once(
        server,
        "access_log /var/log/nginx/access.log nexus_access;",
        f"access_log {access_log} nexus_access;",
    )
    server = replace_once(server, "root /usr/share/nginx/html;", f"root {root};")
    for name, url in (upstreams or {}).items():
        server = replace_once(server, f"set ${name} {DEFAULT_UPSTREAMS[name]};", f"set ${name} {url};")
    return server


def render_main(
    prefix: Path, *, error_log: Path, server_conf: Path, runtime_conf: Path = RUNTIME_CONF
) -> str:
    """A main nginx.conf around the server block: foreground, everything under `prefix`."""
    # The distribution's mime.types is the file the nginx image ships too.
    mime = Path("/etc/nginx/mime.types")
    types = (
        f"include {mime};"
        if mime.exists()
        else "types { text/html html; text/css css; application/javascript js; application/json json; }"
    )
    # As root, the workers would otherwise switch to `nobody`, who may not read private dirs.
    user = "user root root;" if os.geteuid() == 0 else ""
    return f"""{user}
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {error_log} info;
events {{ worker_connections 256; }}
http {{
    {types}
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path {prefix}/work/body;
    proxy_temp_path {prefix}/work/proxy;
    fastcgi_temp_path {prefix}/work/fastcgi;
    uwsgi_temp_path {prefix}/work/uwsgi;
    scgi_temp_path {prefix}/work/scgi;
    include {runtime_conf};
    include {server_conf};
}}
"""


def write_config(
    prefix: Path,
    *,
    port: int,
    root: Path,
    upstreams: dict[str, str] | None = None,
    runtime_conf: Path = RUNTIME_CONF,
) -> Path:
    """Write nginx.conf + default.conf under `prefix` (logs in prefix/logs); returns nginx.conf."""
    prefix.mkdir(parents=True, exist_ok=True)
    logs = prefix / "logs"
    logs.mkdir(exist_ok=True)
    (prefix / "work").mkdir(exist_ok=True)
    server_conf = prefix / "default.conf"
    server_conf.write_text(
        render_server(port=port, access_log=logs / "access.log", root=root, upstreams=upstreams)
    )
    conf = prefix / "nginx.conf"
    conf.write_text(
        render_main(prefix, error_log=logs / "error.log", server_conf=server_conf, runtime_conf=runtime_conf)
    )
    return conf


def nginx_argv(nginx_bin: str, conf: Path, prefix: Path) -> list[str]:
    """nginx in the foreground with this configuration (`-e` keeps early errors out of /var/log)."""
    return [nginx_bin, "-c", str(conf), "-p", f"{prefix}/", "-e", str(prefix / "logs" / "error.log")]


def find_nginx() -> str | None:
    import shutil

    found = shutil.which("nginx")
    if found:
        return found
    for candidate in ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None
