"""Faults: Postgres away, Redis away, a worker killed mid-turn (DESIGN.md §6)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import tempfile
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from fakes.meta_graph import wa_message

from ..conftest import free_port, start_orchestrator
from .conftest import PHONE_NUMBER_ID, Stack, eventually, provision, service_env, side_services
from .proxy import TcpProxy

WA = "5491123456789"


@pytest.mark.allow_job_errors("jobs running when Postgres is cut are retried once it is back")
async def test_postgres_down_webhook_503_then_accepted_again(
    fresh_dsn: str, stack_factory: Callable[..., contextlib.AbstractAsyncContextManager[Stack]]
) -> None:
    u = urlsplit(fresh_dsn)
    proxy = await TcpProxy(u.hostname or "127.0.0.1", u.port or 5432, free_port()).start()
    proxied = fresh_dsn.replace(f"{u.hostname}:{u.port}", f"127.0.0.1:{proxy.port}")
    try:
        async with stack_factory(POSTGRES_DSN=proxied) as stack:
            assert (await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, WA, text="uno"))).status_code == 200
            await proxy.cut()
            down = await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, WA, text="dos"))
            assert down.status_code == 503
            assert down.json()["error"]["code"] == "unavailable"
            ready = await stack.client.get(f"{stack.orch_url}/health/ready")
            assert ready.status_code == 503
            await proxy.restore()
            again = wa_message(PHONE_NUMBER_ID, WA, text="dos")

            async def accepted() -> bool:
                return (await stack.post_whatsapp(again)).status_code == 200

            await eventually(accepted, timeout=20, every=0.3)

            def inbound() -> list[str]:
                return sorted(
                    r[0] for r in stack.rows("SELECT text FROM chat_messages WHERE direction='inbound'")
                )

            await eventually(lambda: inbound() == ["dos", "uno"], timeout=30)
            # Meta redelivers what it saw refused: the same body once more is one message, not two.
            assert (await stack.post_whatsapp(again)).status_code == 200
            await eventually(lambda: len(stack.sent_to(WA)) == 2, timeout=30)  # "dos" answered once
            assert inbound() == ["dos", "uno"]
            assert stack.rows("SELECT count(*) FROM inbound_events") == [(2,)]
    finally:
        await proxy.close()


def _private_redis(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_redis_down_pipeline_still_answers(
    stack_factory: Callable[..., contextlib.AbstractAsyncContextManager[Stack]],
) -> None:
    port = free_port()
    redis = _private_redis(port)
    try:
        async with stack_factory(REDIS_URL=f"redis://127.0.0.1:{port}/0") as stack:
            await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, WA, text="hola"))
            await eventually(lambda: stack.sent_to(WA))
            redis.kill()
            redis.wait()
            await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, "5491100000009", text="hola"))
            await eventually(lambda: stack.sent_to("5491100000009"), timeout=30)
            # Events still reach Postgres (the BFF reads them by id after NOTIFY).
            [(n,)] = stack.rows("SELECT count(*) FROM events WHERE type = 'message.created'")
            assert n >= 4
    finally:
        if redis.poll() is None:
            redis.kill()
            redis.wait()


async def _ready(client: httpx.AsyncClient, url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return (await client.get(f"{url}/health/ready")).status_code == 200
    return False


@pytest.mark.slow
@pytest.mark.allow_job_errors("the killed worker's turn is retried by stalled-job recovery")
async def test_worker_killed_mid_turn_exactly_one_reply_after_restart(
    fresh_dsn: str, fernet_key: str
) -> None:
    async with side_services() as (graph, _graph_url, agent_url, wa_url):
        agent_port = int(agent_url.rsplit(":", 1)[1])
        proxy = await TcpProxy("127.0.0.1", agent_port, free_port()).start()
        env = service_env(fresh_dsn, fernet_key, f"http://127.0.0.1:{proxy.port}", wa_url)
        procs: list[subprocess.Popen[bytes]] = []
        with tempfile.TemporaryFile() as log:
            try:
                async with httpx.AsyncClient(timeout=10) as client:
                    port_a = free_port()
                    procs.append(start_orchestrator(env, port_a, log))
                    url_a = f"http://127.0.0.1:{port_a}"
                    await eventually(lambda: _ready(client, url_a), timeout=60, every=0.2)
                    await provision(client, url_a)
                    stack = Stack(fresh_dsn, url_a, "", graph, "", client)

                    proxy.hold()  # agent_service got the turn but has not answered yet
                    assert (
                        await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, WA, text="hola"))
                    ).status_code == 200
                    await eventually(lambda: proxy.held >= 1, timeout=20)
                    assert stack.rows("SELECT outcome FROM agent_runs") == [("running",)]
                    procs[0].send_signal(signal.SIGKILL)
                    procs[0].wait()

                    port_b = free_port()
                    procs.append(start_orchestrator(env, port_b, log))
                    url_b = f"http://127.0.0.1:{port_b}"
                    await eventually(lambda: _ready(client, url_b), timeout=60, every=0.2)
                    proxy.release()
                    await eventually(
                        lambda: (
                            stack.rows("SELECT status FROM chat_messages WHERE direction='outbound'")
                            == [("sent",)]
                        ),
                        timeout=30,
                    )
                    await asyncio.sleep(1.0)  # room for a duplicate to show up, if there were one
                    assert len(stack.sent_to(WA)) == 1
                    assert stack.rows("SELECT count(*) FROM chat_messages WHERE direction='outbound'") == [
                        (1,)
                    ]
                    outcomes = sorted(r[0] for r in stack.rows("SELECT outcome FROM agent_runs"))
                    assert outcomes == ["failed", "fallback"]  # the interrupted run is closed
            finally:
                for p in procs:
                    if p.poll() is None:
                        p.terminate()
                        try:
                            p.wait(10)
                        except subprocess.TimeoutExpired:
                            p.kill()
                await proxy.close()
