"""`python -m fakes.meta_graph --port 8090 [--status-webhook URL --app-secret S]`."""

from __future__ import annotations

import argparse

import uvicorn

from .app import FakeState, create_app


def main() -> None:
    p = argparse.ArgumentParser(description="Fake Meta Graph API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--status-webhook", help="POST signed 'sent' statuses here (the orchestrator)")
    p.add_argument("--app-secret", default="", help="signs those webhooks")
    a = p.parse_args()
    state = FakeState()
    if a.status_webhook:
        state.status_webhook = {"url": a.status_webhook, "app_secret": a.app_secret}
    uvicorn.run(create_app(state), host=a.host, port=a.port, log_level="warning")


if __name__ == "__main__":
    main()
