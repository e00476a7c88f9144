# ruff: noqa: E501, ASYNC109, ASYNC110, ASYNC220 - a benchmark script, not service code
"""SSE fan-out: 500 connected dashboards on loopback, delivery latency from commit to browser.

Target (issue 6): p99 < 100 ms. Starts a real orchestrator and BFF (uvicorn subprocesses) on a
throwaway database; the BFF runs WITHOUT Redis, so every event travels the Postgres
LISTEN/NOTIFY path (the slower of the two). Events are committed by this process exactly as the
orchestrator's publisher does (row + pg_notify in one transaction); latency is measured from the
commit returning to the event being parsed by the client.
Usage: uv run python bench/sse.py [--clients 500] [--tenants 10] [--events 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import create_database, drop_database, free_port  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as c:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await c.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--tenants", type=int, default=10)
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--interval", type=float, default=0.02)
    args = ap.parse_args()

    name, dsn = create_database()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        admin = "bench-admin-token-0123456789"
        internal = "bench-internal-token-0123456789"
        base = {
            **os.environ,
            "NEXUS_ENV": "test",
            "LOG_LEVEL": "ERROR",
            "POSTGRES_DSN": dsn,
            "INTERNAL_API_TOKEN": internal,
        }
        base.pop("REDIS_URL", None)
        o_port, b_port = free_port(), free_port()
        orch_env = {
            **base,
            "ADMIN_TOKEN": admin,
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "NEXUS_MIGRATIONS_DIR": str(REPO / "migrations"),
            "NEXUS_WORKER_ENABLED": "false",
        }
        uvicorn = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "--host",
            "127.0.0.1",
            "--log-level",
            "error",
        ]
        procs.append(
            subprocess.Popen([*uvicorn, "--port", str(o_port), "orchestrator.app:create_app"], env=orch_env)
        )
        await wait_http(f"http://127.0.0.1:{o_port}/health/ready")
        bff_env = {**base, "ORCHESTRATOR_URL": f"http://127.0.0.1:{o_port}", "SSE_QUEUE_SIZE": "5000"}
        procs.append(subprocess.Popen([*uvicorn, "--port", str(b_port), "bff.app:create_app"], env=bff_env))
        await wait_http(f"http://127.0.0.1:{b_port}/health/ready")

        # Tenants, one agent each, one session token per tenant (dashboards share it).
        tenants = [uuid.uuid4() for _ in range(args.tenants)]
        tokens: dict[uuid.UUID, str] = {}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{o_port}") as api:
            with psycopg.connect(dsn, autocommit=True) as conn:
                for t in tenants:
                    conn.execute("INSERT INTO tenants (id, name) VALUES (%s, %s)", (t, f"Store {t.hex[:6]}"))
            for t in tenants:
                email = f"agent-{t.hex[:8]}@bench.example"
                r = await api.post(
                    f"/api/v1/tenants/{t}/users",
                    json={"email": email, "password": "bench passphrase 1", "role": "agent"},
                    headers={"Authorization": f"Bearer {admin}"},
                )
                r.raise_for_status()
                r = await api.post(
                    "/api/v1/auth/login", json={"email": email, "password": "bench passphrase 1"}
                )
                r.raise_for_status()
                tokens[t] = r.json()["access_token"]

        sent_at: dict[int, float] = {}
        latencies: list[float] = []
        received: dict[int, int] = {}
        connected = 0
        all_connected = asyncio.Event()
        lock = asyncio.Semaphore(50)

        async def dashboard(i: int) -> None:
            nonlocal connected
            tenant = tenants[i % len(tenants)]
            async with lock:
                client = httpx.AsyncClient(timeout=httpx.Timeout(120.0))
                stream = client.stream(
                    "GET",
                    f"http://127.0.0.1:{b_port}/events/stream",
                    headers={"Authorization": f"Bearer {tokens[tenant]}"},
                )
                response = await stream.__aenter__()
                assert response.status_code == 200
            connected += 1
            if connected == args.clients:
                all_connected.set()
            try:
                async for line in response.aiter_lines():
                    if line.startswith("id:"):
                        eid = int(line[3:].strip())
                        now = time.perf_counter()
                        if eid in sent_at:
                            latencies.append((now - sent_at[eid]) * 1000)
                            received[eid] = received.get(eid, 0) + 1
            finally:
                await stream.__aexit__(None, None, None)
                await client.aclose()

        t_connect = time.perf_counter()
        readers = [asyncio.create_task(dashboard(i)) for i in range(args.clients)]
        await asyncio.wait_for(all_connected.wait(), 120)
        connect_s = time.perf_counter() - t_connect
        await asyncio.sleep(1.0)

        conn = await psycopg.AsyncConnection.connect(dsn, autocommit=False)
        for n in range(args.events):
            tenant = tenants[n % len(tenants)]
            async with conn.cursor() as cur:
                await cur.execute(
                    "INSERT INTO events (tenant_id, type, data) VALUES (%s, 'message.created', %s) RETURNING id",
                    (tenant, json.dumps({"message": {"id": str(uuid.uuid4()), "text": "hola", "n": n}})),
                )
                row = await cur.fetchone()
                assert row is not None
                eid = int(row[0])
                await cur.execute("SELECT pg_notify('nexus_events', %s)", (str(eid),))
            # Known before the commit, so a delivery racing the commit's return still counts;
            # the clock is then reset to the commit's return (the conservative start).
            sent_at[eid] = time.perf_counter()
            await conn.commit()
            sent_at[eid] = time.perf_counter()
            await asyncio.sleep(args.interval)
        await conn.close()
        expected = args.events * (args.clients // args.tenants)
        deadline = time.monotonic() + 30
        while len(latencies) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        for r in readers:
            r.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

        print(
            f"\nSSE fan-out — {args.clients} dashboards over {args.tenants} tenants, {args.events} events "
            f"(one every {args.interval * 1000:.0f} ms), BFF without Redis (Postgres LISTEN/NOTIFY)\n"
        )
        print(
            f"connected {args.clients} streams in {connect_s:.1f} s; deliveries {len(latencies):,} / {expected:,}"
        )
        print(f"{'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  target")
        p99 = pct(latencies, 99)
        print(
            f"{pct(latencies, 50):>6.1f}ms {pct(latencies, 95):>6.1f}ms {p99:>6.1f}ms {max(latencies):>6.1f}ms  "
            f"p99<100ms {'✓' if p99 < 100 else '✗'}"
        )
        print("RESULT:", "PASS" if p99 < 100 and len(latencies) == expected else "FAIL")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(10)
        drop_database(name)


if __name__ == "__main__":
    asyncio.run(main())
