"""Hybrid search and index maintenance.

Search = exact SKU matches first, then reciprocal rank fusion of (vector, full-text, trigram)
candidate lists, filtered (published; in stock unless asked) and returned with price and stock
read from the `products` rows at answer time — the vector store only ever gives ids.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import structlog
from nexus_common.breaker import CircuitBreakers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..config import Settings
from ..credentials import service as credentials
from ..models import Product, Tenant
from . import repository as repo
from .documents import _strings, documents_key, product_document
from .embeddings import Embedder, OpenAIEmbedder, local_embedder
from .index import ProductIndex, StaleIndex, make_client
from .query import price_range
from .synonyms import expand, groups_for, phrase_groups, term_groups
from .text import is_stopword, sku_candidates
from .vocabulary import Vocabulary, VocabularyCache, understand

log = structlog.get_logger("orchestrator.retrieval")
T = TypeVar("T")

RRF_K = 60
INLINE_INDEX_MAX = 16  # catalog changes up to this many products are indexed before the hook returns
INDEX_SETTLE_SECONDS = 2.0  # bulk changes are embedded once no more arrived for this long
INDEX_MAX_WAIT_SECONDS = 60.0  # ... or once the oldest has waited this long
CANDIDATES = 40
OPENAI_KEY_KIND = "openai_api_key"

STOPWORDS = frozenset(
    """a al algo algun alguna alguno busco buscando cual cuales cuanto cuanta cuesta custa con como com
    de del do da das dos e el en em es esta estan este esto hay la las lo los me mi mis muy necesito
    no o os para pero por precio preco quanto que quero quiero se sin su sus tem tenes tenga tengo
    tienen tienes tiene um uma un una uno unos unas vcs voce voces y ya hola oi ola tambien
    pra pro pras pros na nas no nos num numa ao aos pela pelo cuando quando donde onde ir voy vou
    ser estar estou estoy meu minha seu sua mas mais muito bien bem eso esto isso isto aqui aca
    le les lhe otro otra outro outra todo toda todos cada sobre hacia tipo coisa cosa
    también cuál cuáles cuánto cuánta está están qué cómo dónde algún tenés você vocês preço é
    à às até já só acá aquí más tú sí""".split()
)
# The check is on the word as typed (`is_stopword`): folded, "lã" (wool) would be the article "la".


@dataclass
class Hit:
    product: Product
    score: float
    sources: dict[str, int] = field(default_factory=dict)  # source -> 1-based rank


@dataclass
class SearchResult:
    hits: list[Hit]
    embedding: str | None
    vector_status: str  # "ok" | "stale" | "error" | "unavailable" (breaker open) | "disabled"
    timings_ms: dict[str, float]
    # What the query was taken to mean: spelling corrections, words no product has, price range.
    understood: dict[str, Any] = field(default_factory=dict)


class ProviderDown(Exception):
    """The embedding provider's circuit is open: it is not called until the cooldown ends."""


def _term(phrase: str) -> str:
    words = [w for w in phrase.split() if w]
    parts = [f"{w}:*" if len(w) >= 4 else w for w in words]
    return parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"


def fts_queries(
    query: str,
    synonyms: list[list[str]],
    vocab: Vocabulary | None = None,
    weak: list[list[str]] | None = None,
) -> list[str]:
    """Safe to_tsquery strings, strictest first: every term group; all groups but one (a typo or an
    extra word does not empty it); any group. Search stops at the first that finds enough, which
    also keeps the ranked set small. With the catalog's vocabulary, groups none of whose words
    occur in the catalog are left out (they could only empty the strict levels), unless that
    would leave nothing; `weak` groups (what words the catalog lacks point to through a synonym
    phrase, `phrase_groups`) stand in for those words."""
    groups = term_groups(query, synonyms, STOPWORDS)
    if vocab is not None and len(vocab):
        known = [g for g in groups if any(all(vocab.known(w) for w in m.split()) for m in g)]
        known += [g for g in weak or [] if g not in known]
        groups = known or groups
    groups = groups[:6]
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


