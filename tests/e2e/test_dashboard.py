"""The dashboard end to end: staff sign in, watch a customer's message arrive live, read the AI's
thinking log, take over, answer, hand back, check analytics, and see only what their role allows.

Everything is real: signed webhooks into the orchestrator, the job queue, agent_service (offline
responder: no LLM key here), whatsapp_service sending to the fake Graph server, the BFF's event
stream, nginx in front, Chromium driving the built UI.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from scripts.devstack import processes, seed

from .conftest import Platform, new_page, screenshot

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery"


@dataclass
class Store:
    tenant_id: str
    phone_number_id: str
    app_secret: str
    owner: str
    viewer: str


def graph_url(platform: Platform) -> str:
    """The fake Graph server make dev runs (the process that provides WHATSAPP_GRAPH_URL)."""
    for p in processes.PROCESSES:
        if "WHATSAPP_GRAPH_URL" in p.env_defaults:
            return f"http://127.0.0.1:{p.port + platform.offset}"
    pytest.fail("make dev runs no fake Graph server (no process provides WHATSAPP_GRAPH_URL)")


@pytest.fixture(scope="module")
def store(platform: Platform) -> Store:
    """A tenant with a WhatsApp number, an owner and a viewer, provisioned as the super-admin."""
    admin = platform.admin_token
    status, body = platform.api("POST", "/api/v1/tenants", {"name": "Tienda E2E"}, admin)
    assert status == 201, body
    tenant = body["id"]
    phone_number_id = str(100000000000 + uuid.uuid4().int % 10**11)
    # The demo number's secret: the fake Graph server signs its delivery statuses with it.
    secret = seed.DEMO_APP_SECRET
    status, body = platform.api(
        "PUT",
        f"/api/v1/tenants/{tenant}/channels/whatsapp",
        {
            "phone_number_id": phone_number_id,
            "access_token": "EAAG-e2e-" + uuid.uuid4().hex,
            "app_secret": secret,
            "verify_token": uuid.uuid4().hex,
        },
        admin,
    )
    assert status == 200, body
    emails = {}
    for role in ("owner", "viewer"):
        email = f"{role}-{uuid.uuid4().hex[:8]}@e2e.example.com"
        user = {"email": email, "password": PASSWORD, "role": role}
        status, body = platform.api("POST", f"/api/v1/tenants/{tenant}/users", user, admin)
        assert status == 201, body
        emails[role] = email
    return Store(tenant, phone_number_id, secret, emails["owner"], emails["viewer"])


async def customer_writes(platform: Platform, store: Store, wa_id: str, text: str, name: str) -> None:
    """A WhatsApp Cloud API webhook, signed with the app secret, posted through nginx."""
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "e2e",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "",
                                "phone_number_id": store.phone_number_id,
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.e2e.{uuid.uuid4().hex}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    raw = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(store.app_secret.encode(), raw, hashlib.sha256).hexdigest()
    async with httpx.AsyncClient(timeout=10.0) as client:
        r = await client.post(
            f"{platform.url}/api/webhooks/whatsapp",
            content=raw,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        )
    assert r.status_code == 200, r.text


async def sent_to(platform: Platform, wa_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        r = await client.get(f"{graph_url(platform)}/_fake/sent", params={"to": wa_id})
    return list(r.json())


async def wait_for(predicate: Any, within: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


async def login(page: Any, platform: Platform, email: str) -> None:
    await page.goto(platform.url + "/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Inbox").wait_for()


async def token_for(platform: Platform, email: str) -> str:
    status, body = await platform.aapi("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200, body
    return str(body["access_token"])


async def test_owner_takes_over_a_live_conversation(platform: Platform, store: Store, browser: Any) -> None:
    ctx, page, problems = await new_page(browser)
    wa_id = "54911" + str(uuid.uuid4().int % 10**8).zfill(8)
    try:
        await login(page, platform, store.owner)
        await page.get_by_test_id("live-state").get_by_text("live").wait_for()
        assert (await page.get_by_test_id("conversation-row").count()) == 0

        # A customer writes: the conversation appears without any reload.
        await customer_writes(platform, store, wa_id, "Hola, ¿tienen remeras negras talle M?", "Ana E2E")
        row = page.get_by_test_id("conversation-row").filter(has_text="Ana E2E")
        await row.wait_for()
        await screenshot(page, "inbox")

        # Open it: the AI's reply arrives, with its thinking log beside it.
        await row.get_by_role("link").click()
        await page.get_by_test_id("thinking-log").first.wait_for(timeout=30_000)
        ai = page.locator("[data-testid=message][data-sender=ai]").first
        assert (await ai.get_by_test_id("thinking-log").count()) == 1
        assert (await page.get_by_test_id("thinking-step").count()) > 0
        await screenshot(page, "conversation-thinking-log")

        # Without an LLM key the offline responder answered and may have flagged the conversation
        # for a human (AI paused): give it back first, so the pause below is the staff member's.
        await page.locator("[data-testid=pause-ai], [data-testid=resume-ai]").first.wait_for()
        if await page.get_by_test_id("resume-ai").count():
            await page.get_by_test_id("resume-ai").click()
            await page.get_by_test_id("pause-ai").wait_for()

        # Pause the AI, answer as a person, see it reach the customer's phone (the fake Graph).
        await page.get_by_test_id("pause-ai").click()
        await page.get_by_test_id("resume-ai").wait_for()
        await page.get_by_test_id("conv-status").get_by_text("Waiting for a human").wait_for()
        before = len(await sent_to(platform, wa_id))
        await page.get_by_test_id("reply-text").fill("Hola Ana, soy Laura de la tienda. ¡Sí, tenemos!")
        await page.get_by_test_id("reply-send").click()

        async def human_reply_sent() -> list[dict[str, Any]]:
            return [
                m
                for m in (await sent_to(platform, wa_id))[before:]
                if m["type"] == "text" and "soy Laura" in m["body"]["text"]["body"]
            ]

        delivered = await wait_for(human_reply_sent, what="the human reply at the fake Graph server")
        assert len(delivered) == 1
        human = page.locator("[data-testid=message][data-sender=human]").filter(has_text="soy Laura")
        await human.wait_for()
        # Accepted by the Graph API (and its status webhook): the tick moves from queued, live.
        await human.locator("[data-testid=ticks]:not([data-status=queued])").wait_for()
        await screenshot(page, "conversation-human-reply")

        # Hand it back to the AI.
        await page.get_by_test_id("resume-ai").click()
        await page.get_by_test_id("pause-ai").wait_for()
        await page.get_by_test_id("conv-status").get_by_text("Open").wait_for()
        assert problems.csp() == [], problems.errors
    finally:
        await ctx.close()


async def test_analytics_shows_the_apis_numbers(platform: Platform, store: Store, browser: Any) -> None:
    ctx, page, problems = await new_page(browser)
    try:
        await login(page, platform, store.owner)
        await page.get_by_role("link", name="Analytics").click()
        await page.get_by_test_id("stat-conversations").wait_for()
        start = await page.get_by_test_id("range-from").input_value()
        end = await page.get_by_test_id("range-to").input_value()
        token = await token_for(platform, store.owner)
        status, overview = await platform.aapi(
            "GET", f"/api/v1/analytics/overview?from={start}&to={end}", token=token
        )
        assert status == 200, overview
        totals = overview["totals"]
        assert totals["conversations"] >= 1 and totals["messages_in"] >= 1
        keys = ("conversations", "messages_in", "messages_out", "answered_by_ai", "answered_by_human")
        for key in (*keys, "handoffs"):
            shown = await page.get_by_test_id(f"stat-{key}").inner_text()
            assert int(shown.replace(",", "").replace(".", "")) == totals[key], (key, shown, totals[key])
        assert (await page.locator("[data-testid=chart-per-day] svg.recharts-surface").count()) >= 1
        assert (await page.locator("[data-testid=chart-per-day] .recharts-line").count()) == 2
        await screenshot(page, "analytics")
        assert problems.csp() == [], problems.errors
    finally:
        await ctx.close()


async def test_viewer_sees_no_action_buttons(platform: Platform, store: Store, browser: Any) -> None:
    ctx, page, _ = await new_page(browser)
    try:
        await login(page, platform, store.viewer)
        await page.get_by_test_id("conversation-row").first.get_by_role("link").click()
        await page.get_by_test_id("messages").wait_for()
        assert (await page.get_by_test_id("pause-ai").count()) == 0
        assert (await page.get_by_test_id("resume-ai").count()) == 0
        assert (await page.get_by_test_id("reply-text").count()) == 0
        assert (await page.get_by_role("link", name="Telemetry").count()) == 0
        await screenshot(page, "viewer-conversation")
    finally:
        await ctx.close()


async def test_portuguese_switch(platform: Platform, store: Store, browser: Any) -> None:
    ctx, page, _ = await new_page(browser)
    try:
        await login(page, platform, store.owner)
        await page.get_by_test_id("lang-switch").select_option("pt")
        await page.get_by_role("heading", name="Caixa de entrada").wait_for()
        assert (await page.get_by_role("link", name="Análises").count()) == 1
        assert (await page.evaluate("document.documentElement.lang")) == "pt"
        await page.reload()  # the choice is remembered
        await page.get_by_role("heading", name="Caixa de entrada").wait_for()
        await screenshot(page, "inbox-portuguese")
    finally:
        await ctx.close()


async def test_make_dev_demo_owner_chats_in_the_playground(platform: Platform, browser: Any) -> None:
    """What `make dev` ends with: the demo store's owner signed in, playing the customer."""
    assert f"Dashboard: {platform.url}/login?email=" in "\n".join(platform.output)
    ctx, page, problems = await new_page(browser)
    try:
        await page.goto(f"{platform.url}/login?email=demo.owner%40nexus.example.com")
        assert (await page.get_by_label("E-mail").input_value()) == seed.DEMO_EMAIL
        await page.get_by_label("Password").fill(seed.DEMO_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("heading", name="Inbox").wait_for()
        await page.get_by_role("link", name="Playground").click()
        await page.get_by_test_id("playground-text").fill("Hola, ¿tienen remeras negras?")
        await page.get_by_test_id("playground-send").click()
        chat = page.get_by_test_id("playground-chat")
        await chat.locator("[data-testid=message][data-sender=customer]").first.wait_for()
        await chat.locator("[data-testid=message][data-sender=ai]").first.wait_for(timeout=30_000)
        await screenshot(page, "playground")
        assert problems.csp() == [], problems.errors
    finally:
        await ctx.close()


async def test_campaign_report_shows_the_funnel_live(platform: Platform, store: Store, browser: Any) -> None:
    """An owner's campaign to 12 imported customers; the Campaigns page shows its report, with the
    funnel, as the fake Graph's delivered/read statuses come back (screenshot for the README)."""
    owner = await token_for(platform, store.owner)
    waba = str(200000000000 + uuid.uuid4().int % 10**11)
    promo = {
        "name": "promo_e2e",
        "language": "es_AR",
        "status": "APPROVED",
        "category": "MARKETING",
        "id": str(uuid.uuid4().int % 10**15),
        "components": [{"type": "BODY", "text": "Hola {{1}}, esta semana hay ofertas en {{2}}"}],
    }
    async with httpx.AsyncClient(timeout=10.0) as client:
        r = await client.post(
            f"{graph_url(platform)}/_fake/templates",
            json={"waba_id": waba, "templates": [promo], "phone_number_id": store.phone_number_id},
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"{graph_url(platform)}/_fake/config", json={"template_statuses": ["delivered", "read"]}
        )
        assert r.status_code == 200, r.text
        status, body = await platform.aapi(
            "PUT",
            f"/api/v1/tenants/{store.tenant_id}/channels/whatsapp",
            {
                "phone_number_id": store.phone_number_id,
                "access_token": "EAAG-e2e-" + uuid.uuid4().hex,
                "app_secret": store.app_secret,
                "verify_token": uuid.uuid4().hex,
                "waba_id": waba,
            },
            platform.admin_token,
        )
        assert status == 200, body
        status, body = await platform.aapi("POST", "/api/v1/templates/sync", {}, owner)
        assert status == 200, body
        rows = "\n".join(f"+54911{7000000 + i:08d},Cliente {i},es,e2e,promo" for i in range(12))
        r = await client.post(
            f"{platform.url}/api/v1/customers/import",
            content=("phone,name,language,consent_source,tags\n" + rows + "\n").encode(),
            headers={"Authorization": f"Bearer {owner}", "Content-Type": "text/csv"},
        )
        assert r.status_code == 200 and r.json()["imported"] == 12, r.text
    status, body = await platform.aapi(
        "POST",
        "/api/v1/campaigns",
        {
            "name": "Semana de ofertas",
            "template": "promo_e2e",
            "language": "es_AR",
            "audience": {"filter": {"tags": ["promo"]}},
        },
        owner,
    )
    assert status == 201, body
    cid = body["id"]
    status, body = await platform.aapi("POST", f"/api/v1/campaigns/{cid}/start", {}, owner)
    assert status == 200, body

    async def read_all() -> Any:
        status, c = await platform.aapi("GET", f"/api/v1/campaigns/{cid}", token=owner)
        return c if status == 200 and c["status"] == "done" and c["counts"]["read"] == 12 else None

    campaign = await wait_for(read_all, within=60, what="the campaign to be read by all 12")
    ctx, page, problems = await new_page(browser)
    try:
        await login(page, platform, store.owner)
        await page.get_by_role("link", name="Campaigns").click()
        await page.get_by_test_id("campaign-report").wait_for()
        for key in ("total", "sent", "delivered", "read", "failed", "opted_out"):
            shown = await page.get_by_test_id(f"campaign-count-{key}").first.inner_text()
            assert int(shown) == campaign["counts"][key], (key, shown)
        assert await page.locator("[data-testid=campaign-funnel] .recharts-bar-rectangle").count() >= 4
        assert await page.get_by_test_id("campaign-status").first.inner_text() == "Done"
        # Revenue credited to the campaign (no order yet) and the rule it follows.
        assert await page.get_by_test_id("campaign-orders").first.inner_text() == "0"
        assert (await page.get_by_test_id("campaign-revenue").first.inner_text()).endswith("0.00")
        await page.get_by_test_id("campaign-funnel").first.scroll_into_view_if_needed()
        await screenshot(page, "campaign-report")
        assert problems.csp() == [], problems.errors
    finally:
        await ctx.close()
