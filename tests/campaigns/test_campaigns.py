"""Campaigns end to end in one process: import, audience, start, paced exactly-once sends, report."""

from __future__ import annotations

import pytest

from tests.pipeline.conftest import Stack, eventually

from .conftest import auth, campaign, csv_of, get, import_csv, post


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
