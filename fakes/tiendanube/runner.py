"""Run an ASGI app with uvicorn in a background thread on a loopback port (tests, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThreadServer:
    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        # Wait for the whole shutdown (an orchestrator stops its queue workers, up to ~30 s on a
        # loaded machine): a server thread left running after its test keeps executing jobs against
        # whatever runtime the next test installs, from another event loop (seen: a segfault).
        self.thread.join(timeout=60)
        if self.thread.is_alive():
            raise RuntimeError(f"server on {self.url} did not stop within 60 s")
