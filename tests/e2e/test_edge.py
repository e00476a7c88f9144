"""The built dashboard as nginx serves it: headers, caching, compression, and a clean first load."""

from __future__ import annotations

import re
import urllib.request

import pytest

from .conftest import Platform, new_page, screenshot

pytestmark = pytest.mark.slow


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
        return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()


def test_index_and_assets_are_served_with_the_security_and_cache_headers(platform: Platform) -> None:
    status, headers, body = fetch(f"{platform.url}/inbox")  # a client-side route: index.html
    assert status == 200 and b'<div id="root">' in body
    assert headers["cache-control"] == "no-store"
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    # No inline script in the page: the CSP above would block it.
    assert not re.search(rb"<script(?![^>]*\bsrc=)[^>]*>", body)

    asset = re.search(rb'src="(/assets/[^"]+\.js)"', body)
    assert asset, body[:500]
    status, headers, _ = fetch(f"{platform.url}{asset.group(1).decode()}", {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers.get("content-encoding") == "gzip"

    status, headers, body = fetch(f"{platform.url}/config.js")
    assert status == 200 and headers["cache-control"] == "no-store"
    assert b"window.__NEXUS_CONFIG__" in body


async def test_login_page_finds_the_api_through_nginx_on_a_phone(platform: Platform, browser) -> None:
    ctx, page, problems = await new_page(browser, locale="es-AR", viewport={"width": 390, "height": 844})
    try:
        await page.goto(platform.url + "/")
        await page.wait_for_url("**/login")
        # Spanish from the browser's language; the API found on this page's own origin.
        await page.get_by_role("heading", name="Ingresá a Nexus").wait_for()
        indicator = page.get_by_test_id("status-indicator")
        await indicator.get_by_text("API conectada").wait_for()
        assert (await page.get_by_test_id("api-base").get_attribute("data-source")) == "same-origin"
        assert (await page.get_by_test_id("api-base").inner_text()) == "mismo origen"
        # Usable on a phone: nothing wider than the screen.
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        await screenshot(page, "login-phone")
        assert problems.csp() == [], problems.errors
    finally:
        await ctx.close()
