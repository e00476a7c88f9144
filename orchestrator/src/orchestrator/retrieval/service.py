"""Hybrid search and index maintenance.

Search = exact SKU matches first, then reciprocal rank fusion of (vector, full-text, trigram)
candidate lists, filtered (published; in stock unless asked) and returned with price and stock
read from the `products` rows at answer time — the vector store only ever gives ids.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings
from ..credentials import service as credentials
from ..models import Product, Tenant
from . import repository as repo
from .documents import _strings, product_document
from .embeddings import Embedder, OpenAIEmbedder, local_embedder
from .index import ProductIndex, StaleIndex, make_client
from .synonyms import expand, groups_for, term_groups
from .text import fold, sku_candidates

log = structlog.get_logger("orchestrator.retrieval")

RRF_K = 60
CANDIDATES = 40
OPENAI_KEY_KIND = "openai_api_key"

STOPWORDS = frozenset(
    """a al algo algun alguna alguno busco buscando cual cuales cuanto cuanta cuesta custa con como com
    de del do da das dos e el en em es esta estan este esto hay la las lo los me mi mis muy necesito
    no o os para pero por precio preco quanto que quero quiero se sin su sus tem tenes tenga tengo
    tienen tienes tiene um uma un una uno unos unas vcs voce voces y ya hola oi ola tambien""".split()
)


@dataclass
class Hit:
    product: Product
    score: float
    sources: dict[str, int] = field(default_factory=dict)  # source -> 1-based rank


@dataclass
class SearchResult:
    hits: list[Hit]
    embedding: str | None
    vector_status: str  # "ok" | "stale" | "error" | "disabled"
    timings_ms: dict[str, float]


def _term(phrase: str) -> str:
    words = [w for w in phrase.split() if w]
    parts = [f"{w}:*" if len(w) >= 4 else w for w in words]
    return parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"


def fts_queries(query: str, synonyms: list[list[str]]) -> list[str]:
    """Safe to_tsquery strings, strictest first: every term group; all groups but one (a typo or an
    extra word does not empty it); any group. Search stops at the first that finds enough, which
    also keeps the ranked set small."""
    groups = term_groups(query, synonyms, STOPWORDS)[:6]
    alts = ["(" + " | ".join(_term(m) for m in g) + ")" for g in groups]
    if not alts:
        return []
    out = [" & ".join(alts)]
    if len(alts) >= 3:
        combos = [" & ".join(a for j, a in enumerate(alts) if j != skip) for skip in range(len(alts))]
        out.append(" | ".join(f"({c})" for c in combos))
    if len(alts) >= 2:
        out.append(" | ".join(alts))
    return out


def typo_query(query: str) -> str:
    """The query's meaningful words for trigram word-similarity against product names."""
    words = [w.strip(".,;:!?¿¡()\"'") for w in query.lower().split()]
    return " ".join(
        w for w in words if len(w) >= 3 and fold(w) not in STOPWORDS and not any(c.isdigit() for c in w)
    )


def rrf(lists: dict[str, list[uuid.UUID]], k: int = RRF_K) -> dict[uuid.UUID, tuple[float, dict[str, int]]]:
    fused: dict[uuid.UUID, tuple[float, dict[str, int]]] = {}
    for source, ids in lists.items():
        for rank, pid in enumerate(ids, start=1):
            score, srcs = fused.get(pid, (0.0, {}))
            srcs[source] = rank
            fused[pid] = (score + 1.0 / (k + rank), srcs)
    return fused


def in_stock(p: Product) -> bool:
    return p.stock is None or p.stock > 0  # null = some variant has unlimited stock


