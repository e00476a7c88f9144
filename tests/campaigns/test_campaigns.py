"""Campaigns end to end in one process: import, audience, start, paced exactly-once sends, report."""

from __future__ import annotations

import asyncio

import pytest

from fakes.meta_graph.templates import status_webhook
from tests.pipeline.conftest import Stack, eventually

from .conftest import PHONE_NUMBER_ID, PROMO, WABA_ID, auth, campaign, csv_of, get, import_csv, post


def phones(n: int, start: int = 0) -> list[str]:
    return [f"+54 9 11 5{start + i:07d}" for i in range(n)]


async def test_campaign_reaches_opted_in_customers_once_and_report_adds_up(cstack: Stack) -> None:
    stack = cstack
    rows = [(p, f"Cliente{i}", "es", "web_form", "vip") for i, p in enumerate(phones(30))]
    rows.append(("+54 9 11 59999999", "", "es", "web_form", "vip"))  # no name: skipped
    assert (await import_csv(stack, csv_of(rows)))["imported"] == 31
    preview = await post(stack, "/audiences/preview", {"filter": {"tags": ["vip"], "opted_in": True}})
    assert preview["count"] == 31
    assert "*" in preview["sample"][0]["phone"]
    cid = await campaign(stack, audience={"filter": {"tags": ["vip"]}})
    started = await post(stack, f"/campaigns/{cid}/start")
    assert started["plan"]["audience"] == 31 and started["plan"]["spread"] is False

    async def done() -> dict | None:
        c = await get(stack, f"/campaigns/{cid}")
        return c if c["status"] == "done" else None

    c = await eventually(done, timeout=30)
    templates = [m for m in stack.graph.sent if m["type"] == "template"]
    assert sorted(m["to"] for m in templates) == sorted({p.replace(" ", "")[1:] for p in phones(30)})
    assert templates[0]["body"]["template"]["components"][0]["parameters"][0]["text"].startswith("Cliente")
    counts = c["counts"]
    assert counts["skipped"] == 1 and counts["queued"] == 0 and counts["failed"] == 0
    assert counts["sent"] == 30

    async def read_all() -> bool:
        return (await get(stack, f"/campaigns/{cid}"))["counts"]["read"] == 30

    await eventually(read_all, timeout=20)
    report = await get(stack, f"/campaigns/{cid}/report")
    assert report["skipped_by_reason"] == {"variable {{1}} (customer.first_name) is empty": 1}


