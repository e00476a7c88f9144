"""`/health/live` and `/health/ready` for every service.

Readiness runs named checks; a required one failing answers 503 naming it, an optional one
failing is reported as degraded with 200.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse

Check = Callable[[], Awaitable[None]]
log = structlog.get_logger("nexus.health")


@dataclass
class HealthRegistry:
    required: dict[str, Check] = field(default_factory=dict)
    optional: dict[str, Check] = field(default_factory=dict)
    timeout: float = 2.0
    # Exception text in the readiness body (off in production: it is logged instead).
    details: bool = True

    def add(self, name: str, check: Check, *, required: bool = True) -> None:
        (self.required if required else self.optional)[name] = check

    async def _run(self, check: Check) -> str | None:
        try:
            await asyncio.wait_for(check(), self.timeout)
            return None
        except TimeoutError:
            return "timeout"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            msg = str(exc).splitlines()[0][:200] if str(exc) else ""
            return f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__

    async def report(self) -> tuple[int, dict[str, object]]:
        names = [*self.required, *self.optional]
        results = await asyncio.gather(
            *(self._run(c) for c in [*self.required.values(), *self.optional.values()])
        )
        checks: dict[str, dict[str, object]] = {}
        down: list[str] = []
        degraded: list[str] = []
        for name, err in zip(names, results, strict=True):
            required = name in self.required
            checks[name] = {"ok": err is None, "required": required}
            if err and self.details:
                checks[name]["error"] = err
            elif err:
                log.warning("health.check_failed", check=name, error=err)
            if err:
                (down if required else degraded).append(name)
        status = "down" if down else ("degraded" if degraded else "ready")
        body: dict[str, object] = {"status": status, "checks": checks}
        if down:
            body["down"] = down
        if degraded:
            body["degraded"] = degraded
        return (503 if down else 200), body


def health_router(registry: HealthRegistry, service: str) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok", "service": service}

    @router.get("/health/ready")
    async def ready() -> JSONResponse:
        """200 when required dependencies answer; 503 naming what is down."""
        code, body = await registry.report()
        body["service"] = service
        return JSONResponse(body, status_code=code)

    return router
