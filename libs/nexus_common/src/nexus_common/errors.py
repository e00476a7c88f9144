"""One error base class with a real status code, rendered by one JSON handler."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger("nexus.errors")


class NexusError(Exception):
    status_code: int = 500
    code: str = "internal_error"
    message: str = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.details = details
        self.headers = headers
        super().__init__(self.message)


class BadRequest(NexusError):
    status_code, code, message = 400, "bad_request", "Bad request"


class Unauthorized(NexusError):
    status_code, code, message = 401, "unauthorized", "Missing or invalid credentials"


class Forbidden(NexusError):
    status_code, code, message = 403, "forbidden", "Not allowed"


class NotFound(NexusError):
    status_code, code, message = 404, "not_found", "Not found"


class Conflict(NexusError):
    status_code, code, message = 409, "conflict", "Conflict"


class PayloadTooLarge(NexusError):
    status_code, code, message = 413, "payload_too_large", "Request body too large"


class TooManyRequests(NexusError):
    status_code, code, message = 429, "too_many_requests", "Too many requests; try again later"


class ServiceUnavailable(NexusError):
    status_code, code, message = 503, "unavailable", "Temporarily unavailable, retry later"


def error_payload(
    code: str, message: str, details: Any = None, request_id: str | None = None
) -> dict[str, Any]:
    """The one JSON shape of every error answer: `{"error": {code, message[, details]}[, request_id]}`."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    if request_id:
        body["request_id"] = request_id
    return body


def error_body(request: Request, code: str, message: str, details: Any = None) -> dict[str, Any]:
    return error_payload(code, message, details, getattr(request.state, "request_id", None))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NexusError)
    async def _nexus(request: Request, exc: NexusError) -> JSONResponse:
        if exc.status_code >= 500:
            log.error("request.failed", code=exc.code, status=exc.status_code)
        return JSONResponse(
            error_body(request, exc.code, exc.message, exc.details),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Echo where and what, never the submitted value (it may hold a secret).
        details = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse(
            error_body(request, "validation_error", "Request validation failed", details), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(request, code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request.unhandled", error_type=type(exc).__name__)
        return JSONResponse(error_body(request, "internal_error", "Internal error"), status_code=500)
