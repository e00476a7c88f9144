"""Catalog sync benchmark (issue 4).

1. Full sync of N products (default 10,000) from the fake Tienda Nube with the rate limit off:
   products/s.
2. The same with the production limit (40-request bucket leaking 2/s): total time against the
   theoretical minimum the limit allows, (requests - 40) / 2 s, and against the pacing alone
   (the same pages fetched with no writes) measured in the same run, twice: one page at a time
   (the fetcher before issue 14) and with the sync's own fetcher (`catalog.fetch_pages`).
3. Webhook-to-searchable latency: `product/updated` POSTed to the orchestrator → the products row
   updated and matched by a full-text query (median and p95 of R runs).
4. The nightly case: the same store synced again, unchanged but for `--gone` products deleted
   without their webhook; each product the listing does not return costs one GET /products/{id}
   (offset paging is no proof of deletion), so the minimum counts those requests too.

Everything is real: the fake and tiendanube_service run as loopback HTTP servers, the orchestrator
runs in-process with its job workers, against a throwaway database on the local Postgres. With
`--servers process` (as in production) the fake store and tiendanube_service are processes of their
own; with `thread` they are threads of this process, sharing the orchestrator's GIL (the setup
before); `both` runs the whole table in each, one after the other, in the same run.
`--py-spy BINARY` samples this process (the orchestrator) during the production-limit sync of
each setup and prints the top frames.

    uv run python bench/catalog_sync.py [--products 10000] [--runs 20] [--servers both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

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


class FakeControl:
    """What the benchmark asks of the fake store, in this process (`fake`) or over its HTTP
    control routes (`url`, a fake in its own process)."""

    def __init__(self, fake: FakeTiendanube | None = None, url: str | None = None) -> None:
        import httpx

        self.fake = fake
        self.http = httpx.AsyncClient(base_url=url or "http://unused", timeout=30.0)
        self.signer = FakeTiendanube(client_secret=SECRET)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, body: object = None) -> Any:
        r = await self.http.request(method, path, json=body)
        r.raise_for_status()
        return r.json()

    async def set_rate_limit(self, *, enabled: bool, capacity: int = 40, leak_per_s: float = 2.0) -> None:
        if self.fake is not None:
            self.fake.set_rate_limit(enabled=enabled, capacity=capacity, leak_per_s=leak_per_s)
        else:
            await self._call(
                "POST",
                "/__fake/rate_limit",
                {"enabled": enabled, "capacity": capacity, "leak_per_s": leak_per_s},
            )

    async def reset_stats(self) -> None:
        if self.fake is not None:
            self.fake.reset_stats()
        else:
            await self._call("POST", "/__fake/stats/reset")

    async def stats(self) -> dict[str, int]:
        return dict(self.fake.stats) if self.fake is not None else await self._call("GET", "/__fake/stats")

    async def token_for(self, store_id: int) -> str:
        if self.fake is not None:
            return self.fake.token_for(store_id)
        return str((await self._call("POST", "/__fake/tokens", {"store_id": store_id}))["access_token"])

    async def product_ids(self, store_id: int) -> list[int]:
        if self.fake is not None:
            return sorted(self.fake.stores[store_id].products)
        return list(await self._call("GET", f"/__fake/stores/{store_id}/product_ids"))

    async def update_product(self, store_id: int, product_id: int, **changes: Any) -> None:
        if self.fake is not None:
            self.fake.update_product(store_id, product_id, **changes)
        else:
            await self._call("PATCH", f"/__fake/stores/{store_id}/products/{product_id}", changes)

    async def delete_product(self, store_id: int, product_id: int) -> None:
        if self.fake is not None:
            self.fake.delete_product(store_id, product_id)
        else:
            await self._call("DELETE", f"/__fake/stores/{store_id}/products/{product_id}")

    def signed(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        return self.signer.signed(payload)


STORES = {"off": (900001, 1), "on": (900002, 2), "pacing": (900003, 3), "seq": (900004, 4)}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--servers", choices=("process", "thread", "both"), default="both")
    ap.add_argument("--gone", type=int, default=20, help="products deleted before the re-sync")
    ap.add_argument("--py-spy", default="", help="path of a py-spy binary: profile each production sync")
    args = ap.parse_args()
    print(f"uptime at start: {uptime()}")
    os.environ.update(
        {
            "NEXUS_ENV": "test",
            "LOG_LEVEL": "WARNING",
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
    procs: list[subprocess.Popen[bytes]] = []
    oa = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        [sys.executable, "-m", "fakes.openai", "--port", str(oa_port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    procs.append(oa)
    tables: list[tuple[str, list[tuple[str, str]]]] = []
    try:
        wait_port(oa_port)
        os.environ["OPENAI_BASE_URL"] = f"http://127.0.0.1:{oa_port}/v1"
        os.environ["OPENAI_API_KEY"] = "sk-bench-" + "x" * 32
        modes = ("thread", "process") if args.servers == "both" else (args.servers,)
        for mode in modes:
            db_name, dsn = make_db()
            os.environ["POSTGRES_DSN"] = dsn
            try:
                if mode == "thread":
                    rows = await in_threads(args)
                else:
                    rows = await in_processes(args, procs)
            finally:
                drop_db(db_name)
            tables.append((mode, rows))
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
    for mode, rows in tables:
        where = (
            "fake store and tiendanube_service as threads of this process"
            if mode == "thread"
            else "fake store and tiendanube_service in their own processes"
        )
        width = max(len(a) for a, _ in rows)
        print(f"\n{where}:\n| {'measure'.ljust(width)} | result |\n|{'-' * (width + 2)}|--------|")
        for a, b in rows:
            print(f"| {a.ljust(width)} | {b} |")
    print(f"\nuptime at end: {uptime()}")


async def in_threads(args: argparse.Namespace) -> list[tuple[str, str]]:
    fake = FakeTiendanube(client_secret=SECRET, rate_limit=False)
    for sid, seed in STORES.values():
        add_store(fake, store_id=sid, name=f"Bench {sid}", products=args.products, seed=seed)
    with ThreadServer(create_app(fake)) as fake_srv:
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
            control = FakeControl(fake=fake)
            try:
                return await bench(control, args)
            finally:
                await control.aclose()


async def in_processes(
    args: argparse.Namespace, procs: list[subprocess.Popen[bytes]]
) -> list[tuple[str, str]]:
    from fakes.tiendanube.runner import free_port

    fake_port, svc_port = free_port(), free_port()
    stores = [f"--store={sid}:{args.products}:{seed}" for sid, seed in STORES.values()]
    fake = subprocess.Popen(  # noqa: ASYNC220 - started before anything is measured
        [sys.executable, "-m", "fakes.tiendanube", "--port", str(fake_port), "--no-rate-limit"]
        + ["--client-secret", SECRET, *stores],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    fake_url = f"http://127.0.0.1:{fake_port}"
    env = {
        **os.environ,
        "TIENDANUBE_API_URL": f"{fake_url}/v1",
        "TIENDANUBE_AUTH_URL": f"{fake_url}/apps/authorize/token",
    }
    svc = subprocess.Popen(  # noqa: ASYNC220 - started before anything is measured
        [sys.executable, "-m", "uvicorn", "tiendanube_service.app:create_app", "--factory"]
        + ["--host", "127.0.0.1", "--port", str(svc_port), "--log-level", "warning", "--no-access-log"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    procs += [fake, svc]
    try:
        wait_port(fake_port, 120)  # generating the stores takes a while
        wait_port(svc_port)
        os.environ["TIENDANUBE_SERVICE_URL"] = f"http://127.0.0.1:{svc_port}"
        control = FakeControl(url=fake_url)
        try:
            return await bench(control, args)
        finally:
            await control.aclose()
    finally:
        for p in (svc, fake):
            p.terminate()
            p.wait(10)
            procs.remove(p)


def over(elapsed: float, minimum: float) -> str:
    """How far above the bucket's minimum (none below 41 requests: the burst takes them all)."""
    return f"+{(elapsed / minimum - 1) * 100:.1f}%" if minimum > 0 else "burst only"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


