"""httpx client factory with timeouts, and retries with backoff and jitter (tenacity).

Retries cover network errors, 429 and 5xx; other 4xx are final. A `Retry-After` header on 429/503
is honoured up to the cap.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from .security import HEADER

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once per process. Building it loads the CA bundle, which
    took 20-50 ms on a quiet machine and 400+ ms on the loaded development machine, for every
    client created; code that opens a client per job (an order webhook opened two) paid that on
    every event. The context is read-only once built, so clients may share it."""
    return httpx.create_ssl_context()


def make_client(
    base_url: str = "",
    *,
    timeout: float = 10.0,
    connect_timeout: float = 3.0,
    internal_token: str | None = None,
    headers: dict[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    max_connections: int = 100,
    max_keepalive: int = 20,
) -> httpx.AsyncClient:
    hdrs = dict(headers or {})
    if internal_token:
        hdrs[HEADER] = internal_token
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        headers=hdrs,
        transport=transport,
        # Idle connections are dropped after 4 s, before uvicorn's 5 s keep-alive timeout closes
        # them on the server side: reusing one the server is closing fails the request.
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_keepalive, keepalive_expiry=4.0
        ),
        follow_redirects=False,
        verify=shared_ssl_context(),
    )


class RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        super().__init__(f"retryable status {response.status_code}")


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableStatus | httpx.TransportError)


def _retry_after(response: httpx.Response, cap: float) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), cap)
    except ValueError:
        return None


async def request_with_retries(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    attempts: int = 4,
    max_wait: float = 8.0,
    deadline: float = 60.0,
    initial_wait: float = 0.2,
    on_retry: Callable[[RetryCallState], Awaitable[None] | None] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request, retrying network errors, 429 and 5xx; returns the last response.

    A final non-retryable response (e.g. 400) is returned as is; the caller decides. When retries
    are exhausted on a retryable status, that last response is returned.
    """
    base_wait = wait_exponential_jitter(multiplier=initial_wait, max=max_wait, jitter=initial_wait)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatus):
            ra = _retry_after(exc.response, max_wait)
            if ra is not None:
                return ra
        return base_wait(state)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts) | stop_after_delay(deadline),
        wait=wait,
        retry=retry_if_exception(_is_retryable),
        reraise=True,
        before_sleep=on_retry,
    )
    try:
        async for attempt in retrying:
            with attempt:
                response = await client.request(method, url, **kwargs)
                if response.status_code in RETRY_STATUSES:
                    raise RetryableStatus(response)
                return response
    except RetryableStatus as exc:
        return exc.response
    raise AssertionError("unreachable")  # pragma: no cover
