"""`python -m orchestrator.listeners.serve`: the orchestrator on its two listeners.

    --port 8000            public: the dashboard API, webhooks, OAuth (nginx proxies here)
    --internal-port 8010   internal: /internal/* for the other services (never published)

One process, one app, two sockets; /internal/* answers only on the internal one
(listeners/middleware.py). Forwarded headers (X-Forwarded-For/-Proto) are trusted only from
FORWARDED_ALLOW_IPS (the nginx container's address in compose; default: loopback only).
"""

from __future__ import annotations

import argparse
import os
import socket

import uvicorn


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="orchestrator.listeners.serve")
    env = os.environ
    # Defaults from the image's environment (UVICORN_HOST/PORT, NEXUS_INTERNAL_PORT).
    parser.add_argument("--host", default=env.get("UVICORN_HOST", "0.0.0.0"))  # noqa: S104 - a container
    parser.add_argument("--port", type=int, default=int(env.get("UVICORN_PORT", "8000")))
    parser.add_argument("--internal-port", type=int, default=int(env.get("NEXUS_INTERNAL_PORT", "8010")))
    args = parser.parse_args(argv)
    # The app reads it from its settings: /internal/* only on this port.
    os.environ["NEXUS_INTERNAL_PORT"] = str(args.internal_port)
    config = uvicorn.Config(
        "orchestrator.app:create_app",
        factory=True,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[bind(args.host, args.port), bind(args.host, args.internal_port)])


if __name__ == "__main__":
    main()
