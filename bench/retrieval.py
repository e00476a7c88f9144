"""Retrieval benchmark: quality (recall@5, MRR) and latency of vector, full-text and hybrid search.

    uv run python bench/retrieval.py [--models e5,use] [--sizes 1000,10000] [--quality-size 300]

Runs against the real stack: a scratch Postgres database (migrated; dropped afterwards), the
embedded Chroma in a temp dir and the offline embedding models. Quality is measured on the demo
catalog (`retrieval_catalog.py`) with the labelled questions of `retrieval_questions.py`; a
product is relevant when it matches the question's filters and is published and in stock.
recall@5 = |relevant ∩ top 5| / min(|relevant|, 5); MRR = mean of 1 / rank of the first relevant.
Latency: hybrid search over every question at 1k and 10k products, cold (query not embedded yet)
and warm (query embedding cached), after a warm-up; embedding throughput = documents per second
while indexing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text as sql_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from retrieval_catalog import DemoProduct, generate  # noqa: E402
from retrieval_questions import QUESTIONS, SKU_TEMPLATES  # noqa: E402
from retrieval_questions_wide import DEV, HELDOUT  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
MODES = {
    "vector": ("vector",),
    "fulltext": ("sku", "fts", "trigram"),
    "hybrid": ("sku", "vector", "fts", "trigram"),
}


def _matches(p: DemoProduct, key: str, want: Any) -> bool:
    if key == "max_price":
        return p.price <= want
    have = getattr(p, key)
    return have in want if isinstance(want, list) else have == want


def relevant(products: list[DemoProduct], filters: dict[str, Any]) -> set[int]:
    out = set()
    for p in products:
        if not p.published or p.stock == 0:
            continue
        if all(_matches(p, k, v) for k, v in filters.items()):
            out.add(p.external_id)
    return out


def labelled(products: list[DemoProduct]) -> list[tuple[str, str, str, set[int]]]:
    qs = [(q, lang, kind, relevant(products, f)) for q, lang, kind, f in QUESTIONS]
    pool = [p for p in products if p.published and p.stock != 0]
    for i, (tpl, lang) in enumerate(SKU_TEMPLATES):
        p = pool[(i * 37 + 11) % len(pool)]
        qs.append((tpl.format(sku=p.sku, sku_lower=p.sku.lower()), lang, "sku", {p.external_id}))
    return [q for q in qs if q[3]]


# Every run loads the same rows with the same version, so a kept index stays complete (--index-cache)
# and an interrupted build resumes where it stopped (`Retrieval.complete` embeds what is missing).
CATALOG_VERSION = datetime(2026, 1, 1, tzinfo=UTC)


def stable_id(tenant_id: uuid.UUID, external_id: int) -> uuid.UUID:
    """Deterministic product ids, so a vector index built once can be reused (--index-cache)."""
    return uuid.uuid5(tenant_id, str(external_id))


async def load(maker: Any, tenant_id: uuid.UUID, products: list[DemoProduct]) -> dict[uuid.UUID, int]:
    from orchestrator.models import Product
    from sqlalchemy import insert, select, text

    rows = [
        {
            "id": stable_id(tenant_id, p.external_id),
            "tenant_id": tenant_id,
            "external_id": p.external_id,
            "name": {"es": p.name},
            "description": {"es": p.description},
            "name_text": p.name,
            "search_text": " ".join([p.category, p.description, p.sku, p.brand]),
            "categories": [p.category.capitalize()],
            "skus": [p.sku, *[str(v["sku"]) for v in p.variants]],
            "variants": p.variants,
            "price": p.price,
            "currency": "ARS",
            "stock": p.stock,
            "url": f"https://demo.mitiendanube.com/productos/{p.sku.lower()}",
            "published": p.published,
            "updated_at": CATALOG_VERSION,
        }
        for p in products
    ]
    async with maker() as s, s.begin():
        for i in range(0, len(rows), 1000):
            await s.execute(insert(Product), rows[i : i + 1000])
    async with maker() as s, s.begin():
        await s.execute(text("ANALYZE products"))  # as autovacuum would after a catalog sync
    async with maker() as s:
        res = await s.execute(select(Product.id, Product.external_id).where(Product.tenant_id == tenant_id))
        return {r[0]: r[1] for r in res}


async def build(
    svc: Any, tid: uuid.UUID, expected: int, reuse: bool, partial: bool = False
) -> tuple[int, float, bool]:
    """(indexed, seconds, reused): with --index-cache an index of the same model is kept, and
    completed when an earlier build was interrupted."""
    t0 = time.perf_counter()
    if reuse:
        from orchestrator.retrieval.documents import documents_key
        from orchestrator.retrieval.embeddings import local_embedder
        from orchestrator.retrieval.synonyms import groups_for

        name = local_embedder(svc.settings.embedding_local_model).name
        if await svc.index.is_current(tid, name, documents_key(groups_for({}))):
            if partial:  # --partial-index: measure with what an interrupted build left
                return await svc.index.count(tid), 0.0, True
            n = await svc.complete(tid)
            if n == 0:
                return expected, 0.0, True
            return n, time.perf_counter() - t0, False
    n = await svc.rebuild(tid)
    return n, time.perf_counter() - t0, False


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="e5,use")
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--quality-size", type=int, default=300)
    ap.add_argument(
        "--index-cache",
        default=None,
        help="keep the vector indexes here and reuse them when complete (same catalog, same model)",
    )
    ap.add_argument("--skip-quality", action="store_true", help="latency and outage rows only")
    ap.add_argument(
        "--partial-index",
        action="store_true",
        help="with --index-cache: use the kept scale index as it is, even if a build was interrupted",
    )
    ap.add_argument("--outage-products", type=int, default=64, help="0 skips the outage run")
    ap.add_argument("--scale-model", default=None, help="offline model for the latency runs (default: first)")
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    sizes = [int(s) for s in args.sizes.split(",") if s]

    dbname = f"nexus_bench_{uuid.uuid4().hex[:8]}"
    base = ADMIN_DSN.rpartition("/")[0]
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    tmp = tempfile.TemporaryDirectory()
    data_dir = args.index_cache or tmp.name
    os.environ.update(
        {
            "NEXUS_ENV": "test",
            "POSTGRES_DSN": f"{base}/{dbname}",
            "ADMIN_TOKEN": "bench-admin-token-0123456789",
            "INTERNAL_API_TOKEN": "bench-internal-token-0123456789",
            "ENCRYPTION_KEY": "x" * 43 + "=",
            "DATA_DIR": data_dir,
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("OPENAI_API_KEY", None)
    from cryptography.fernet import Fernet

    os.environ["ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    from nexus_common.logging import configure_logging
    from orchestrator.config import Settings
    from orchestrator.db import create_engine, create_sessionmaker
    from orchestrator.models import Tenant
    from orchestrator.retrieval.service import Retrieval
    from orchestrator.retrieval.synonyms import DEFAULT_SYNONYMS

    from orchestrator import migrate

    configure_logging("WARNING", "bench")
    settings = Settings()  # type: ignore[call-arg]
    engine = create_engine(settings.postgres_dsn.get_secret_value(), pool_size=4)
    try:
        await migrate.upgrade(engine, migrations_dir=REPO / "migrations")
        maker = create_sessionmaker(engine)

        async def tenant(name: str) -> uuid.UUID:
            async with maker() as s, s.begin():
                t = Tenant(id=uuid.uuid5(uuid.NAMESPACE_URL, f"nexus-bench/{name}"), name=name)
                s.add(t)
                await s.flush()
                return t.id

        # ---- quality, per offline model ----------------------------------------------------
        catalog = generate(args.quality_size)
        questions = labelled(catalog)
        sets = {
            "tuned (repo)": questions,
            "wide dev": [(q, lang, kind, relevant(catalog, f)) for q, lang, kind, _src, f in DEV],
            "wide held-out": [(q, lang, kind, relevant(catalog, f)) for q, lang, kind, _src, f in HELDOUT],
        }
        for name, qs in sets.items():
            empty = [q for q, *_, rel in qs if not rel]
            assert not empty, f"{name}: questions with no relevant product: {empty}"
        print(f"\nQuality: {len(catalog)} products")
        for name, qs in sets.items():
            ks = sorted({q[2] for q in qs})
            counts = ", ".join(f"{k} {sum(q[2] == k for q in qs)}" for k in ks)
            print(f"- {name}: {len(qs)} questions ({counts})")
        print()
        quality_rows = []
        throughput: dict[str, float] = {}
        for model in models if not args.skip_quality else []:
            settings.embedding_local_model = model
            svc = Retrieval(settings, maker)
            tid = await tenant(f"quality-{model}")
            ids = await load(maker, tid, catalog)
            n, secs, reused = await build(svc, tid, len(catalog), bool(args.index_cache))
            if not reused:
                throughput[model] = n / secs
            for mode, modes in MODES.items():
                if mode == "fulltext" and model != models[0]:
                    continue  # identical for every model
                for set_name, qs in sets.items():
                    recalls, rrs, per_kind = [], [], {}
                    for q, _lang, kind, rel in qs:
                        async with maker() as s:
                            res = await svc.search(s, tid, q, limit=5, modes=modes, synonyms=DEFAULT_SYNONYMS)
                        got = [ids[h.product.id] for h in res.hits]
                        hit = len(rel & set(got)) / min(len(rel), 5)
                        rank = next((i + 1 for i, g in enumerate(got) if g in rel), None)
                        recalls.append(hit)
                        rrs.append(1 / rank if rank else 0.0)
                        per_kind.setdefault(kind, []).append(hit)
                    label = "—" if mode == "fulltext" else svc_model_name(svc)
                    quality_rows.append(
                        (
                            set_name,
                            mode,
                            label,
                            statistics.mean(recalls),
                            statistics.mean(rrs),
                            {k: statistics.mean(v) for k, v in sorted(per_kind.items())},
                        )
                    )

        print("| questions | mode | embedding | recall@5 | MRR | recall@5 by kind |")
        print("|---|---|---|---|---|---|")
        for set_name, mode, label, r, m, pk in quality_rows:
            kinds_txt = ", ".join(f"{k} {v:.2f}" for k, v in pk.items())
            print(f"| {set_name} | {mode} | {label} | {r:.3f} | {m:.3f} | {kinds_txt} |")

        # ---- latency at scale (default offline model) --------------------------------------
        model = args.scale_model or models[0]
        settings.embedding_local_model = model
        svc = Retrieval(settings, maker)
        print(
            f"\nLatency: hybrid search, embedding {svc_model_name(svc)}, "
            f"{len(questions)} questions x 2 passes\n"
        )
        print(
            "| products | index build (s) | docs/s | p50 cold (ms) | p95 cold (ms) | p50 warm (ms) | "
            "p95 warm (ms) | p95 Postgres part (ms) | p95 Chroma query (ms) | "
            "p95 bare round trip (ms) | p95 warm / bare |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for size in sizes:
            tid = await tenant(f"scale-{size}")
            await load(maker, tid, generate(size, seed=11))
            n, secs, reused = await build(svc, tid, size, bool(args.index_cache), args.partial_index)
            built_s, rate = (f"reused ({n} vectors)", "—") if reused else (f"{secs:.1f}", f"{n / secs:.0f}")
            from orchestrator.retrieval import embeddings

            async with maker() as s:
                for q, *_ in questions[:5]:
                    await svc.search(s, tid, q, limit=5, synonyms=DEFAULT_SYNONYMS)
            embeddings._cache._data.clear()  # the first pass embeds every query (cold)
            cold, warm, pg, vec, bare = [], [], [], [], []
            for pass_ in (cold, warm):
                for q, *_ in questions:
                    async with maker() as s:
                        t = time.perf_counter()
                        res = await svc.search(s, tid, q, limit=5, synonyms=DEFAULT_SYNONYMS)
                        pass_.append((time.perf_counter() - t) * 1000)
                    if pass_ is warm:
                        pg.append(res.timings_ms.get("postgres", 0) + res.timings_ms.get("rows", 0))
                        vec.append(res.timings_ms.get("vector", 0))
                        # Baseline, interleaved so it sees the same machine load: a bare round trip.
                        async with maker() as s:
                            t = time.perf_counter()
                            await s.execute(sql_text("SELECT 1"))
                            bare.append((time.perf_counter() - t) * 1000)
            print(
                f"| {size} | {built_s} | {rate} | {pct(cold, 0.5):.1f} | {pct(cold, 0.95):.1f} | "
                f"{pct(warm, 0.5):.1f} | {pct(warm, 0.95):.1f} | {pct(pg, 0.95):.1f} | "
                f"{pct(vec, 0.95):.1f} | {pct(bare, 0.95):.1f} | {pct(warm, 0.95) / pct(bare, 0.95):.0f}x |"
            )

        print(
            "\nEmbedding throughput while indexing the quality catalog (docs/s): "
            + ", ".join(f"{m}: {v:.0f}" for m, v in throughput.items())
        )
        if args.outage_products:
            await outage(settings, maker, tenant, questions, args.outage_products)
    finally:
        await engine.dispose()
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        tmp.cleanup()


async def outage(settings: Any, maker: Any, tenant: Any, questions: list[Any], size: int) -> None:
    """Search while the embedding provider refuses connections (the tenant has an OpenAI key,
    the provider's port is closed) against full-text search on the same store (the baseline:
    what the breaker falls back to), in this run."""
    import socket

    from orchestrator.credentials import service as credentials
    from orchestrator.retrieval.service import Retrieval
    from orchestrator.retrieval.synonyms import DEFAULT_SYNONYMS

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: connections are refused
    settings.openai_base_url = f"http://127.0.0.1:{port}/v1"
    svc = Retrieval(settings, maker)
    tid = await tenant(f"outage-{size}")
    await load(maker, tid, generate(size, seed=5))
    async with maker() as s, s.begin():
        await credentials.put(s, settings.crypto, tid, "openai_api_key", "sk-bench-" + "o" * 32)
    await svc.rebuild(tid)  # the provider is down: deferred, nothing embedded
    rows = []
    for label, modes in (
        ("full text only (baseline)", ("sku", "fts", "trigram")),
        ("hybrid, provider refusing connections", ("sku", "vector", "fts", "trigram")),
    ):
        times, statuses = [], {}
        for q, *_ in questions:
            async with maker() as s:
                t = time.perf_counter()
                res = await svc.search(s, tid, q, limit=5, modes=modes, synonyms=DEFAULT_SYNONYMS)
                times.append((time.perf_counter() - t) * 1000)
            statuses[res.vector_status] = statuses.get(res.vector_status, 0) + 1
        rows.append((label, times, statuses))
    base = statistics.median(rows[0][1])
    print(f"\nSearch during an embedding provider outage: {size} products, {len(questions)} searches\n")
    print("| search | p50 (ms) | p95 (ms) | max (ms) | p50 vs full text | vector_status |")
    print("|---|---|---|---|---|---|")
    for label, times, statuses in rows:
        st = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        print(
            f"| {label} | {pct(times, 0.5):.1f} | {pct(times, 0.95):.1f} | {max(times):.1f} | "
            f"{statistics.median(times) / base:.2f}x | {st} |"
        )


def svc_model_name(svc: Any) -> str:
    from orchestrator.retrieval.embeddings import local_embedder

    return local_embedder(svc.settings.embedding_local_model).name


if __name__ == "__main__":
    asyncio.run(main())
