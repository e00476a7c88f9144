"""Catalog sync benchmark (issue 4).

1. Full sync of N products (default 10,000) from the fake Tienda Nube with the rate limit off:
   products/s.
2. The same with the production limit (40-request bucket leaking 2/s): total time against the
   theoretical minimum the limit allows, (requests - 40) / 2 s, and against the pacing alone
   (the same pages fetched with no writes) measured in the same run, twice: one page at a time
   (the fetcher before issue 14) and with the sync's own fetcher (`catalog.fetch_pages`).
3. Webhook-to-searchable latency: `product/updated` POSTed to the orchestrator → the products row
   updated and matched by a full-text query (median and p95 of R runs).

Everything is real: the fake and tiendanube_service run as loopback HTTP servers, the orchestrator
runs in-process with its job workers, against a throwaway database on the local Postgres.

    uv run python bench/catalog_sync.py [--products 10000] [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fakes.tiendanube import FakeTiendanube, ThreadServer, add_store, create_app  # noqa: E402

ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-app-secret-0123456789"  # noqa: S105 - a fake app secret
INTERNAL = "bench-internal-token-0123456789"


def make_db() -> tuple[str, str]:
    name = f"nexus_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return name, ADMIN_DSN.rpartition("/")[0] + "/" + name


def drop_db(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run_sync(orch_app, tenant_id: uuid.UUID) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    from orchestrator.integrations.tiendanube import catalog
    from orchestrator.models import CatalogSync, Product
    from sqlalchemy import func, select

    maker = orch_app.state.sessionmaker
    settings = orch_app.state.settings
    async with maker() as s, s.begin():
        sync = CatalogSync(tenant_id=tenant_id, trigger="manual", state="pending")
        s.add(sync)
    t0 = time.perf_counter()
    state = await catalog.run_catalog_sync(maker, settings, sync.id)
    elapsed = time.perf_counter() - t0
    assert state == "done", state
    async with maker() as s:
        n = await s.scalar(select(func.count()).select_from(Product).where(Product.tenant_id == tenant_id))
    return elapsed, int(n or 0)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()

    db_name, dsn = make_db()
    fake = FakeTiendanube(client_secret=SECRET, rate_limit=False)
    store_off, store_on, store_pacing, store_seq = 900001, 900002, 900003, 900004
    add_store(fake, store_id=store_off, name="Bench Off", products=args.products, seed=1)
    add_store(fake, store_id=store_on, name="Bench On", products=args.products, seed=2)
    add_store(fake, store_id=store_pacing, name="Bench Pacing", products=args.products, seed=3)
    add_store(fake, store_id=store_seq, name="Bench Sequential", products=args.products, seed=4)
    os.environ.update(
        {
            "NEXUS_ENV": "test",
            "LOG_LEVEL": "WARNING",
            "POSTGRES_DSN": dsn,
            "ADMIN_TOKEN": "bench-admin-token-0123456789",
            "INTERNAL_API_TOKEN": INTERNAL,
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "NEXUS_MIGRATIONS_DIR": str(REPO / "migrations"),
            "TIENDANUBE_CLIENT_SECRET": SECRET,
            "API_BASE_URL": "http://bench",
        }
    )
    # Embeddings through the OpenAI-compatible fake in its own process (its vectors cost CPU that
    # must not hold this process's GIL): a 10k store uses a hosted embedding model (the offline
    # CPU model embeds a few documents per second on this machine).
    from fakes.tiendanube.runner import free_port

    oa_port = free_port()
    oa = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        [sys.executable, "-m", "fakes.openai", "--port", str(oa_port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(oa_port)
        with ThreadServer(create_app(fake)) as fake_srv:
            os.environ["OPENAI_BASE_URL"] = f"http://127.0.0.1:{oa_port}/v1"
            os.environ["OPENAI_API_KEY"] = "sk-bench-" + "x" * 32
            from tiendanube_service.app import create_app as service_app
            from tiendanube_service.config import Settings as ServiceSettings

            svc = service_app(
                ServiceSettings(
                    nexus_env="test",
                    log_level="WARNING",
                    internal_api_token=INTERNAL,
                    tiendanube_api_url=f"{fake_srv.url}/v1",
                    tiendanube_auth_url=f"{fake_srv.url}/apps/authorize/token",
                )
            )
            with ThreadServer(svc) as svc_srv:
                os.environ["TIENDANUBE_SERVICE_URL"] = svc_srv.url
                await bench(fake, args, store_off, store_on, store_pacing, store_seq)
    finally:
        oa.terminate()
        oa.wait(10)
        drop_db(db_name)


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


async def bench(
    fake: FakeTiendanube,
    args: argparse.Namespace,
    store_off: int,
    store_on: int,
    store_pacing: int,
    store_seq: int,
) -> None:
    import httpx
    from orchestrator.app import create_app as orchestrator_app
    from orchestrator.credentials import service as credentials
    from orchestrator.integrations.tiendanube import catalog
    from orchestrator.models import Product, Tenant
    from sqlalchemy import func, select

    app = orchestrator_app()
    rows: list[tuple[str, str]] = []
    async with app.router.lifespan_context(app):
        maker = app.state.sessionmaker
        crypto = app.state.settings.crypto
        tenants = {}
        for sid in (store_off, store_on):
            async with maker() as s, s.begin():
                t = Tenant(
                    name=f"bench {sid}", tiendanube_store_id=sid, settings={"tiendanube": {"currency": "ARS"}}
                )
                s.add(t)
                await s.flush()
                await credentials.put(s, crypto, t.id, catalog.TOKEN_KIND, fake.token_for(sid))
                tenants[sid] = t.id

        from orchestrator.retrieval.runtime import get_retrieval

        retrieval = get_retrieval()

        # 1. limit off
        fake.set_rate_limit(enabled=False)
        elapsed, n = await run_sync(app, tenants[store_off])
        await retrieval.indexed(tenants[store_off])  # the next phase measures only itself
        assert n == args.products
        rows.append(
            ("full sync, rate limit off", f"{n} products in {elapsed:.2f} s = {n / elapsed:,.0f} products/s")
        )

        # 2. production limit (40 burst, 2/s leak), fresh bucket
        fake.set_rate_limit(enabled=True, capacity=40, leak_per_s=2.0)
        fake.reset_stats()
        elapsed, n = await run_sync(app, tenants[store_on])
        sync_on = elapsed
        await retrieval.indexed(tenants[store_on])
        requests = fake.stats["requests"]
        minimum = max(0.0, (requests - 40) / 2.0)
        rows.append(
            (
                "full sync, production limit (40, 2/s)",
                f"{n} products, {requests} requests in {elapsed:.2f} s; theoretical minimum {minimum:.2f} s "
                f"(+{(elapsed / minimum - 1) * 100:.1f}%); 429s: {fake.stats['throttled']}",
            )
        )

        # 2b/2c. the pacing alone: the same 50 page requests through tiendanube_service, no writes,
        # each from a fresh store (an empty bucket on both sides): one page at a time (the fetcher
        # before issue 14), then the sync's own fetcher (requests in flight up to the burst).
        from orchestrator.integrations.tiendanube.client import service_client

        async def fetch_only(store_id: int, *, sequential: bool) -> tuple[int, int, float, int]:
            fake.set_rate_limit(enabled=True, capacity=40, leak_per_s=2.0)
            fake.reset_stats()
            token = fake.token_for(store_id)
            fetched = 0
            t0 = time.perf_counter()
            async with service_client(app.state.settings) as c:
                if sequential:
                    page: int | None = 1
                    while page:
                        body = await c.products_page(store_id, token, page)
                        fetched += len(body["items"])
                        page = body["next_page"]
                else:
                    async for _, body in catalog.fetch_pages(c, store_id, token):
                        fetched += len(body["items"])
            return fetched, fake.stats["requests"], time.perf_counter() - t0, fake.stats["throttled"]

        for label, sid, sequential in (
            ("fetch only, one page at a time (old fetcher), no writes", store_seq, True),
            ("fetch only, the sync's fetcher (up to 40 in flight), no writes", store_pacing, False),
        ):
            fetched, requests, elapsed, throttled = await fetch_only(sid, sequential=sequential)
            minimum = max(0.0, (requests - 40) / 2.0)
            rows.append(
                (
                    label,
                    f"{fetched} products, {requests} requests in {elapsed:.2f} s; "
                    f"theoretical minimum {minimum:.2f} s (+{(elapsed / minimum - 1) * 100:.1f}%); "
                    f"429s: {throttled}; the full sync took {sync_on / elapsed:.2f}x this",
                )
            )

        # 3. webhook → searchable, production limit still on (the bucket has drained meanwhile)
        pids = sorted(fake.stores[store_on].products)[: args.runs]
        latencies = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for i, pid in enumerate(pids):
                word = f"benchword{uuid.uuid4().hex[:8]}"
                fake.update_product(store_on, pid, name={"es": f"Remera {word}"})
                body, headers = fake.signed({"store_id": store_on, "event": "product/updated", "id": pid})
                t0 = time.perf_counter()
                r = await client.post("/webhooks/tiendanube", content=body, headers=headers)
                assert r.status_code == 200
                while True:
                    async with maker() as s:
                        hit = await s.scalar(
                            select(func.count())
                            .select_from(Product)
                            .where(
                                Product.tenant_id == tenants[store_on],
                                Product.search_vector.op("@@")(func.plainto_tsquery("spanish", word)),
                            )
                        )
                    if hit:
                        break
                    if time.perf_counter() - t0 > 30:
                        raise RuntimeError("webhook never became searchable")
                    await asyncio.sleep(0.005)
                latencies.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.6 if i % 2 else 0.0)  # stay under 2 req/s on average
        latencies.sort()
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        rows.append(
            (
                "webhook → searchable (product/updated)",
                f"median {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms "
                f"({len(latencies)} runs)",
            )
        )
    width = max(len(a) for a, _ in rows)
    print(f"\n| {'measure'.ljust(width)} | result |\n|{'-' * (width + 2)}|--------|")
    for a, b in rows:
        print(f"| {a.ljust(width)} | {b} |")


if __name__ == "__main__":
    asyncio.run(main())
