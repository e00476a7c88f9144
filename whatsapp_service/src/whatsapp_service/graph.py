"""The one Graph API client (WhatsApp Cloud API, Messenger / Instagram Send API).

Retries with exponential backoff and jitter when the request certainly did not take effect or
Meta asks for it (connection errors, 429, 5xx, honouring Retry-After); never on other 4xx, and
never after a read timeout, when the message may already be out (the caller decides).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

log = structlog.get_logger("whatsapp_service.graph")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass
class GraphResult:
    ok: bool
    status: int  # HTTP status from Graph; 0 when none arrived
    body: dict[str, Any]
    ambiguous: bool = False  # a timeout after the request was sent
    retryable: bool = False

    @property
    def error_code(self) -> str | None:
        err = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(err, dict) and "code" in err:
            return str(err["code"])
        return None

    @property
    def error_message(self) -> str:
        err = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(err, dict):
            details = (
                err.get("error_data", {}).get("details") if isinstance(err.get("error_data"), dict) else None
            )
            return str(details or err.get("message") or "")[:500]
        return ""


def _wait(attempt: int, response: httpx.Response | None) -> float:
    if response is not None and (ra := response.headers.get("retry-after")):
        try:
            return min(max(float(ra), 0.0), 5.0)
        except ValueError:
            pass
    return min(4.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter


class GraphClient:
    def __init__(self, base_url: str, timeout: float, attempts: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.attempts = max(1, attempts)
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            # As many kept alive as may be open: a campaign batch opens up to 100 at once, and
            # closing them between batches costs a TCP (and TLS) handshake per message.
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            follow_redirects=False,
            headers={"User-Agent": "nexus-whatsapp-service"},
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def post(self, path: str, token: str, body: dict[str, Any]) -> GraphResult:
        return await self.request("POST", path, token, body=body)

    async def get(self, path: str, token: str, params: dict[str, Any]) -> GraphResult:
        """A read: safe to retry after a timeout too (nothing is sent twice)."""
        return await self.request("GET", path, token, params=params)

    async def request(
        self,
        method: str,
        path: str,
        token: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> GraphResult:
        url = f"{self.base_url}/{path.lstrip('/')}"
        headers = {"Authorization": f"Bearer {token}"}
        last: GraphResult | None = None
        for attempt in range(self.attempts):
            response: httpx.Response | None = None
            try:
                response = await self.client.request(method, url, json=body, params=params, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                last = GraphResult(False, 0, {"error": {"message": type(exc).__name__}}, retryable=True)
            except httpx.HTTPError as exc:
                if method == "GET":
                    last = GraphResult(False, 0, {"error": {"message": type(exc).__name__}}, retryable=True)
                else:
                    log.warning("graph.ambiguous", error=type(exc).__name__)
                    return GraphResult(False, 0, {"error": {"message": type(exc).__name__}}, ambiguous=True)
            if response is not None:
                try:
                    data = response.json()
                except ValueError:
                    data = {}
                if not isinstance(data, dict):
                    data = {}
                if response.status_code < 400:
                    return GraphResult(True, response.status_code, data)
                retryable = response.status_code in RETRY_STATUSES
                last = GraphResult(False, response.status_code, data, retryable=retryable)
                if not retryable:
                    return last
            if attempt + 1 < self.attempts:
                log.info("graph.retry", attempt=attempt + 1, status=last.status if last else 0)
                await asyncio.sleep(_wait(attempt, response))
        assert last is not None
        return last
