"""Cart-recovery and order-update benchmark (issue 12). Prints a table.

1. Recovery at scale: S stores (default 20) with C abandoned checkouts each (default 500, so
   10,000), every buyer opted in at the checkout (Tienda Nube `accepts_marketing`). Each store's
   poll is started by the `poll_checkouts` admin action; the orchestrator (a real process) reads
   `/checkouts`, checks each due checkout with Tienda Nube (still abandoned? ordered since?
   consent?) through tiendanube_service, and sends one recovery template per checkout through the
   outbox, whatsapp_service and the fake Graph. Halfway through, the orchestrator is killed with
   SIGKILL and started again.
   - 429s answered by the fake Tienda Nube (must be 0);
   - pacing: per store, the time its requests took before the kill against the minimum its leaky
     bucket allows, (requests - capacity) / leak rate (ratio must be ≤ 1.10);
   - duplicates: recipients that got more than one recovery message (must be 0).
2. Order update latency: `order/paid` webhook POSTed → the template accepted by the fake Graph
   (p50, p99), against a baseline in the same process: the same external calls made directly
   (order and customer from tiendanube_service, the template send through whatsapp_service).

The fakes and the two client services run in this process (threads); the orchestrator is a
separate process against a throwaway database on the local Postgres.

    uv run python bench/recovery.py [--stores 20] [--checkouts 500] [--capacity 40] [--leak 2]
                                    [--orders 100]

The default bucket is Tienda Nube's standard one (40 requests, leaking 2/s), so 500 checkouts per
store (about 1,500 requests each) take about 12 minutes however fast Nexus is. A faster bucket
(the ×10 plans: `--capacity 400 --leak 20`) makes this machine's CPU, not the bucket, the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fakes.meta_graph import FakeState  # noqa: E402
from fakes.meta_graph import create_app as graph_app  # noqa: E402
from fakes.meta_graph.templates import template  # noqa: E402
from fakes.tiendanube import FakeTiendanube, ThreadServer, add_store  # noqa: E402
from fakes.tiendanube import create_app as tn_app  # noqa: E402
from fakes.tiendanube.checkouts import add_checkout  # noqa: E402
from tests.conftest import start_orchestrator  # noqa: E402

ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN = "bench-admin-token-0123456789"
INTERNAL = "bench-internal-token-0123456789"
WA_SECRET = "bench-wa-app-secret"  # noqa: S105 - throwaway local secrets
TN_SECRET = "bench-tn-app-secret-0123456789"  # noqa: S105
STORE_BASE = 880_000
PHONE_BASE = 106_540_352_240_000
RECOVERY_TEMPLATE = template(
    "carrito_abandonado",
    "es_AR",
    body="Hola {{1}}, tu carrito en {{2}} ({{3}}) te espera: {{4}}",
    category="MARKETING",
)
PAID_TEMPLATE = template(
    "pedido_pagado", "es_AR", body="Hola {{1}}, recibimos el pago de tu pedido {{2}} por {{3}}."
)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def make_db() -> tuple[str, str]:
    name = f"nexus_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return name, ADMIN_DSN.rpartition("/")[0] + "/" + name


def drop_db(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rows(dsn: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    # The shared Postgres runs other engineers' suites too: a moment at max_connections is
    # waited out, not a failed run.
    for attempt in range(60):
        try:
            with psycopg.connect(dsn) as c:
                return c.execute(sql, params).fetchall()  # type: ignore[arg-type]
        except psycopg.OperationalError:
            if attempt == 59:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def phone(store: int, k: int) -> str:
    return f"+54911{6000 + store:04d}{k:04d}"


async def wait_ready(client: httpx.AsyncClient, url: str, within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if (await client.get(f"{url}/health/ready")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("orchestrator did not become ready")


async def setup_tenant(
    client: httpx.AsyncClient, url: str, fake: FakeTiendanube, graph: FakeState, i: int
) -> tuple[str, int]:
    sa = {"Authorization": f"Bearer {ADMIN}"}
    store_id, phone_id, waba = STORE_BASE + i, str(PHONE_BASE + i), f"waba{i}"
    r = await client.post(f"{url}/api/v1/tenants", json={"name": f"Tienda {i}"}, headers=sa)
    tenant = r.json()["id"]
    r = await client.put(
        f"{url}/api/v1/tenants/{tenant}/channels/whatsapp",
        json={
            "phone_number_id": phone_id,
            "access_token": "EAAG-bench-token",
            "app_secret": WA_SECRET,
            "verify_token": "bench-verify-token",
            "waba_id": waba,
        },
        headers=sa,
    )
    assert r.status_code == 200, r.text
    graph.templates[waba] = [dict(RECOVERY_TEMPLATE), dict(PAID_TEMPLATE)]
    graph.phone_wabas[phone_id] = waba
    r = await client.put(
        f"{url}/api/v1/tenants/{tenant}/tiendanube",
        json={"store_id": store_id, "access_token": fake.token_for(store_id)},
        headers=sa,
    )
    assert r.status_code == 200, r.text
    th = {**sa, "X-Tenant-Id": tenant}
    assert (await client.post(f"{url}/api/v1/templates/sync", headers=th)).status_code == 200
    r = await client.put(
        f"{url}/api/v1/settings/notifications",
        json={
            "cart_recovery": {"enabled": True, "template": "carrito_abandonado", "delay_minutes": 30},
            "order_paid": {"template": "pedido_pagado"},
        },
        headers=th,
    )
    assert r.status_code == 200, r.text
    return tenant, store_id


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stores", type=int, default=20)
    ap.add_argument("--checkouts", type=int, default=500)
    ap.add_argument("--capacity", type=int, default=40)
    ap.add_argument("--leak", type=float, default=2.0)
    ap.add_argument("--orders", type=int, default=100)
    ap.add_argument(
        "--pacing-only",
        type=int,
        metavar="N",
        default=0,
        help="only pace N requests per store through tiendanube_service's limiter (no orchestrator)",
    )
    args = ap.parse_args()
    if args.pacing_only:
        out = [("uptime at the start", uptime())]
        out += await limiter_pacing(args.stores, args.pacing_only, args.capacity, args.leak)
        out.append(("uptime at the end", uptime()))
        print_table(out)
        return

    uptime_start = uptime()
    db_name, dsn = make_db()
    fake = FakeTiendanube(client_secret=TN_SECRET, rate_limit=False)
    for i in range(args.stores):
        add_store(fake, store_id=STORE_BASE + i, name=f"Tienda {i}", products=1)
    graph = FakeState()
    graph.status_attempts = 60
    from tiendanube_service.app import create_app as tn_service
    from tiendanube_service.config import Settings as TnSettings
    from whatsapp_service.app import create_app as wa_service
    from whatsapp_service.config import Settings as WaSettings

    from fakes.instant_agent import create_app as instant_agent

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    graph.status_webhook = {"url": f"{url}/webhooks/whatsapp", "app_secret": WA_SECRET}
    try:
        with (
            ThreadServer(tn_app(fake)) as tn_fake_srv,
            ThreadServer(graph_app(graph)) as graph_srv,
            ThreadServer(instant_agent()) as agent_srv,
        ):
            tn_svc = tn_service(
                TnSettings(
                    nexus_env="test",
                    log_level="WARNING",
                    internal_api_token=INTERNAL,
                    tiendanube_api_url=f"{tn_fake_srv.url}/v1",
                    tiendanube_auth_url=f"{tn_fake_srv.url}/apps/authorize/token",
                )
            )
            wa = wa_service(
                WaSettings(
                    nexus_env="test",
                    internal_api_token=INTERNAL,
                    log_level="WARNING",
                    whatsapp_graph_url=f"{graph_srv.url}/v21.0",
                )
            )
            with ThreadServer(tn_svc) as tn_svc_srv, ThreadServer(wa) as wa_srv:
                env = {
                    "NEXUS_ENV": "test",
                    "LOG_LEVEL": "WARNING",
                    "POSTGRES_DSN": dsn,
                    "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14"),
                    "ADMIN_TOKEN": ADMIN,
                    "INTERNAL_API_TOKEN": INTERNAL,
                    "ENCRYPTION_KEY": Fernet.generate_key().decode(),
                    "AGENT_SERVICE_URL": agent_srv.url,
                    "WHATSAPP_SERVICE_URL": wa_srv.url,
                    "TIENDANUBE_SERVICE_URL": tn_svc_srv.url,
                    "TIENDANUBE_CLIENT_SECRET": TN_SECRET,
                    "API_BASE_URL": "http://bench",
                    # One recovery job per store plus room for sends and status webhooks; more
                    # than this only queues on the orchestrator's 20 database connections.
                    "NEXUS_WORKER_CONCURRENCY": str(args.stores + 10),
                    "NEXUS_WORKER_POLL_SECONDS": "0.2",
                    "NEXUS_WORKER_HEARTBEAT_SECONDS": "1",
                    "NEXUS_WORKER_STALLED_SECONDS": "5",
                    "NEXUS_CHECKOUT_POLL_SECONDS": "3600",
                    "NEXUS_DEBOUNCE_SECONDS": "0",
                }
                rows_out = await run(args, fake, graph, env, port, url, dsn, tn_svc_srv.url, wa_srv.url)
    finally:
        drop_db(db_name)
    rows_out.append(("uptime at the end", uptime()))
    rows_out.insert(0, ("uptime at the start", uptime_start))
    print_table(rows_out)


def empty_bucket_time(times: list[float], leak: float) -> tuple[float, float]:
    """How long the store's bucket sat empty between its first and last request (time its pace
    lost for good: `requests = level + leak × (time − empty time)`), in all and before its second
    request (after the poll's page, the first batch's first check)."""
    level, last, empty, early = 0.0, times[0], 0.0, 0.0
    for n, t in enumerate(times):
        drained = (t - last) * leak
        if drained > level:
            empty += (t - last) - level / leak
        level = max(0.0, level - drained) + 1.0
        last = t
        if n == 1:
            early = empty
    return empty, early


def print_table(rows_out: list[tuple[str, str]]) -> None:
    width = max(len(a) for a, _ in rows_out)
    print(f"\n| {'measure'.ljust(width)} | result |\n|{'-' * (width + 2)}|--------|")
    for a, b in rows_out:
        print(f"| {a.ljust(width)} | {b} |")


async def limiter_pacing(stores: int, n: int, capacity: int, leak: float) -> list[tuple[str, str]]:
    """The limiter alone: N requests per store, 4 in flight per store (recovery's setting), from
    tiendanube_service's client straight to the fake's bucket. What the pacing is when the
    bucket, not the CPU of the rest of the stack, sets the pace."""
    from tiendanube_service.client import TiendanubeAPI
    from tiendanube_service.ratelimit import RateLimiter

    fake = FakeTiendanube(client_secret=TN_SECRET, bucket_capacity=capacity, leak_per_s=leak)
    ids = [STORE_BASE + i for i in range(stores)]
    tokens = {}
    for sid in ids:
        add_store(fake, store_id=sid, name=f"Tienda {sid}", products=1)
        tokens[sid] = fake.token_for(sid)
    with ThreadServer(tn_app(fake)) as srv:
        api = TiendanubeAPI(
            f"{srv.url}/v1",
            f"{srv.url}/apps/authorize/token",
            user_agent="Nexus bench (dev@nexus.example)",
            client_id="4321",
            client_secret=None,
            limiter=RateLimiter(),
        )

        async def store(sid: int) -> None:
            gate = asyncio.Semaphore(4)

            async def one(k: int) -> None:
                async with gate:
                    await api.call(sid, tokens[sid], "GET", "store", params={"k": k})

            await asyncio.gather(*(one(k) for k in range(n)))

        try:
            await asyncio.gather(*(store(sid) for sid in ids))
        finally:
            await api.aclose()
    ratios = []
    for sid in ids:
        times = fake.request_times.get(sid, [])
        ratios.append((times[-1] - times[0]) / ((len(times) - capacity) / leak))
    return [
        (
            f"limiter alone: {n} requests x {stores} stores, 4 in flight, bucket {capacity} @ {leak:g}/s",
            f"429: {fake.stats['throttled']}; pacing / bucket minimum per store: worst {max(ratios):.3f}, "
            f"median {statistics.median(ratios):.3f}",
        )
    ]


async def run(
    args: argparse.Namespace,
    fake: FakeTiendanube,
    graph: FakeState,
    env: dict[str, str],
    port: int,
    url: str,
    dsn: str,
    tn_svc_url: str,
    wa_url: str,
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    total = args.stores * args.checkouts
    procs: list[subprocess.Popen[bytes]] = []
    log = open(os.environ["BENCH_LOG"], "wb") if os.environ.get("BENCH_LOG") else tempfile.TemporaryFile()  # noqa: SIM115, ASYNC230
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            procs.append(start_orchestrator(env, port, log))
            await wait_ready(client, url)
            tenants = [await setup_tenant(client, url, fake, graph, i) for i in range(args.stores)]

            # Abandoned two hours ago (past the 30-minute delay); every buyer opted in at checkout.
            abandoned = datetime.now(UTC) - timedelta(hours=2)
            for i, (_tenant, store_id) in enumerate(tenants):
                store = fake.stores[store_id]
                for k in range(args.checkouts):
                    email = f"buyer{i}x{k}@example.com"
                    add_checkout(
                        fake,
                        store_id,
                        phone=phone(i, k),
                        name=f"Cliente {k}",
                        email=email,
                        created_at=abandoned,
                    )
                    cid = fake.next_id()
                    store.customers[cid] = {
                        "id": cid,
                        "email": email,
                        "name": email,
                        "accepts_marketing": True,
                    }
            await asyncio.sleep(1.0)  # let set-up requests settle, then a fresh, empty bucket everywhere
            fake.set_rate_limit(enabled=True, capacity=args.capacity, leak_per_s=args.leak)
            fake.reset_stats()
            # tiendanube_service learns each store's limit from the first response, as in production
            start = time.monotonic()
            for tenant, _store in tenants:
                r = await client.post(
                    f"{url}/api/v1/admin/actions/poll_checkouts",
                    json={},
                    headers={"Authorization": f"Bearer {ADMIN}", "X-Tenant-Id": tenant},
                )
                assert r.status_code == 200, r.text

            def settled() -> int:
                return int(
                    rows(dsn, "SELECT count(*) FROM abandoned_checkouts WHERE state <> 'pending'")[0][0]
                )

            while settled() < total // 2:  # noqa: ASYNC110 - polling another process's progress
                await asyncio.sleep(0.5)
            kill_at = time.monotonic()
            throttled_before_kill = fake.stats["throttled"]
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait()
            settled_at_kill = settled()
            procs.append(start_orchestrator(env, port, log))
            await wait_ready(client, url)
            restarted_at = time.monotonic()
            deadline = time.monotonic() + 3600
            while time.monotonic() < deadline:
                pending = rows(
                    dsn,
                    "SELECT (SELECT count(*) FROM abandoned_checkouts WHERE state = 'pending'), "
                    "(SELECT count(*) FROM chat_messages WHERE direction = 'outbound' "
                    " AND status IN ('queued', 'sending'))",
                )[0]
                if pending == (0, 0):
                    break
                await asyncio.sleep(1.0)
            done_at = time.monotonic()
            await asyncio.sleep(3.0)  # room for a late duplicate to show up, if there were one
            if os.environ.get("BENCH_DUMP"):
                import json

                jobs = rows(
                    dsn,
                    "SELECT j.args->>'tenant_id', j.task_name, e.type, extract(epoch FROM e.at) "
                    "FROM procrastinate.procrastinate_jobs j JOIN procrastinate.procrastinate_events e "
                    "ON e.job_id = j.id WHERE j.task_name LIKE 'recovery:%%' ORDER BY e.at",
                )
                with open(os.environ["BENCH_DUMP"], "w") as f:  # noqa: ASYNC230
                    json.dump(
                        {
                            "start": start, "kill_at": kill_at,
                            "wall_minus_mono": time.time() - time.monotonic(),
                            "tenants": [[t, s] for t, s in tenants],
                            "request_times": {str(k): v for k, v in fake.request_times.items()},
                            "jobs": [[a, b, c, float(d)] for a, b, c, d in jobs],
                        },
                        f,
                    )  # fmt: skip

            per_recipient: dict[str, int] = {}
            for m in graph.sent:
                if m["type"] == "template" and m["body"]["template"]["name"] == "carrito_abandonado":
                    per_recipient[m["to"]] = per_recipient.get(m["to"], 0) + 1
            duplicates = sum(n - 1 for n in per_recipient.values() if n > 1)
            states = dict(rows(dsn, "SELECT state, count(*) FROM abandoned_checkouts GROUP BY state"))
            ratios = []
            idle: list[tuple[float, float]] = []
            requests_total = 0
            for _tenant, store_id in tenants:
                times = [t for t in fake.request_times.get(store_id, []) if t <= kill_at]
                requests_total += len(fake.request_times.get(store_id, []))
                minimum = (len(times) - args.capacity) / args.leak
                if len(times) > args.capacity and minimum > 0:
                    ratios.append((times[-1] - times[0]) / minimum)
                    idle.append(empty_bucket_time(times, args.leak))
            out.append(
                (
                    f"recovery: {total:,} checkouts, {args.stores} stores, "
                    f"bucket {args.capacity} @ {args.leak:g}/s",
                    f"{states.get('sent', 0):,} sent, {states.get('skipped', 0):,} skipped, "
                    f"{len(per_recipient):,} recipients reached; {requests_total:,} Tienda Nube requests; "
                    f"{done_at - start:.1f} s in all (restart took {restarted_at - kill_at:.1f} s)",
                )
            )
            out.append(
                (
                    "recovery: 429 answered by Tienda Nube",
                    f"{fake.stats['throttled']} ({throttled_before_kill} before the kill)",
                )
            )
            if ratios:
                out.append(
                    (
                        "recovery: pacing before the kill / bucket minimum, per store",
                        f"worst {max(ratios):.3f}, median {statistics.median(ratios):.3f} "
                        f"(1.00 = the minimum (requests - {args.capacity}) / {args.leak:g} s; "
                        f"{len(ratios)} stores)",
                    )
                )
                worst = max(idle)
                out.append(
                    (
                        "recovery: time a store's bucket sat empty before the kill (lost pace)",
                        f"worst store {worst[0]:.1f} s, of which {worst[1]:.1f} s before its first "
                        f"check; median {statistics.median(i for i, _ in idle):.1f} s",
                    )
                )
            else:
                out.append(
                    ("recovery: pacing", "no store went past its bucket before the kill (raise --checkouts)")
                )
            out.append(
                (
                    "recovery: kill -9 mid-run",
                    f"killed at {settled_at_kill:,}/{total:,} settled; duplicate messages: {duplicates}",
                )
            )

            # 2. order/paid → template latency (one store, sequential events, distinct buyers).
            # The store is on the ×10 plan (400 @ 20/s) so its bucket, not the stack, is never
            # what is measured: with the limit simply switched off, tiendanube_service still paced
            # the store at the 2/s it had learned, and the events measured that pacing.
            fake.set_rate_limit(enabled=True, capacity=400, leak_per_s=20.0)
            phase2 = rows(dsn, "SELECT now()")[0][0]
            tenant, store_id = tenants[0]
            latencies: list[float] = []
            for n in range(args.orders):
                p = f"+54911{7000:04d}{n:04d}"
                wa = p.lstrip("+")
                oid = fake.next_id()
                with fake.lock:
                    fake.stores[store_id].orders[oid] = {
                        "id": oid, "number": 5000 + n, "status": "open", "payment_status": "paid",
                        "currency": "ARS", "total": "1000.00", "contact_name": "Comprador",
                        "contact_phone": p,
                        "customer": {"id": 777, "name": "Comprador", "phone": p}, "products": [],
                        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                    }  # fmt: skip
                fake.stores[store_id].customers[777] = {"id": 777, "accepts_marketing": False}
                body, headers = fake.signed({"store_id": store_id, "event": "order/paid", "id": oid})
                t0 = time.monotonic()
                r = await client.post(f"{url}/webhooks/tiendanube", content=body, headers=headers)
                assert r.status_code == 200, r.text
                while not any(m["to"] == wa for m in graph.sent):
                    if time.monotonic() - t0 > 60:
                        raise RuntimeError("order update never sent")
                    await asyncio.sleep(0.002)
                latencies.append((time.monotonic() - t0) * 1000)

            # Baseline: the same external calls, made directly and in order.
            token = fake.token_for(store_id)
            base: list[float] = []
            oid = next(iter(fake.stores[store_id].orders))
            send = {
                "channel": "whatsapp",
                "account_id": str(PHONE_BASE),
                "to": "5491170009999",
                "type": "template",
                "template": {
                    "name": "pedido_pagado",
                    "language": {"code": "es_AR"},
                    "components": [
                        {
                            "type": "body",
                            "parameters": [{"type": "text", "text": x} for x in ("A", "1", "ARS 1")],
                        }
                    ],
                },
            }
            ih = {"X-Internal-Token": INTERNAL, "X-Tiendanube-Token": token}
            for _ in range(args.orders):
                t0 = time.monotonic()
                await client.get(f"{tn_svc_url}/v1/stores/{store_id}/orders/{oid}", headers=ih)
                await client.get(f"{tn_svc_url}/v1/stores/{store_id}/customers/777", headers=ih)
                r = await client.post(
                    f"{wa_url}/v1/messages",
                    json=send,
                    headers={"X-Internal-Token": INTERNAL, "X-Graph-Token": "EAAG-bench-token"},
                )
                assert r.status_code == 200, r.text
                base.append((time.monotonic() - t0) * 1000)
            # Where the time goes: each job's wait in the queue and its run, from procrastinate's
            # own event log (the jobs these events deferred, one row per task).
            profile = rows(
                dsn,
                "SELECT j.task_name, count(*), "
                " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.at - d.at)), "
                " percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM s.at - d.at)), "
                " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.at - s.at)), "
                " percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM f.at - s.at)) "
                "FROM procrastinate.procrastinate_jobs j "
                "JOIN procrastinate.procrastinate_events d ON d.job_id = j.id AND d.type = 'deferred' "
                "JOIN procrastinate.procrastinate_events s ON s.job_id = j.id AND s.type = 'started' "
                "JOIN procrastinate.procrastinate_events f ON f.job_id = j.id AND f.type = 'succeeded' "
                "WHERE d.at >= %s AND j.task_name NOT LIKE 'recovery:%%' "
                "GROUP BY j.task_name ORDER BY j.task_name",
                phase2,
            )
            for task_name, n, w50, w99, r50, r99 in profile:
                out.append(
                    (
                        f"order/paid profile: {task_name} ({n} jobs)",
                        f"queue wait p50 {w50 * 1000:.0f} ms, p99 {w99 * 1000:.0f} ms; "
                        f"run p50 {r50 * 1000:.0f} ms, p99 {r99 * 1000:.0f} ms",
                    )
                )
            p50, p99, b50 = pct(latencies, 50), pct(latencies, 99), pct(base, 50)
            out.append(
                (
                    f"order/paid webhook → template at Graph ({args.orders} events, bucket 400 @ 20/s)",
                    f"p50 {p50:.0f} ms, p99 {p99:.0f} ms; baseline (the external calls alone) "
                    f"p50 {b50:.0f} ms → ×{p50 / b50:.1f}",
                )
            )
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        log.close()
    return out


if __name__ == "__main__":
    asyncio.run(main())
