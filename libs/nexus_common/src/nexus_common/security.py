"""X-Internal-Token: service-to-service authentication, compared in constant time."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import Unauthorized

HEADER = "X-Internal-Token"
PUBLIC_PATHS: frozenset[str] = frozenset({"/health/live", "/health/ready"})


def token_matches(presented: str | None, expected: str) -> bool:
    if not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


class InternalTokenMiddleware:
    """Protects every route of an internal service by default; only `public_paths` are open."""

    def __init__(self, app: ASGIApp, token: str, public_paths: Iterable[str] = PUBLIC_PATHS) -> None:
        self.app = app
        self.token = token
        self.public = frozenset(public_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") not in self.public:
            presented = None
            for k, v in scope.get("headers", []):
                if k == b"x-internal-token":
                    presented = v.decode("latin-1")
                    break
            if not token_matches(presented, self.token):
                body = json.dumps(
                    {"error": {"code": "unauthorized", "message": f"missing or invalid {HEADER}"}}
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def require_internal_token(expected: str):
    """A FastAPI dependency for internal routers mounted on a public service (the orchestrator)."""

    async def dependency(request: Request) -> None:
        if not token_matches(request.headers.get(HEADER), expected):
            raise Unauthorized(f"missing or invalid {HEADER}")

    return dependency
