"""The one Graph API client (WhatsApp Cloud API, Messenger / Instagram Send API).

Retries with exponential backoff and jitter when the request certainly did not take effect or
Meta asks for it (connection errors, 429, 5xx, honouring Retry-After); never on other 4xx, and
never after a read timeout, when the message may already be out (the caller decides).

aiohttp, not httpx: a campaign sends up to 1,000 messages a second through here, one request
each, and httpx's pool checks every pooled connection for readability (a `select` per
connection) on each request it assigns. Measured against the fake Graph with 50 requests in
flight: httpx 0.93 ms of CPU per request with 10 connections, 1.62 ms with 100; aiohttp 0.12 ms
with 100 (docs/campaigns.md#benchmark).
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog
from nexus_common.http import RETRY_STATUSES, shared_ssl_context

log = structlog.get_logger("whatsapp_service.graph")


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


def _wait(attempt: int, retry_after: str | None) -> float:
    if ra := retry_after:
        try:
            return min(max(float(ra), 0.0), 5.0)
        except ValueError:
            pass
    return min(4.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter


# Certainly not sent: the connection was never made (or never handed out by the pool).
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


class GraphClient:
    def __init__(self, base_url: str, timeout: float, attempts: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.attempts = max(1, attempts)
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))
        self.session: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        """Made on first use: an aiohttp session belongs to the running event loop."""
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession(
                # As many kept alive as may be open: a campaign batch opens up to 100 at once, and
                # closing them between batches costs a TCP (and TLS) handshake per message.
                connector=aiohttp.TCPConnector(
                    limit=100, limit_per_host=0, keepalive_timeout=30, ssl=shared_ssl_context()
                ),
                timeout=self.timeout,
                headers={"User-Agent": "nexus-whatsapp-service"},
                raise_for_status=False,
            )
        return self.session

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()

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
        query = {k: str(v) for k, v in params.items()} if params else None
        last: GraphResult | None = None
        for attempt in range(self.attempts):
            retry_after: str | None = None
            try:
                async with self._session().request(
                    method, url, json=body, params=query, headers=headers, allow_redirects=False
                ) as response:
                    status, raw = response.status, await response.read()
                    retry_after = response.headers.get("retry-after")
            except _NOT_SENT as exc:
                last = GraphResult(False, 0, {"error": {"message": type(exc).__name__}}, retryable=True)
            except (aiohttp.ClientError, TimeoutError) as exc:
                # Sent, or maybe sent: a POST may have taken effect, so it is not retried here.
                if method == "GET":
                    last = GraphResult(False, 0, {"error": {"message": type(exc).__name__}}, retryable=True)
                else:
                    log.warning("graph.ambiguous", error=type(exc).__name__)
                    return GraphResult(False, 0, {"error": {"message": type(exc).__name__}}, ambiguous=True)
            else:
                try:
                    data = json.loads(raw)
                except ValueError:
                    data = {}
                if not isinstance(data, dict):
                    data = {}
                if status < 400:
                    return GraphResult(True, status, data)
                retryable = status in RETRY_STATUSES
                last = GraphResult(False, status, data, retryable=retryable)
                if not retryable:
                    return last
            if attempt + 1 < self.attempts:
                log.info("graph.retry", attempt=attempt + 1, status=last.status if last else 0)
                await asyncio.sleep(_wait(attempt, retry_after))
        assert last is not None
        return last
