"""Retries against a real local HTTP server that fails on command."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, Response
from nexus_common.http import make_client, request_with_retries

from ..conftest import free_port, serve


@pytest.fixture
async def flaky() -> AsyncIterator[tuple[str, dict[str, list[int]]]]:
    """A server whose /status/{key} answers the scripted statuses in turn, then 200."""
    script: dict[str, list[int]] = {}
    calls: dict[str, int] = {}
    app = FastAPI()

    @app.get("/status/{key}")
    async def status(key: str) -> Response:
        calls[key] = calls.get(key, 0) + 1
        seq = script.get(key, [])
        code = seq.pop(0) if seq else 200
        headers = {"Retry-After": "0"} if code == 429 else {}
        return Response(status_code=code, content=str(calls[key]), headers=headers)

    async with serve(app, lifespan="off") as url:
        yield url, script


async def test_retries_5xx_and_429_then_succeeds(flaky: tuple[str, dict[str, list[int]]]) -> None:
    base, script = flaky
    script["a"] = [500, 429, 503]
    async with make_client(base, internal_token="tok-0123456789abcdef") as c:
        r = await request_with_retries(c, "GET", "/status/a", initial_wait=0.01, max_wait=0.05)
    assert r.status_code == 200
    assert r.text == "4"  # three failures, then the fourth call succeeded


async def test_4xx_is_final(flaky: tuple[str, dict[str, list[int]]]) -> None:
    base, script = flaky
    script["b"] = [400, 200]
    async with make_client(base) as c:
        r = await request_with_retries(c, "GET", "/status/b", initial_wait=0.01)
    assert r.status_code == 400 and r.text == "1"


async def test_gives_up_after_attempts_with_last_response(flaky: tuple[str, dict[str, list[int]]]) -> None:
    base, script = flaky
    script["c"] = [502] * 10
    async with make_client(base) as c:
        r = await request_with_retries(c, "GET", "/status/c", attempts=3, initial_wait=0.01, max_wait=0.02)
    assert r.status_code == 502 and r.text == "3"


async def test_network_error_is_retried_then_raised() -> None:
    import httpx

    async with make_client(f"http://127.0.0.1:{free_port()}", connect_timeout=0.5) as c:
        with pytest.raises(httpx.ConnectError):
            await request_with_retries(c, "GET", "/", attempts=2, initial_wait=0.01)


async def test_clients_share_one_tls_context_instead_of_loading_the_ca_bundle_each_time() -> None:
    """Code that opens a client per job (order webhooks, recovery batches) must not rebuild the
    TLS context (the CA bundle load) for each one."""
    a, b = make_client("http://127.0.0.1:1"), make_client("https://example.com")
    try:
        ctx_a = a._transport._pool._ssl_context  # type: ignore[attr-defined]
        ctx_b = b._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert ctx_a is ctx_b
        assert ctx_a.verify_mode == ssl.CERT_REQUIRED and ctx_a.check_hostname  # still verifying
    finally:
        await a.aclose()
        await b.aclose()