async def test_import_reports_bad_rows_by_line_and_writes_none_of_them(cstack: Stack) -> None:
    stack = cstack
    text = csv_of(
        [
            ("+5491150000001", "Ana", "es", "checkout", "vip;mayorista"),
            ("12", "Bad", "es", "checkout", ""),
            ("+5491150000002", "Bea", "klingon", "checkout", ""),
            ("+5491150000003", "Caro", "pt", "", ""),
            ("+54 9 11 5000-0001", "Ana again", "es", "checkout", ""),
        ]
    )
    result = await import_csv(stack, text)
    assert result["imported"] == 1
    assert [r["line"] for r in result["rejected"]] == [3, 4, 5, 6]
    assert "duplicate of line 2" in result["rejected"][-1]["reason"]
    assert stack.rows("SELECT phone_number, name FROM customers") == [("+5491150000001", "Ana")]
    assert sorted(stack.rows("SELECT tag FROM customer_tags")) == [("mayorista",), ("vip",)]
    r = await stack.client.post(
        f"{stack.orch_url}/api/v1/customers/import",
        content=b"phone,name\n+5491150000009,X\n",
        headers={**auth(stack), "Content-Type": "text/csv"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "csv_header"


@pytest.mark.parametrize("rate", [5])
async def test_pacing_keeps_to_the_number_throughput_without_130429(cstack: Stack, rate: int) -> None:
    stack = cstack
    stack.graph.throughput = float(rate)
    r = await stack.client.put(
        f"{stack.orch_url}/api/v1/settings/sending", json={"messages_per_second": rate}, headers=auth(stack)
    )
    assert r.status_code == 200, r.text
    await import_csv(stack, csv_of([(p, f"C{i}", "es", "form", "") for i, p in enumerate(phones(20))]))
    cid = await campaign(stack)
    await post(stack, f"/campaigns/{cid}/start")

    async def done() -> bool:
        return (await get(stack, f"/campaigns/{cid}"))["status"] == "done"

    await eventually(done, timeout=30)
    assert stack.graph.rejected.get(130429, 0) == 0
    assert len([m for m in stack.graph.sent if m["type"] == "template"]) == 20


async def test_template_paused_by_meta_pauses_the_campaign_and_tells_the_owner(cstack: Stack) -> None:
    stack = cstack
    r = await stack.client.put(
        f"{stack.orch_url}/api/v1/settings/sending", json={"messages_per_second": 2}, headers=auth(stack)
    )
    assert r.status_code == 200
    await import_csv(stack, csv_of([(p, f"C{i}", "es", "form", "") for i, p in enumerate(phones(40))]))
    cid = await campaign(stack)
    await post(stack, f"/campaigns/{cid}/start")
    await eventually(lambda: len([m for m in stack.graph.sent if m["type"] == "template"]) >= 2, timeout=20)
    assert (await stack.post_whatsapp(status_webhook(WABA_ID, PROMO, "PAUSED"))).status_code == 200

    async def paused() -> dict | None:
        c = await get(stack, f"/campaigns/{cid}")
        return c if c["status"] == "paused" else None

    c = await eventually(paused, timeout=20)
    assert "is paused at Meta" in c["paused_reason"]
    sent_then = len([m for m in stack.graph.sent if m["type"] == "template"])
    await asyncio.sleep(2.0)
    assert len([m for m in stack.graph.sent if m["type"] == "template"]) == sent_then  # no more sends
    # Read again once sending has settled: a message claimed before the pause may still have gone
    # out after the first read.
    settled = await get(stack, f"/campaigns/{cid}")
    assert settled["status"] == "paused" and settled["counts"]["queued"] == 40 - sent_then
    actions = [r[0] for r in stack.rows("SELECT action FROM audit_log WHERE target_id = %s", cid)]
    assert "campaign.auto_pause" in actions
    jobs = stack.rows(
        "SELECT args FROM procrastinate.procrastinate_jobs WHERE task_name = 'campaigns:notify_paused'"
    )
    assert jobs and jobs[0][0]["campaign_id"] == cid


async def test_daily_limit_spreads_the_campaign_and_says_so_before_it_starts(cstack: Stack) -> None:
    stack = cstack
    r = await stack.client.put(
        f"{stack.orch_url}/api/v1/settings/sending", json={"daily_unique_limit": 5}, headers=auth(stack)
    )
    assert r.status_code == 200
    await import_csv(stack, csv_of([(p, f"C{i}", "es", "form", "") for i, p in enumerate(phones(12))]))
    cid = await campaign(stack)
    plan = await get(stack, f"/campaigns/{cid}/plan")
    assert plan["spread"] is True and plan["days"] == 3 and plan["available_today"] == 5
    refused = await post(stack, f"/campaigns/{cid}/start", expect=409)
    assert refused["error"]["code"] == "spread_over_days"
    assert (await get(stack, f"/campaigns/{cid}"))["status"] == "draft"
    await post(stack, f"/campaigns/{cid}/start", {"accept_spread": True})
    await eventually(lambda: len([m for m in stack.graph.sent if m["type"] == "template"]) == 5, timeout=20)
    await asyncio.sleep(2.0)
    assert len([m for m in stack.graph.sent if m["type"] == "template"]) == 5  # the rest waits for tomorrow
    c = await get(stack, f"/campaigns/{cid}")
    assert c["status"] == "running" and c["counts"]["queued"] == 7


async def test_preview_never_counts_opted_out_customers_and_rejects_unknown_keys(cstack: Stack) -> None:
    stack = cstack
    await import_csv(stack, csv_of([(p, f"C{i}", "es", "form", "vip") for i, p in enumerate(phones(4))]))
    customer = stack.rows("SELECT id FROM customers ORDER BY phone_number LIMIT 1")[0][0]
    r = await stack.client.put(
        f"{stack.orch_url}/api/v1/customers/{customer}/consent",
        json={"channel": "whatsapp", "state": "opted_out"},
        headers=auth(stack),
    )
    assert r.status_code in (200, 204), r.text
    for flt in ({}, {"tags": ["vip"]}, {"customer_ids": [str(customer)]}):
        preview = await post(stack, "/audiences/preview", {"filter": flt})
        assert str(customer) not in [s["id"] for s in preview["sample"]]
    assert (await post(stack, "/audiences/preview", {"filter": {"tags": ["vip"]}}))["count"] == 3
    bad = await post(stack, "/audiences/preview", {"filter": {"favourite_colour": "red"}}, expect=422)
    assert "favourite_colour" in str(bad)


async def test_test_send_reaches_the_staff_phone_and_is_not_counted(cstack: Stack) -> None:
    stack = cstack
    await import_csv(stack, csv_of([(p, f"C{i}", "es", "form", "") for i, p in enumerate(phones(2))]))
    cid = await campaign(stack)
    sent = await post(stack, f"/campaigns/{cid}/test", {"phone": "+54 9 11 4444-5555", "name": "Vero"})
    assert sent["provider_message_id"].startswith("wamid.")
    [msg] = [m for m in stack.graph.sent if m["to"] == "5491144445555"]
    params = msg["body"]["template"]["components"][0]["parameters"]
    assert [p["text"] for p in params] == ["Vero", "Tienda Ana"]
    c = await get(stack, f"/campaigns/{cid}")
    assert c["status"] == "draft" and c["counts"]["total"] == 0
    bad = await post(stack, f"/campaigns/{cid}/test", {"phone": "123456789"}, expect=400)
    assert bad["error"]["code"] == "invalid_phone"


async def test_daily_limit_is_the_tier_read_from_graph_else_the_owner_setting(cstack: Stack) -> None:
    stack = cstack
    await import_csv(stack, csv_of([(p, f"C{i}", "es", "form", "") for i, p in enumerate(phones(260))]))
    cid = await campaign(stack)
    # The fake Graph does not know the number's limit (no permission): the owner's 1,000 applies.
    plan = await get(stack, f"/campaigns/{cid}/plan")
    assert plan["daily_unique_limit"] == 1000 and plan["spread"] is False
    assert (await get(stack, "/settings/sending"))["daily_limit_source"] == "owner"
    # Meta says the portfolio may reach 250 unique users a day: the campaign is spread over 2 days.
    stack.graph.messaging_limits[PHONE_NUMBER_ID] = "TIER_250"
    plan = await get(stack, f"/campaigns/{cid}/plan")
    assert plan["daily_unique_limit"] == 250 and plan["days"] == 2 and plan["spread"] is True
    sending = await get(stack, "/settings/sending")
    assert sending["daily_limit_source"] == "graph" and sending["tier"] == "TIER_250"
    assert sending["tier_limit"] == 250 and sending["daily_unique_limit"] == 1000
    conflict = await post(stack, f"/campaigns/{cid}/start", expect=409)
    assert conflict["error"]["code"] == "spread_over_days"
