"""SQL for retrieval: full-text, trigram, exact SKU and the rows answers are built from."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Product
from .query import PriceRange

NO_RANGE = PriceRange()

# Both configurations: a Spanish stemmer misses Portuguese plurals and vice versa.
_FTS = text(
    """
    WITH q AS (SELECT to_tsquery('spanish', :tsq) || to_tsquery('portuguese', :tsq) AS q)
    SELECT p.id, ts_rank(p.search_vector, q.q) AS rank
    FROM products p, q
    WHERE p.tenant_id = :tid AND p.published AND p.search_vector @@ q.q
      AND (CAST(:pmin AS numeric) IS NULL OR COALESCE(p.promotional_price, p.price) >= :pmin)
      AND (CAST(:pmax AS numeric) IS NULL OR COALESCE(p.promotional_price, p.price) <= :pmax)
    ORDER BY rank DESC, p.id
    LIMIT :k
    """
)

# Typos: trigram word similarity of each query word against product names (GIN trigram index).
_TRGM = text(
    """
    SELECT p.id, word_similarity(:q, p.name_text) AS sim
    FROM products p
    WHERE p.name_text %> :q AND p.tenant_id = :tid AND p.published
      AND (CAST(:pmin AS numeric) IS NULL OR COALESCE(p.promotional_price, p.price) >= :pmin)
      AND (CAST(:pmax AS numeric) IS NULL OR COALESCE(p.promotional_price, p.price) <= :pmax)
    ORDER BY sim DESC, p.id
    LIMIT :k
    """
)

_SKU = text(
    """
    SELECT p.id FROM products p
    WHERE p.tenant_id = :tid AND p.published AND p.skus && CAST(:skus AS text[])
    ORDER BY p.id
    LIMIT :k
    """
)


async def prepare_search(session: AsyncSession, trigram_threshold: float = 0.45) -> None:
    """Settings for this transaction only, in one round trip: the trigram threshold, and a planner
    hint: with one tenant's few thousand rows the planner picks a sequential scan, but evaluating
    a tsquery or trigram match on every row (detoasting each tsvector) costs 10x more than the
    tenant-scoped GIN index it skips."""
    await session.execute(
        text(
            "SELECT set_config('enable_seqscan', 'off', true), "
            "set_config('pg_trgm.word_similarity_threshold', :th, true)"
        ),
        {"th": str(trigram_threshold)},
    )


async def fulltext(
    session: AsyncSession, tenant_id: uuid.UUID, tsq: str, k: int, price: PriceRange = NO_RANGE
) -> list[uuid.UUID]:
    """Call `prepare_search` first in the same transaction."""
    if not tsq:
        return []
    rows = await session.execute(
        _FTS, {"tsq": tsq, "tid": tenant_id, "k": k, "pmin": price.low, "pmax": price.high}
    )
    return [r[0] for r in rows]


async def trigram(
    session: AsyncSession, tenant_id: uuid.UUID, q: str, k: int, price: PriceRange = NO_RANGE
) -> list[uuid.UUID]:
    """Call `prepare_search` first in the same transaction (it sets the similarity threshold)."""
    if not q:
        return []
    rows = await session.execute(
        _TRGM, {"q": q, "tid": tenant_id, "k": k, "pmin": price.low, "pmax": price.high}
    )
    return [r[0] for r in rows]


async def by_sku(session: AsyncSession, tenant_id: uuid.UUID, skus: Sequence[str], k: int) -> list[uuid.UUID]:
    if not skus:
        return []
    rows = await session.execute(_SKU, {"skus": list(skus), "tid": tenant_id, "k": k})
    return [r[0] for r in rows]


async def products_by_ids(
    session: AsyncSession, tenant_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Product]:
    if not ids:
        return {}
    rows = await session.scalars(
        select(Product).where(Product.tenant_id == tenant_id, Product.id.in_(list(ids)))
    )
    return {p.id: p for p in rows}


async def product_batches(session: AsyncSession, tenant_id: uuid.UUID, batch: int = 256):
    """Every product of a tenant, in id order, `batch` at a time (keyset pagination)."""
    last: uuid.UUID | None = None
    while True:
        q = select(Product).where(Product.tenant_id == tenant_id).order_by(Product.id).limit(batch)
        if last is not None:
            q = q.where(Product.id > last)
        rows = list((await session.scalars(q)).all())
        if not rows:
            return
        yield rows
        last = rows[-1].id


def version_of(p: Product) -> str:
    """A product row's version, stored with its vector (the index is complete when they agree)."""
    return p.updated_at.isoformat() if p.updated_at else ""


async def product_versions(session: AsyncSession, tenant_id: uuid.UUID) -> dict[uuid.UUID, str]:
    rows = await session.execute(select(Product.id, Product.updated_at).where(Product.tenant_id == tenant_id))
    return {pid: (ts.isoformat() if ts else "") for pid, ts in rows}


async def price_cuts(session: AsyncSession, tenant_id: uuid.UUID) -> tuple[Decimal, Decimal] | None:
    """Terciles of the tenant's prices: what "cheap" and "premium" mean in this store."""
    row = (
        await session.execute(
            text(
                "SELECT percentile_cont(0.33) WITHIN GROUP (ORDER BY price), "
                "percentile_cont(0.66) WITHIN GROUP (ORDER BY price) "
                "FROM products WHERE tenant_id = :tid AND price IS NOT NULL"
            ),
            {"tid": tenant_id},
        )
    ).one()
    if row[0] is None:
        return None
    return Decimal(str(row[0])), Decimal(str(row[1]))