async def bench(fake: FakeControl, args: argparse.Namespace) -> list[tuple[str, str]]:
    import httpx
    from orchestrator.app import create_app as orchestrator_app
    from orchestrator.credentials import service as credentials
    from orchestrator.integrations.tiendanube import catalog
    from orchestrator.models import Product, Tenant
    from sqlalchemy import func, select

    store_off, store_on, store_pacing, store_seq = (STORES[k][0] for k in ("off", "on", "pacing", "seq"))
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
                await credentials.put(s, crypto, t.id, catalog.TOKEN_KIND, await fake.token_for(sid))
                tenants[sid] = t.id

        from orchestrator.retrieval.runtime import get_retrieval

        retrieval = get_retrieval()

        # 1. limit off
        await fake.set_rate_limit(enabled=False)
        elapsed, n = await run_sync(app, tenants[store_off])
        await retrieval.indexed(tenants[store_off])  # the next phase measures only itself
        assert n == args.products
        rows.append(
            ("full sync, rate limit off", f"{n} products in {elapsed:.2f} s = {n / elapsed:,.0f} products/s")
        )

        # 2. production limit (40 burst, 2/s leak), fresh bucket
        await fake.set_rate_limit(enabled=True, capacity=40, leak_per_s=2.0)
        await fake.reset_stats()
        sampler = start_py_spy(args.py_spy) if args.py_spy else None
        elapsed, n = await run_sync(app, tenants[store_on])
        profile = stop_py_spy(sampler) if sampler else []
        sync_on = elapsed
        stats = await fake.stats()
        await retrieval.indexed(tenants[store_on])
        requests = stats["requests"]
        minimum = max(0.0, (requests - 40) / 2.0)
        rows.append(
            (
                "full sync, production limit (40, 2/s)",
                f"{n} products, {requests} requests in {elapsed:.2f} s; theoretical minimum {minimum:.2f} s "
                f"({over(elapsed, minimum)}); 429s: {stats['throttled']}",
            )
        )

        # 2b/2c. the pacing alone: the same 50 page requests through tiendanube_service, no writes,
        # each from a fresh store (an empty bucket on both sides): one page at a time (the fetcher
        # before issue 14), then the sync's own fetcher (requests in flight up to the burst).
        from orchestrator.integrations.tiendanube.client import service_client

        async def fetch_only(store_id: int, *, sequential: bool) -> tuple[int, int, float, int]:
            await fake.set_rate_limit(enabled=True, capacity=40, leak_per_s=2.0)
            await fake.reset_stats()
            token = await fake.token_for(store_id)
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
            elapsed = time.perf_counter() - t0
            stats = await fake.stats()
            return fetched, stats["requests"], elapsed, stats["throttled"]

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
                    f"theoretical minimum {minimum:.2f} s ({over(elapsed, minimum)}); "
                    f"429s: {throttled}; the full sync took {sync_on / elapsed:.2f}x this",
                )
            )

        # 3. webhook → searchable, production limit still on (the bucket has drained meanwhile)
        pids = (await fake.product_ids(store_on))[: args.runs]
        latencies = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for i, pid in enumerate(pids):
                word = f"benchword{uuid.uuid4().hex[:8]}"
                await fake.update_product(store_on, pid, name={"es": f"Remera {word}"})
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

        # 4. the nightly case: the same store synced again, unchanged but for products deleted
        # without their webhook (each unlisted product costs a GET /products/{id}), fresh bucket.
        gone = (await fake.product_ids(store_on))[-args.gone :] if args.gone else []
        for pid in gone:
            await fake.delete_product(store_on, pid)
        await fake.set_rate_limit(enabled=True, capacity=40, leak_per_s=2.0)
        await fake.reset_stats()
        elapsed, n = await run_sync(app, tenants[store_on])
        stats = await fake.stats()
        await retrieval.indexed(tenants[store_on])  # nothing left running against the database
        requests = stats["requests"]
        minimum = max(0.0, (requests - 40) / 2.0)
        assert n == args.products - len(gone), n
        rows.append(
            (
                f"re-sync, production limit, {len(gone)} products deleted without their webhook",
                f"{n} products left, {requests} requests ({requests - len(gone)} pages + {len(gone)} "
                f"checks) in {elapsed:.2f} s; theoretical minimum {minimum:.2f} s "
                f"({over(elapsed, minimum)}); 429s: {stats['throttled']}",
            )
        )
    return rows + [("py-spy of this process during the production sync", line) for line in profile]


