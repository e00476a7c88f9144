"""The webhook POSTs as a pure-ASGI fast path, in front of FastAPI's router.

Meta's webhooks are most of the orchestrator's requests. Through FastAPI each one paid for the
route scan over every dashboard route, dependency solving, the exception and exit-stack layers
and a Response object: py-spy put that at about half the time of an acknowledgement, the handler
itself at a sixth (bench/ingest.py --py-spy). Here `POST /webhooks/whatsapp|meta` is answered
directly by the same `receive` the FastAPI routes call (those stay, for the OpenAPI document and
any other method). It sits inside the request-id and body-size middleware, so a webhook still
gets its X-Request-ID and the 3 MB cap, and its errors have the one JSON shape
(`{"error": {"code", "message"}, "request_id"}`); anything unexpected propagates to the app's
500 handler as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import structlog
from nexus_common.errors import NexusError, error_payload
from starlette.types import ASGIApp, Receive, Scope, Send

from .endpoints import receive
from .parsing import ParsedWebhook, parse_meta, parse_whatsapp

ROUTES: dict[str, tuple[str, Callable[[Any], ParsedWebhook]]] = {
    "/webhooks/whatsapp": ("whatsapp", parse_whatsapp),
    "/webhooks/meta": ("meta", parse_meta),
}
log = structlog.get_logger("nexus.errors")
_OK = b'{"status":"received"}'


class WebhookIngress:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive_: Receive, send: Send) -> None:
        route = ROUTES.get(scope.get("path", "")) if scope["type"] == "http" else None
        if route is None or scope.get("method") != "POST":
            await self.app(scope, receive_, send)
            return
        source, parse = route
        chunks: list[bytes] = []
        while True:
            message = await receive_()
            if message["type"] == "http.disconnect":
                return  # the caller left before sending its body: nothing stored, nothing to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        header = ""
        for k, v in scope.get("headers", []):
            if k == b"x-hub-signature-256":
                header = v.decode("latin-1")
                break
        try:
            await receive(scope["app"].state, source, parse, header, b"".join(chunks))
        except NexusError as exc:
            if exc.status_code >= 500:
                log.error("request.failed", code=exc.code, status=exc.status_code)
            body = error_payload(exc.code, exc.message, exc.details, scope.get("state", {}).get("request_id"))
            await _respond(send, exc.status_code, json.dumps(body).encode(), exc.headers)
            return
        await _respond(send, 200, _OK, None)


async def _respond(send: Send, status: int, body: bytes, headers: dict[str, str] | None) -> None:
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    for k, v in (headers or {}).items():
        raw_headers.append((k.lower().encode("latin-1"), v.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