class Retrieval:
    """Per-process retrieval service: the Chroma client, embedders and per-tenant index locks."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        index: ProductIndex | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.index = index or ProductIndex(make_client(settings.chroma_url, settings.data_dir))
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._openai: dict[str, OpenAIEmbedder] = {}
        self._background: set[asyncio.Task[Any]] = set()

    # ---- embedding choice -------------------------------------------------------------------
    async def embedder_for(self, session: AsyncSession, tenant_id: uuid.UUID) -> Embedder:
        """OpenAI when the tenant (first) or the platform has a key, else the offline model."""
        tenant_settings = await session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
        if tenant_settings.get("embedding") != "local":
            key = await credentials.get(session, self.settings.crypto, tenant_id, OPENAI_KEY_KIND)
            if not key and self.settings.openai_api_key:
                key = self.settings.openai_api_key.get_secret_value()
            if key:
                return self._openai_embedder(key)
        return local_embedder(self.settings.embedding_local_model)

    def _openai_embedder(self, key: str) -> OpenAIEmbedder:
        fp = hashlib.sha256(key.encode()).hexdigest()[:16]  # cache by fingerprint, never by key
        if fp not in self._openai:
            self._openai[fp] = OpenAIEmbedder(
                key, self.settings.openai_embedding_model, self.settings.openai_base_url
            )
        return self._openai[fp]

    def _lock(self, tenant_id: uuid.UUID) -> asyncio.Lock:
        return self._locks.setdefault(tenant_id, asyncio.Lock())

    # ---- indexing -----------------------------------------------------------------------------
    async def products_changed(
        self, tenant_id: uuid.UUID, changed: Sequence[uuid.UUID], deleted: Sequence[uuid.UUID]
    ) -> None:
        """The catalog hook: upsert the changed products, drop the deleted ones."""
        async with self._lock(tenant_id):
            async with self.sessionmaker() as session:
                embedder = await self.embedder_for(session, tenant_id)
                if await self.index.model_of(tenant_id) != embedder.name:
                    await self._rebuild_locked(session, tenant_id, embedder)
                    return
                rows = await repo.products_by_ids(session, tenant_id, list(changed))
                cuts = await repo.price_cuts(session, tenant_id)
            gone = [str(i) for i in deleted] + [str(i) for i in changed if i not in rows]
            await self.index.delete(tenant_id, gone)
            await self._embed_and_upsert(tenant_id, embedder, list(rows.values()), cuts)
            log.info("retrieval.indexed", tenant_id=str(tenant_id), upserted=len(rows), deleted=len(gone))

    async def rebuild(self, tenant_id: uuid.UUID) -> int:
        """Drop and rebuild the tenant's collection from Postgres (resync, model change)."""
        async with self._lock(tenant_id):
            async with self.sessionmaker() as session:
                embedder = await self.embedder_for(session, tenant_id)
                return await self._rebuild_locked(session, tenant_id, embedder)

    async def _rebuild_locked(self, session: AsyncSession, tenant_id: uuid.UUID, embedder: Embedder) -> int:
        started = time.perf_counter()
        await self.index.recreate(tenant_id, embedder.name)
        cuts = await repo.price_cuts(session, tenant_id)
        total = 0
        async for batch in repo.product_batches(session, tenant_id):
            await self._embed_and_upsert(tenant_id, embedder, batch, cuts)
            total += len(batch)
        log.info(
            "retrieval.rebuilt",
            tenant_id=str(tenant_id),
            products=total,
            embedding=embedder.name,
            ms=round((time.perf_counter() - started) * 1000),
        )
        return total

    async def _embed_and_upsert(
        self,
        tenant_id: uuid.UUID,
        embedder: Embedder,
        products: list[Product],
        cuts: tuple[Decimal, Decimal] | None,
    ) -> None:
        for i in range(0, len(products), 64):
            chunk = products[i : i + 64]
            docs = [product_document(p, cuts) for p in chunk]
            vectors = await embedder.embed_documents(docs)
            await self.index.upsert(tenant_id, embedder.name, [str(p.id) for p in chunk], vectors, docs)

    def _rebuild_soon(self, tenant_id: uuid.UUID) -> None:
        if self._lock(tenant_id).locked():
            return  # a rebuild or upsert is already running for this tenant
        task = asyncio.create_task(self.rebuild(tenant_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- search -------------------------------------------------------------------------------
    async def search(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        query: str,
        limit: int = 5,
        include_out_of_stock: bool = False,
        modes: Sequence[str] = ("sku", "vector", "fts", "trigram"),
        synonyms: list[list[str]] | None = None,
    ) -> SearchResult:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        if synonyms is None:
            tenant_settings = (
                await session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
            )
            synonyms = groups_for(tenant_settings)
        extra = expand(query, synonyms)
        lists: dict[str, list[uuid.UUID]] = {}
        embedding_name: str | None = None
        vector_status = "disabled"

        if "vector" in modes:
            embedder = await self.embedder_for(session, tenant_id)
            embedding_name = embedder.name
            try:
                t = time.perf_counter()
                vec = await embedder.embed_query(" ".join([query, *extra]))
                timings["embed_query"] = (time.perf_counter() - t) * 1000
                t = time.perf_counter()
                lists["vector"] = [
                    h.product_id for h in await self.index.query(tenant_id, embedder.name, vec, CANDIDATES)
                ]
                timings["vector"] = (time.perf_counter() - t) * 1000
                vector_status = "ok"
            except StaleIndex:
                vector_status = "stale"  # never mix models: full-text only until the rebuild is done
                self._rebuild_soon(tenant_id)
            except Exception as exc:  # noqa: BLE001 - Chroma/OpenAI down: full-text still answers
                vector_status = "error"
                log.warning("retrieval.vector_failed", tenant_id=str(tenant_id), error=type(exc).__name__)

        t = time.perf_counter()
        skus = sku_candidates(query) if "sku" in modes else []
        sku_ids = await repo.by_sku(session, tenant_id, skus, CANDIDATES)
        strict_hits = 0
        if "fts" in modes:
            found: list[uuid.UUID] = []
            for level, tsq in enumerate(fts_queries(query, synonyms)):
                more = await repo.fulltext(session, tenant_id, tsq, CANDIDATES)
                found += [i for i in more if i not in found]
                if level == 0:
                    strict_hits = len(found)
                if len(found) >= limit:
                    break
            lists["fts"] = found
        # Typo tolerance costs a trigram scan: only when the words as typed did not all match.
        if "trigram" in modes and ("fts" not in modes or strict_hits < limit):
            lists["trigram"] = await repo.trigram(session, tenant_id, typo_query(query), CANDIDATES)
        timings["postgres"] = (time.perf_counter() - t) * 1000

        fused = rrf(lists)
        for rank, pid in enumerate(sku_ids, start=1):
            score, srcs = fused.get(pid, (0.0, {}))
            srcs["sku"] = rank
            fused[pid] = (score + 10.0 - rank * 0.01, srcs)  # exact SKU matches always come first

        t = time.perf_counter()
        order = sorted(fused, key=lambda pid: (-fused[pid][0], str(pid)))
        rows = await repo.products_by_ids(session, tenant_id, order[: max(limit * 4, CANDIDATES)])
        hits: list[Hit] = []
        for pid in order:
            p = rows.get(pid)
            if p is None or not p.published or (not include_out_of_stock and not in_stock(p)):
                continue
            hits.append(Hit(product=p, score=round(fused[pid][0], 6), sources=fused[pid][1]))
            if len(hits) >= limit:
                break
        timings["rows"] = (time.perf_counter() - t) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        return SearchResult(
            hits=hits, embedding=embedding_name, vector_status=vector_status, timings_ms=timings
        )

    async def get_product(
        self, session: AsyncSession, tenant_id: uuid.UUID, product_id: uuid.UUID
    ) -> Product | None:
        return (await repo.products_by_ids(session, tenant_id, [product_id])).get(product_id)


def product_view(
    p: Product, score: float | None = None, sources: dict[str, int] | None = None
) -> dict[str, Any]:
    """What the API and the agent's tools see of a product (price and stock straight from the row)."""
    view: dict[str, Any] = {
        "id": str(p.id),
        "name": p.name_text,
        "price": None if p.price is None else str(p.price),
        "promotional_price": None if p.promotional_price is None else str(p.promotional_price),
        "currency": p.currency,
        "stock": p.stock,
        "in_stock": in_stock(p),
        "url": p.url,
        "image_url": p.image_url,
        "skus": list(p.skus or []),
        "categories": list(p.categories or []),
        "variants": [_variant_view(v) for v in (p.variants or [])[:30] if isinstance(v, dict)],
    }
    if score is not None:
        view["score"] = score
    if sources is not None:
        view["matched_by"] = sources
    return view


def _variant_view(v: dict[str, Any]) -> dict[str, Any]:
    return {
        "values": _strings(v.get("values")),
        "sku": v.get("sku"),
        "price": None if v.get("price") is None else str(v.get("price")),
        "stock": v.get("stock"),
    }