def coverage(query: str, synonyms: list[list[str]], vocab: Vocabulary | None) -> float:
    """The share of the query's term groups the catalog's words can match at all. Full-text
    matches of a query whose other words no product contains ("para cubrir la pileta cuando no
    la usamos": only "pileta" is the catalog's) are partial evidence, like the looser levels."""
    groups = term_groups(query, synonyms, STOPWORDS)
    if not groups or vocab is None or not len(vocab):
        return 1.0
    known = [g for g in groups if any(all(vocab.known(w) for w in m.split()) for m in g)]
    return len(known) / len(groups)


def typo_query(query: str) -> str:
    """The query's meaningful words for trigram word-similarity against product names."""
    words = [w.strip(".,;:!?¿¡()\"'") for w in query.lower().split()]
    return " ".join(
        w for w in words if len(w) >= 3 and not is_stopword(w, STOPWORDS) and not any(c.isdigit() for c in w)
    )


# Weak evidence counts half in the fusion: products matching only some of the query's words (the
# looser full-text levels) and trigram look-alikes, so they do not outvote the vector neighbours
# when the words themselves found nothing ("algo para no mojarme cuando llueve").
WEIGHTS = {"fts_loose": 0.5, "trigram": 0.5}
RANK_AFTER = {"fts_loose": "fts"}  # the loose matches rank after the strict ones


def rrf(
    lists: dict[str, list[uuid.UUID]], k: int = RRF_K, weights: dict[str, float] | None = None
) -> dict[uuid.UUID, tuple[float, dict[str, int]]]:
    weights = {**WEIGHTS, **(weights or {})}
    fused: dict[uuid.UUID, tuple[float, dict[str, int]]] = {}
    for source, ids in lists.items():
        weight = weights.get(source, 1.0)
        offset = len(lists.get(RANK_AFTER.get(source, ""), []))
        for rank, pid in enumerate(ids, start=1 + offset):
            score, srcs = fused.get(pid, (0.0, {}))
            srcs[source] = rank
            fused[pid] = (score + weight / (k + rank), srcs)
    return fused


