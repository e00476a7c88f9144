"""Selling in the chat, end to end in `make dev`'s demo with no LLM key: the platform's own
offline responder offers products as a WhatsApp list, the simulated customer picks one and its
variant in the Playground, asks to buy, gets the checkout button; staff see the cart and its link
beside the conversation; the fake store confirms payment and Analytics shows the revenue.

Screenshots: docs/screenshots/playground-checkout.png, cart.png, revenue.png.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from scripts.devstack import processes, seed

from .conftest import Platform, new_page, screenshot
from .test_dashboard import wait_for

pytestmark = pytest.mark.slow


def fake_store_url(platform: Platform) -> str:
    for p in processes.PROCESSES:
        if "TIENDANUBE_API_URL" in p.env_defaults:
            return f"http://127.0.0.1:{p.port + platform.offset}"
    pytest.fail("make dev runs no fake Tienda Nube (no process provides TIENDANUBE_API_URL)")


@pytest.mark.timeout(900)  # the demo catalog is synced and indexed with the offline model first
async def test_demo_sells_without_an_llm(platform: Platform, browser: Any) -> None:
    demo = seed
    assert "offline responder" in "\n".join(platform.output)  # the banner says who answers
    status, body = await platform.aapi(
        "POST", "/api/v1/auth/login", {"email": demo.DEMO_EMAIL, "password": demo.DEMO_PASSWORD}
    )
    assert status == 200, body
    token = body["access_token"]

    async def catalog_ready() -> bool:
        # The demo store was installed a moment ago: until its catalog sync (and the indexing with
        # the offline embedding model) is done, searches are slower than the assistant's tool
        # timeout on a busy machine, and the offline responder would not find the products.
        import psycopg

        with psycopg.connect(platform.env["POSTGRES_DSN"]) as conn:
            rows = conn.execute("SELECT state FROM catalog_syncs ORDER BY created_at DESC LIMIT 1").fetchall()
        return rows == [("done",)]

    await wait_for(catalog_ready, within=480, what="the demo catalog sync")
    # A query's embedding is computed once and cached; on a loaded machine the offline model can
    # take longer than the assistant's tool timeout (15 s), so embed the customer's words first.
    async with httpx.AsyncClient(timeout=180.0) as client:
        r = await client.get(
            f"{platform.url}/api/v1/products/search",
            params={"q": "Hola, busco una remera", "limit": 5},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200 and r.json()["items"], r.text
    ctx, page, problems = await new_page(browser, viewport={"width": 1400, "height": 1000})
    try:
        await page.goto(f"{platform.url}/login")
        await page.get_by_label("E-mail").fill(demo.DEMO_EMAIL)
        await page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("heading", name="Inbox").wait_for()
        await page.get_by_role("link", name="Playground", exact=True).click()
        # The playground plays the staff user's own sandbox customer (never a real number).
        await page.get_by_test_id("playground-identity").wait_for()
        chat = page.get_by_test_id("playground-chat")
        ai = chat.locator("[data-testid=message][data-sender=ai]")

        await page.get_by_test_id("playground-text").fill("Hola, busco una remera")
        await page.get_by_test_id("playground-send").click()
        try:
            await ai.get_by_test_id("list-row").first.wait_for(timeout=120_000)
        except Exception as exc:
            raise AssertionError(
                f"no product list; chat:\n{await chat.inner_text()}\nruns: {_runs(platform)}"
            ) from exc
        # Pick the first product, then its first variant (each answer arrives as a new list). Each
        # choice waits for its own answer: choices sent together are one burst, answered once.
        before = await ai.count()
        await ai.last.get_by_test_id("list-row").first.click()
        await wait_for(lambda: _count(ai, before + 1), what="the answer to the product choice")
        if await ai.filter(has_text="Agregué").count() == 0:  # not a single-variant product
            await ai.last.get_by_test_id("list-row").first.wait_for(timeout=90_000)
            await ai.last.get_by_test_id("list-row").first.click()
        await _expect(ai.filter(has_text="Agregué").first, chat, platform)

        await page.get_by_test_id("playground-text").fill("comprar")
        await page.get_by_test_id("playground-send").click()
        await _expect(ai.filter(has_text="apellido").first, chat, platform)
        await page.get_by_test_id("playground-text").fill("Demo Comprador demo.comprador@example.com")
        await page.get_by_test_id("playground-send").click()
        cta = chat.get_by_test_id("cta-url")
        await _expect(cta, chat, platform)
        assert (await cta.inner_text()) == "Pagar ahora"
        assert str(await cta.get_attribute("href")).startswith("https://")
        # Never handed to a person: the offline responder kept the conversation.
        assert await chat.get_by_text("Una persona de nuestro equipo").count() == 0
        await screenshot(page, "playground-checkout")

        # Staff view: the cart panel beside the conversation, with the link that was sent.
        await page.get_by_role("link", name="Open in the inbox").click()
        panel = page.get_by_test_id("cart-panel")
        await panel.get_by_test_id("checkout-links").wait_for()
        draft_id = int(
            (await panel.get_by_test_id("checkout-links").locator("a").first.inner_text()).lstrip("#")
        )
        await screenshot(page, "cart")

        # The buyer pays at the (fake) store: order/created + order/paid reach the orchestrator.
        async with httpx.AsyncClient(timeout=30.0) as client:
            r = await client.post(
                f"{fake_store_url(platform)}/__fake/draft_orders/{draft_id}/pay",
                json={"store_id": _demo_store_id()},
            )
        assert r.status_code == 200, r.text
        # The panel shows the order live (the `order.attributed` event), without a reload.
        await panel.get_by_test_id("produced-orders").wait_for(timeout=60_000)

        await page.get_by_role("link", name="Analytics").click()
        await page.get_by_test_id("revenue-orders").wait_for()
        await wait_for(lambda: _text_is_not(page, "revenue-orders", "0"), what="the attributed order")
        assert (await page.locator("[data-testid=chart-revenue] svg.recharts-surface").count()) >= 1
        await screenshot(page, "revenue")
        assert problems.csp() == [], problems.errors
    finally:
        await ctx.close()


async def _count(locator: Any, n: int) -> bool:
    return bool(await locator.count() >= n)


async def _text_is_not(page: Any, test_id: str, text: str) -> bool:
    await page.reload()
    await page.get_by_test_id(test_id).wait_for()
    return bool((await page.get_by_test_id(test_id).inner_text()).strip() != text)


def _demo_store_id() -> int:
    from fakes.tiendanube import DEMO_STORE_ID

    return DEMO_STORE_ID


async def _expect(locator: Any, chat: Any, platform: Platform) -> None:
    """Wait for the assistant's answer; on a timeout say what the chat and the runs show."""
    try:
        await locator.wait_for(timeout=90_000)
    except Exception as exc:
        raise AssertionError(f"chat:\n{await chat.inner_text()}\nruns: {_runs(platform)}") from exc


def _runs(platform: Platform) -> list[tuple[object, ...]]:
    """The assistant's runs and the names of their steps (for a failure message)."""
    import psycopg

    with psycopg.connect(platform.env["POSTGRES_DSN"]) as conn:
        return conn.execute(
            "SELECT outcome, latency_ms, error, jsonb_path_query_array(steps, '$[*].detail') FROM agent_runs"
            " ORDER BY created_at"
        ).fetchall()
