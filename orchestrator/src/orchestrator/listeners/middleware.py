"""`/internal/*` answers only on the internal listener.

The orchestrator listens on two ports (see listeners/serve.py): the public one (behind nginx,
published by compose) and an internal one that compose never publishes. A request for
`/internal/...` that arrived on any other port gets 404, as if the route did not exist: the
internal API (decrypted LLM keys, customers' orders) is not reachable from outside, whatever
token the caller holds.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

INTERNAL_PREFIX = "/internal"


class InternalListenerMiddleware:
    def __init__(self, app: ASGIApp, internal_port: int) -> None:
        self.app = app
        self.internal_port = internal_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope.get("path", "")
            internal = path == INTERNAL_PREFIX or path.startswith(INTERNAL_PREFIX + "/")
            server = scope.get("server") or (None, None)
            if internal and server[1] != self.internal_port:
                body = json.dumps({"error": {"code": "not_found", "message": "Not found"}}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 404,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", b"%d" % len(body)),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