def start_py_spy(binary: str) -> tuple[subprocess.Popen[bytes], Path]:
    out = Path(tempfile.gettempdir()) / f"nexus_bench_catalog_{os.getpid()}_{time.monotonic_ns()}.stacks"
    proc = subprocess.Popen(
        [binary, "record", "--pid", str(os.getpid()), "--rate", "200", "--format", "raw", "--nonblocking"]
        + ["--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # attached before the sync starts
    return proc, out


def stop_py_spy(spy: tuple[subprocess.Popen[bytes], Path], top: int = 12) -> list[str]:
    """Stop the sampler (it writes on SIGINT); the functions with the most samples, own and
    inclusive (frames of this repo and the libraries on the sync's path)."""
    import signal

    proc, out = spy
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    own: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in out.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        total += int(n)
        names = [f.split(":")[0] + ")" if "(" in f else f for f in stack.split(";")]
        own[names[-1]] = own.get(names[-1], 0) + int(n)
        for name in set(names):
            incl[name] = incl.get(name, 0) + int(n)
    out.unlink(missing_ok=True)
    lines = [f"{total} samples; own time:"]
    lines += [f"{100 * n / total:.1f}% {k}" for k, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    lines.append("inclusive (orchestrator, sqlalchemy, asyncpg, httpx, json):")
    keep = ("orchestrator/", "sqlalchemy/", "asyncpg/", "httpx/", "httpcore/", "json/")
    ranked = [(k, n) for k, n in sorted(incl.items(), key=lambda kv: -kv[1]) if any(x in k for x in keep)]
    lines += [f"{100 * n / total:.1f}% {k}" for k, n in ranked[:top]]
    return lines


if __name__ == "__main__":
    asyncio.run(main())
