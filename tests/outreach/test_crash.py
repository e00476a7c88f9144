"""kill -9 of the orchestrator while an order update is being sent: exactly one message, also
when Tienda Nube then redelivers the webhook 14 times."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import tempfile

import httpx
import pytest

from fakes.tiendanube import FakeTiendanube

from ..conftest import free_port, start_orchestrator
from ..pipeline.conftest import (
    ACCESS_TOKEN,
    ADMIN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    Stack,
    eventually,
    provision,
    service_env,
    side_services,
)
from .conftest import STORE_ID, TEMPLATES, TN_SECRET, WABA_ID, World


async def _ready(client: httpx.AsyncClient, url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return (await client.get(f"{url}/health/ready")).status_code == 200
    return False


@pytest.mark.slow
async def test_killed_mid_send_one_message_after_restart_and_14_redeliveries(
    fresh_dsn: str, fernet_key: str, tn_fake: FakeTiendanube, tn_servers: str
) -> None:
    async with side_services() as (graph, _graph_url, agent_url, wa_url):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = service_env(
            fresh_dsn,
            fernet_key,
            agent_url,
            wa_url,
            TIENDANUBE_SERVICE_URL=tn_servers,
            TIENDANUBE_CLIENT_SECRET=TN_SECRET,
            API_BASE_URL="http://testserver",
            # Longer than a status webhook takes to arrive once the orchestrator is back.
            NEXUS_OUTBOX_GRACE_SECONDS="30",
        )
        graph.status_webhook = {"url": f"{url}/webhooks/whatsapp", "app_secret": APP_SECRET}
        graph.templates[WABA_ID] = [dict(t) for t in TEMPLATES]
        graph.phone_wabas[PHONE_NUMBER_ID] = WABA_ID
        procs: list[subprocess.Popen[bytes]] = []
        with tempfile.TemporaryFile() as log:
            try:
                async with httpx.AsyncClient(timeout=30) as client:
                    procs.append(start_orchestrator(env, port, log))
                    await eventually(lambda: _ready(client, url), timeout=60, every=0.2)
                    tenant_id = await provision(client, url)
                    world = World(Stack(fresh_dsn, url, "", graph, tenant_id, client), tn_fake, STORE_ID)
                    sa = {"Authorization": f"Bearer {ADMIN}"}
                    r = await client.put(
                        f"{url}/api/v1/tenants/{tenant_id}/tiendanube",
                        json={"store_id": STORE_ID, "access_token": tn_fake.token_for(STORE_ID)},
                        headers=sa,
                    )
                    assert r.status_code == 200, r.text
                    r = await client.put(
                        f"{url}/api/v1/tenants/{tenant_id}/channels/whatsapp",
                        json={
                            "phone_number_id": PHONE_NUMBER_ID,
                            "access_token": ACCESS_TOKEN,
                            "app_secret": APP_SECRET,
                            "verify_token": VERIFY_TOKEN,
                            "waba_id": WABA_ID,
                        },
                        headers=sa,
                    )
                    assert r.status_code == 200, r.text
                    assert (await world.api("POST", "/api/v1/templates/sync")).status_code == 200
                    r = await world.api(
                        "PUT",
                        "/api/v1/settings/notifications",
                        json={"order_paid": {"template": "pedido_pagado"}},
                    )
                    assert r.status_code == 200, r.text

                    # Graph takes 1.5 s to accept the next send: the orchestrator dies meanwhile.
                    graph.failures.append({"timeout": 1.5})
                    oid = world.add_order()
                    assert await world.order_webhook("order/paid", oid) == 200
                    await eventually(
                        lambda: any((r.get("json") or {}).get("type") == "template" for r in graph.requests),
                        timeout=30,
                    )
                    procs[0].send_signal(signal.SIGKILL)
                    procs[0].wait()
                    assert world.stack.rows(
                        "SELECT status FROM chat_messages WHERE payload ? 'proactive'"
                    ) == [("sending",)]

                    procs.append(start_orchestrator(env, port, log))
                    await eventually(lambda: _ready(client, url), timeout=60, every=0.2)
                    for _ in range(14):
                        assert await world.order_webhook("order/paid", oid) == 200
                    await eventually(
                        lambda: (
                            world.stack.rows(
                                "SELECT status, provider_message_id IS NOT NULL FROM chat_messages "
                                "WHERE payload ? 'proactive'"
                            )
                            == [("sent", True)]
                        ),
                        timeout=40,
                    )
                    await asyncio.sleep(2.0)  # room for a duplicate to show up, if there were one
                    assert len(world.sent_templates()) == 1
                    assert world.stack.rows("SELECT count(*) FROM proactive_messages") == [(1,)]
            finally:
                for p in procs:
                    if p.poll() is None:
                        p.terminate()
                        try:
                            p.wait(10)
                        except subprocess.TimeoutExpired:
                            p.kill()