def paid_price(p: Product) -> Decimal | None:
    """What the customer pays: the promotional price when there is one."""
    return p.promotional_price if p.promotional_price is not None else p.price


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
        self.vocabulary = VocabularyCache(sessionmaker)
        self.breakers = CircuitBreakers(
            settings.embedding_breaker_failures, settings.embedding_breaker_cooldown_seconds
        )
        # Tenants whose index missed vectors while their provider was down, by breaker key.
        self._incomplete: dict[str, set[uuid.UUID]] = {}
        # Bulk changes (a full sync's pages) waiting for the per-tenant indexer: changed, deleted.
        self._pending: dict[uuid.UUID, tuple[set[uuid.UUID], set[uuid.UUID]]] = {}
        self._indexers: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._last_change: dict[uuid.UUID, float] = {}
        self._first_pending: dict[uuid.UUID, float] = {}

    # ---- embedding choice -------------------------------------------------------------------
    async def embedder_for(
        self, session: AsyncSession, tenant_id: uuid.UUID, tenant_settings: dict[str, Any] | None = None
    ) -> Embedder:
        """OpenAI when the tenant (first) or the platform has a key, else the offline model."""
        if tenant_settings is None:
            tenant_settings = (
                await session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
            )
        if tenant_settings.get("embedding") != "local":
            key = await credentials.get(session, self.settings.crypto, tenant_id, OPENAI_KEY_KIND)
            if not key and self.settings.openai_api_key:
                key = self.settings.openai_api_key.get_secret_value()
            if key:
                return self._openai_embedder(key)
        return local_embedder(self.settings.embedding_local_model)

    async def _index_target(
        self, session: AsyncSession, tenant_id: uuid.UUID
    ) -> tuple[Embedder, list[list[str]], str]:
        """What the tenant's index is made with: the embedder, the synonym list the documents
        name, and the documents' key (`documents_key`), from one read of the settings."""
        tenant_settings = await session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
        embedder = await self.embedder_for(session, tenant_id, tenant_settings)
        synonyms = groups_for(tenant_settings)
        return embedder, synonyms, documents_key(synonyms)

    def _embedder_from(self, tenant_settings: dict[str, Any], ciphertext: bytes | None) -> Embedder:
        """`embedder_for` from what `repo.search_context` read (no round trip of its own)."""
        if tenant_settings.get("embedding") != "local":
            key = self.settings.crypto.decrypt(ciphertext) if ciphertext is not None else None
            if not key and self.settings.openai_api_key:
                key = self.settings.openai_api_key.get_secret_value()
            if key:
                return self._openai_embedder(key)
        return local_embedder(self.settings.embedding_local_model)

    def _openai_embedder(self, key: str) -> OpenAIEmbedder:
        fp = hashlib.sha256(key.encode()).hexdigest()[:16]  # cache by fingerprint, never by key
        if fp not in self._openai:
            self._openai[fp] = OpenAIEmbedder(
                key,
                self.settings.openai_embedding_model,
                self.settings.openai_base_url,
                query_timeout=self.settings.embedding_timeout_seconds,
                index_timeout=self.settings.embedding_index_timeout_seconds,
            )
        return self._openai[fp]

    # ---- the provider's circuit breaker -------------------------------------------------------
    async def _guarded(self, embedder: Embedder, call: Callable[[], Awaitable[T]]) -> T:
        """Call the embedding provider through its breaker. Open: ProviderDown at once, no call.
        The success that closes an open circuit completes the indexes that missed vectors."""
        key: str | None = getattr(embedder, "breaker_key", None)
        if key is None:  # the offline model: nothing to break
            return await call()
        if not self.breakers.allow(key):
            raise ProviderDown(key)
        try:
            result = await call()
        except Exception:
            self.breakers.failure(key)
            if self.breakers.is_open(key):
                log.warning("retrieval.embedding_breaker_open", provider=embedder.name)
            raise
        if self.breakers.success(key):
            log.info("retrieval.embedding_breaker_closed", provider=embedder.name)
            for tid in self._incomplete.pop(key, set()):
                self._soon(self.complete(tid))
        return result

    def _mark_incomplete(self, embedder: Embedder, tenant_id: uuid.UUID) -> None:
        key: str | None = getattr(embedder, "breaker_key", None)
        if key is not None:
            self._incomplete.setdefault(key, set()).add(tenant_id)

    def is_incomplete(self, tenant_id: uuid.UUID) -> bool:
        return any(tenant_id in tids for tids in self._incomplete.values())

    def _lock(self, tenant_id: uuid.UUID) -> asyncio.Lock:
        return self._locks.setdefault(tenant_id, asyncio.Lock())

    # ---- indexing -----------------------------------------------------------------------------
    async def products_changed(
        self, tenant_id: uuid.UUID, changed: Sequence[uuid.UUID], deleted: Sequence[uuid.UUID]
    ) -> None:
        """The catalog hook: upsert the changed products, drop the deleted ones."""
        self.vocabulary.invalidate(tenant_id)
        async with self._lock(tenant_id):
            async with self.sessionmaker() as session:
                embedder, synonyms, docs_key = await self._index_target(session, tenant_id)
                if not await self.index.is_current(tenant_id, embedder.name, docs_key):
                    await self._rebuild_locked(session, tenant_id, embedder, synonyms)
                    return
                rows = await repo.products_by_ids(session, tenant_id, list(changed))
                cuts = await repo.price_cuts(session, tenant_id)
            gone = [str(i) for i in deleted] + [str(i) for i in changed if i not in rows]
            await self.index.delete(tenant_id, gone)
            if await self._embed_or_defer(tenant_id, embedder, list(rows.values()), cuts, synonyms):
                log.info("retrieval.indexed", tenant_id=str(tenant_id), upserted=len(rows), deleted=len(gone))

    async def on_catalog_change(
        self, tenant_id: uuid.UUID, changed: Sequence[uuid.UUID], deleted: Sequence[uuid.UUID]
    ) -> None:
        """The catalog hook. A few products (a webhook's refresh) are indexed before returning, so
        they are searchable by vector at once; more (a full sync's pages) are queued for this
        tenant's background indexer, so the sync runs at the store's rate limit, not at the
        embedding model's speed (an offline CPU model embeds a few documents per second)."""
        if len(changed) + len(deleted) <= INLINE_INDEX_MAX and tenant_id not in self._indexers:
            await self.products_changed(tenant_id, changed, deleted)
            return
        self.vocabulary.invalidate(tenant_id)
        todo, gone = self._pending.setdefault(tenant_id, (set(), set()))
        todo.difference_update(deleted)
        todo.update(changed)
        gone.update(deleted)
        now = time.monotonic()
        self._last_change[tenant_id] = now
        self._first_pending.setdefault(tenant_id, now)
        if tenant_id not in self._indexers:
            task = asyncio.create_task(self._drain(tenant_id))
            self._indexers[tenant_id] = task
            task.add_done_callback(lambda _t: self._indexers.pop(tenant_id, None))

    async def _drain(self, tenant_id: uuid.UUID) -> None:
        while self._pending.get(tenant_id):
            # Wait for the changes to settle (a full sync sends a page every half second): the
            # sync then runs alone, at the store's rate limit, and its products are embedded in
            # one pass after it; never more than INDEX_MAX_WAIT after the first pending change.
            while True:
                now = time.monotonic()
                quiet = now - self._last_change.get(tenant_id, 0.0)
                waited = now - self._first_pending.get(tenant_id, now)
                if quiet >= INDEX_SETTLE_SECONDS or waited >= INDEX_MAX_WAIT_SECONDS:
                    break
                await asyncio.sleep(min(INDEX_SETTLE_SECONDS - quiet, INDEX_MAX_WAIT_SECONDS - waited))
            self._first_pending.pop(tenant_id, None)
            todo, gone = self._pending.pop(tenant_id)
            try:
                await self.products_changed(tenant_id, list(todo), list(gone))
            except Exception as exc:  # noqa: BLE001 - Chroma down: logged, the next change retries
                log.error(
                    "retrieval.background_index_failed", tenant_id=str(tenant_id), error=type(exc).__name__
                )

    async def indexed(self, tenant_id: uuid.UUID) -> None:
        """Wait until the tenant's queued changes are indexed (tests, CLI, benchmarks)."""
        while (task := self._indexers.get(tenant_id)) is not None:
            await task

    async def complete(self, tenant_id: uuid.UUID) -> int:
        """Bring the tenant's index level with Postgres: embed the products with no vector or with
        one made from an older row, drop vectors of products that are gone. Runs when the
        embedding provider is back; returns how many products were embedded."""
        async with self._lock(tenant_id):
            async with self.sessionmaker() as session:
                embedder, synonyms, docs_key = await self._index_target(session, tenant_id)
                if not await self.index.is_current(tenant_id, embedder.name, docs_key):
                    return await self._rebuild_locked(session, tenant_id, embedder, synonyms)
                indexed = await self.index.versions(tenant_id)
                current = await repo.product_versions(session, tenant_id)
                todo = [pid for pid, v in current.items() if indexed.get(str(pid)) != v]
                rows = await repo.products_by_ids(session, tenant_id, todo)
                cuts = await repo.price_cuts(session, tenant_id)
            gone = [pid for pid in indexed if uuid.UUID(pid) not in current]
            await self.index.delete(tenant_id, gone)
            if not await self._embed_or_defer(tenant_id, embedder, list(rows.values()), cuts, synonyms):
                return 0
            log.info("retrieval.completed", tenant_id=str(tenant_id), embedded=len(rows), deleted=len(gone))
            return len(rows)

    async def rebuild(self, tenant_id: uuid.UUID) -> int:
        """Drop and rebuild the tenant's collection from Postgres (resync, model change)."""
        self.vocabulary.invalidate(tenant_id)
        async with self._lock(tenant_id):
            async with self.sessionmaker() as session:
                embedder, synonyms, _ = await self._index_target(session, tenant_id)
                return await self._rebuild_locked(session, tenant_id, embedder, synonyms)

    async def _rebuild_locked(
        self, session: AsyncSession, tenant_id: uuid.UUID, embedder: Embedder, synonyms: list[list[str]]
    ) -> int:
        started = time.perf_counter()
        key: str | None = getattr(embedder, "breaker_key", None)
        if key is not None and self.breakers.is_open(key):
            self._mark_incomplete(embedder, tenant_id)  # rebuilt when the provider is back
            return 0
        await self.index.recreate(tenant_id, embedder.name, documents_key(synonyms))
        cuts = await repo.price_cuts(session, tenant_id)
        total = 0
        async for batch in repo.product_batches(session, tenant_id):
            if not await self._embed_or_defer(tenant_id, embedder, batch, cuts, synonyms):
                return total
            total += len(batch)
        log.info(
            "retrieval.rebuilt",
            tenant_id=str(tenant_id),
            products=total,
            embedding=embedder.name,
            ms=round((time.perf_counter() - started) * 1000),
        )
        return total

    async def _embed_or_defer(
        self,
        tenant_id: uuid.UUID,
        embedder: Embedder,
        products: list[Product],
        cuts: tuple[Decimal, Decimal] | None,
        synonyms: list[list[str]],
    ) -> bool:
        """Embed and store `products`; False when the provider is down (the tenant is then marked
        for `complete` once it is back; what was stored so far stays)."""
        docs_key = documents_key(synonyms)
        for i in range(0, len(products), 64):
            chunk = products[i : i + 64]
            docs = [product_document(p, cuts, synonyms) for p in chunk]
            try:
                vectors = await self._guarded(embedder, functools.partial(embedder.embed_documents, docs))
            except Exception as exc:  # noqa: BLE001 - provider down or failing: index later
                self._mark_incomplete(embedder, tenant_id)
                log.warning(
                    "retrieval.index_deferred",
                    tenant_id=str(tenant_id),
                    provider=embedder.name,
                    error=type(exc).__name__,
                )
                return False
            await self.index.upsert(
                tenant_id,
                embedder.name,
                [str(p.id) for p in chunk],
                vectors,
                docs,
                [repo.version_of(p) for p in chunk],
                docs_key,
            )
        return True

    def _soon(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _rebuild_soon(self, tenant_id: uuid.UUID) -> None:
        if self._lock(tenant_id).locked():
            return  # a rebuild or upsert is already running for this tenant
        self._soon(self.rebuild(tenant_id))

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
        tenant_settings: dict[str, Any] | None = None,
    ) -> SearchResult:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        # One round trip: settings, the embedding key's ciphertext, the trigram threshold.
        ctx = await repo.search_context(session, tenant_id, OPENAI_KEY_KIND) or repo.SearchContext({}, None)
        if tenant_settings is None:
            tenant_settings = ctx.settings
        if synonyms is None:
            synonyms = groups_for(tenant_settings)
        text_modes = {"fts", "trigram"} & set(modes)
        vocab = await self.vocabulary.get(session, tenant_id) if text_modes else None
        words, price = price_range(query)  # "menos de 20 mil" is a filter, not words to match
        understood = understand(words, vocab, STOPWORDS, synonyms)
        extra = expand(understood.text, synonyms)
        # Words no product contains may still point to a group through a synonym phrase.
        weak = (
            phrase_groups(understood.text.split(), synonyms, STOPWORDS, vocab.known)
            if vocab is not None and len(vocab)
            else []
        )
        extra += [m for g in weak for m in g if m not in extra]
        lists: dict[str, list[uuid.UUID]] = {}
        embedding_name: str | None = None
        vector_status = "disabled"

        # The vector half (query embedding and Chroma, both in threads) runs while Postgres answers.
        vector_task: asyncio.Task[list[uuid.UUID]] | None = None
        if "vector" in modes:
            embedder = self._embedder_from(tenant_settings, ctx.credential)
            embedding_name = embedder.name
            # The index must have been built from documents of the tenant's own synonym list.
            docs_key = documents_key(groups_for(tenant_settings))
            vector_task = asyncio.create_task(
                self._vector(tenant_id, embedder, " ".join([understood.text, *extra]), timings, docs_key)
            )

        try:
            t = time.perf_counter()
            # Exact SKU, every full-text level that is needed and trigrams: one round trip.
            found = await repo.text_candidates(
                session,
                tenant_id,
                skus=sku_candidates(query) if "sku" in modes else [],
                tsqueries=fts_queries(understood.text, synonyms, vocab, weak) if "fts" in modes else [],
                trigram_text=typo_query(understood.text) if "trigram" in modes else "",
                k=CANDIDATES,
                enough=limit,
                price=price,
            )
            sku_ids = found.sku
            if "fts" in modes:
                ordered: list[uuid.UUID] = []
                strict_hits = len(found.levels[0]) if found.levels else 0
                for level in found.levels:
                    ordered += [i for i in level if i not in ordered]
                    if len(ordered) >= limit:
                        break
                lists["fts"] = ordered[:strict_hits]
                lists["fts_loose"] = ordered[strict_hits:]
            if "trigram" in modes:
                lists["trigram"] = found.trigram
            timings["postgres"] = (time.perf_counter() - t) * 1000
        except BaseException:
            if vector_task is not None:
                vector_task.cancel()
            raise

        if vector_task is not None:
            try:
                lists["vector"] = await vector_task
                vector_status = "ok"
            except StaleIndex:
                vector_status = "stale"  # never mix models: full-text only until the rebuild is done
                self._rebuild_soon(tenant_id)
            except ProviderDown:
                vector_status = "unavailable"  # breaker open: full text answers, no call made
            except Exception as exc:  # noqa: BLE001 - Chroma/OpenAI down: full-text still answers
                vector_status = "error"
                log.warning("retrieval.vector_failed", tenant_id=str(tenant_id), error=type(exc).__name__)

        # A strict full-text match that had to leave words out counts as partial evidence.
        partial = "fts" in modes and coverage(understood.text, synonyms, vocab) < 1.0
        fused = rrf(lists, weights={"fts": WEIGHTS["fts_loose"]} if partial else None)
        for rank, pid in enumerate(sku_ids, start=1):
            score, srcs = fused.get(pid, (0.0, {}))
            srcs["sku"] = rank
            fused[pid] = (score + 10.0 - rank * 0.01, srcs)  # exact SKU matches always come first

        t = time.perf_counter()
        order = sorted(fused, key=lambda pid: (-fused[pid][0], str(pid)))
        # Rows in small batches, best first: most searches need only the first `2 * limit` (loading
        # 40 full product rows through the ORM was a tenth of a search's time at 10k products).
        order = order[: max(limit * 4, CANDIDATES)]
        hits: list[Hit] = []
        step = max(limit * 2, 1)
        for start in range(0, len(order), step):
            batch = order[start : start + step]
            rows = await repo.products_by_ids(session, tenant_id, batch)
            for pid in batch:
                p = rows.get(pid)
                if p is None or not p.published or (not include_out_of_stock and not in_stock(p)):
                    continue
                if price and not price.admits(paid_price(p)):
                    continue
                hits.append(Hit(product=p, score=round(fused[pid][0], 6), sources=fused[pid][1]))
                if len(hits) >= limit:
                    break
            if len(hits) >= limit:
                break
        timings["rows"] = (time.perf_counter() - t) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        understood_view: dict[str, Any] = {}
        if understood.corrections:
            understood_view["corrections"] = understood.corrections
        if understood.unknown:
            understood_view["unknown_words"] = understood.unknown
        if price:
            understood_view["price"] = {
                "min": None if price.low is None else str(price.low),
                "max": None if price.high is None else str(price.high),
            }
        return SearchResult(
            hits=hits,
            embedding=embedding_name,
            vector_status=vector_status,
            timings_ms=timings,
            understood=understood_view,
        )

    async def _vector(
        self,
        tenant_id: uuid.UUID,
        embedder: Embedder,
        text: str,
        timings: dict[str, float],
        documents: str | None = None,
    ) -> list[uuid.UUID]:
        t = time.perf_counter()
        vec = await self._guarded(embedder, lambda: embedder.embed_query(text))
        timings["embed_query"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        hits = await self.index.query(tenant_id, embedder.name, vec, CANDIDATES, documents)
        timings["vector"] = (time.perf_counter() - t) * 1000
        return [h.product_id for h in hits]

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
        "id": v.get("id"),  # what the agent's add_to_cart takes as variant_id
        "values": _strings(v.get("values")),
        "sku": v.get("sku"),
        "price": None if v.get("price") is None else str(v.get("price")),
        "stock": v.get("stock"),
    }
