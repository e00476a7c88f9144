"""The done-when test: 1,000 recipients, 5 opt out mid-campaign, 3 undeliverable (131026), and the
orchestrator killed with SIGKILL half way. Every eligible recipient gets exactly one message, none
of the opted-out, and the report adds up."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import tempfile
from collections import Counter

import httpx
import pytest

from fakes.meta_graph import wa_message
from tests.conftest import free_port, start_orchestrator
from tests.pipeline.conftest import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    Stack,
    eventually,
    provision,
    service_env,
    side_services,
)

from .conftest import auth, campaign, connect_templates, csv_of, get, import_csv, post

N = 1000


async def _ready(client: httpx.AsyncClient, url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return (await client.get(f"{url}/health/ready")).status_code == 200
    return False


def wa(i: int) -> str:
    return f"54911{6000000 + i:08d}"


@pytest.mark.slow
async def test_kill_9_mid_campaign_exactly_once_opt_outs_respected_report_adds_up(
    fresh_dsn: str, fernet_key: str
) -> None:
    async with side_services() as (graph, _graph_url, agent_url, wa_url):
        # Statuses must outlive a restart (Meta redelivers); the grace period covers the restart.
        env = service_env(fresh_dsn, fernet_key, agent_url, wa_url, NEXUS_OUTBOX_GRACE_SECONDS="20")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        procs: list[subprocess.Popen[bytes]] = []
        with tempfile.TemporaryFile() as log:
            try:
                async with httpx.AsyncClient(timeout=30) as client:
                    procs.append(start_orchestrator(env, port, log))
                    await eventually(lambda: _ready(client, url), timeout=60, every=0.2)
                    tenant_id = await provision(client, url)
                    stack = Stack(fresh_dsn, url, "", graph, tenant_id, client)
                    graph.status_webhook = {"url": f"{url}/webhooks/whatsapp", "app_secret": APP_SECRET}
                    graph.template_statuses = ("delivered", "read")
                    graph.throughput = 150.0
                    graph.status_attempts = 40  # Meta redelivers for days; the restart takes seconds
                    await connect_templates(stack)
                    rows = [("+" + wa(i), f"Cliente {i}", "es", "landing", "bf") for i in range(N)]
                    assert (await import_csv(stack, csv_of(rows)))["imported"] == N
                    undeliverable = [wa(7), wa(400), wa(901)]
                    for to in undeliverable:
                        graph.recipient_failures[to] = {"code": 131026, "mode": "async", "times": None}
                    r = await client.put(
                        f"{url}/api/v1/settings/sending",
                        json={"messages_per_second": 120},
                        headers=auth(stack),
                    )
                    assert r.status_code == 200, r.text

                    cid = await campaign(stack, audience={"filter": {"tags": ["bf"]}})
                    await post(stack, f"/campaigns/{cid}/start")
                    await post(stack, f"/campaigns/{cid}/pause")
                    await asyncio.sleep(1.5)  # the sender lets go of what it had claimed
                    pending = [
                        r[0]
                        for r in stack.rows(
                            "SELECT wa_id FROM campaign_recipients WHERE campaign_id = %s "
                            "AND state = 'pending' AND wa_id <> ALL(%s) ORDER BY wa_id LIMIT 5",
                            cid,
                            undeliverable,
                        )
                    ]
                    assert len(pending) == 5
                    for to in pending:  # they write BAJA on WhatsApp: the real opt-out path
                        body, headers = _signed(wa_message(PHONE_NUMBER_ID, to, text="BAJA"))
                        resp = await client.post(f"{url}/webhooks/whatsapp", content=body, headers=headers)
                        assert resp.status_code == 200

                    def opted_out() -> bool:
                        return (
                            len(stack.rows("SELECT 1 FROM customer_consents WHERE state = 'opted_out'")) == 5
                        )

                    await eventually(opted_out, timeout=30)
                    await post(stack, f"/campaigns/{cid}/resume")

                    def templates_sent() -> int:
                        return sum(1 for m in graph.sent if m["type"] == "template")

                    await eventually(lambda: templates_sent() >= N // 2, timeout=60)
                    procs[0].send_signal(signal.SIGKILL)
                    procs[0].wait()
                    killed_at = templates_sent()
                    assert killed_at < N - 50, "the campaign must be cut half way"

                    procs.append(start_orchestrator(env, port, log))
                    await eventually(lambda: _ready(client, url), timeout=60, every=0.2)

                    async def done() -> dict | None:
                        c = await get(stack, f"/campaigns/{cid}")
                        return c if c["status"] == "done" else None

                    final = await eventually(done, timeout=120, every=0.5)
                    await asyncio.sleep(2.0)  # room for a duplicate to show up, if there were one

                    accepted = Counter(
                        r["json"]["to"]
                        for r in graph.requests
                        if r["status"] == 200 and (r["json"] or {}).get("type") == "template"
                    )
                    eligible = {wa(i) for i in range(N)} - set(pending)
                    assert set(accepted) == eligible  # everyone eligible, no opted-out customer
                    assert max(accepted.values()) == 1  # exactly once, across the kill
                    assert graph.rejected.get(130429, 0) == 0

                    counts = final["counts"]
                    assert counts["total"] == N
                    assert counts["opted_out"] == 5
                    assert counts["failed"] == 3
                    assert counts["sent"] == N - 5 - 3
                    assert counts["queued"] == counts["skipped"] == counts["cancelled"] == 0
                    assert counts["sent"] + counts["failed"] + counts["opted_out"] == counts["total"]
                    report = await get(stack, f"/campaigns/{cid}/report")
                    assert report["failed_by_code"] == {"131026": 3}

                    async def all_read() -> bool:
                        c = (await get(stack, f"/campaigns/{cid}"))["counts"]
                        return c["delivered"] == c["read"] == N - 8

                    await eventually(all_read, timeout=60, every=0.5)
            finally:
                for p in procs:
                    if p.poll() is None:
                        p.terminate()
                        try:
                            p.wait(10)
                        except subprocess.TimeoutExpired:
                            p.kill()


def _signed(payload: object) -> tuple[bytes, dict[str, str]]:
    from fakes.meta_graph import signed

    return signed(payload, APP_SECRET)
