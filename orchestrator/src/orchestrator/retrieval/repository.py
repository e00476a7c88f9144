"""SQL for retrieval: full-text, trigram, exact SKU and the rows answers are built from."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Product
from .query import PriceRange

NO_RANGE = PriceRange()

# The candidates' common conditions. The tsquery and trigram text are inline expressions, not a
# joined CTE: only then can the planner use the GIN indexes (a `search_vector @@ q.q` join read
# every row of the tenant).
_BASE = """p.tenant_id = :tid AND p.published
      AND (CAST(:pmin AS numeric) IS NULL OR COALESCE(p.promotional_price, p.price) >= :pmin)
      AND (CAST(:pmax AS numeric) IS NULL OR COALESCE(p.promotional_price, p.price) <= :pmax)"""
# Both configurations: a Spanish stemmer misses Portuguese plurals and vice versa.
_TSQ = "(to_tsquery('spanish', :tsq{i}) || to_tsquery('portuguese', :tsq{i}))"


@dataclass
class TextCandidates:
    """What one round trip of text retrieval found, each list best first."""

    sku: list[uuid.UUID] = field(default_factory=list)
    levels: list[list[uuid.UUID]] = field(default_factory=list)  # full-text, strictest first
    trigram: list[uuid.UUID] = field(default_factory=list)


@functools.lru_cache(maxsize=64)
def text_sql(levels: int, with_sku: bool, with_trigram: bool, trigram_ungated: bool) -> str:
    """One statement for exact SKU, the full-text levels and trigrams. A looser level runs only
    while the stricter ones found fewer than :enough products, and trigrams only while the strict
    level did (unless `trigram_ungated`), and none of them when a SKU of the query matched exactly
    (the product the customer named is the answer; a code's letters, "TER" of "TER-00083", would
    otherwise match and rank every termo): each gate is an uncorrelated sub-select, which Postgres
    evaluates once before the scan it guards (a "One-Time Filter"), so a level that is not needed
    is never executed. Only loop indices and this module's constant fragments are formatted in
    (every value is a bind parameter), hence the S608 waivers below."""
    ctes: list[str] = []
    parts: list[str] = []
    if with_sku:
        ctes.append(
            "sku AS (SELECT p.id, 0::real AS score FROM products p WHERE p.tenant_id = :tid "
            "AND p.published AND p.skus && CAST(:skus AS text[]) ORDER BY p.id LIMIT :k)"
        )
        parts.append("SELECT 'sku' AS src, id, score FROM sku")
    no_sku = "NOT EXISTS (SELECT 1 FROM sku) AND " if with_sku else ""
    for i in range(levels):
        gate = no_sku
        if i:
            seen = " UNION ".join(f"SELECT id FROM f{j}" for j in range(i))  # noqa: S608
            gate += f"(SELECT count(*) FROM ({seen}) s) < :enough AND "  # noqa: S608
        tsq = _TSQ.format(i=i)
        ctes.append(
            f"f{i} AS (SELECT p.id, ts_rank(p.search_vector, {tsq}) AS score FROM products p "  # noqa: S608
            f"WHERE {gate}p.search_vector @@ {tsq} AND {_BASE} ORDER BY score DESC, p.id LIMIT :k)"
        )
        parts.append(f"SELECT 'f{i}' AS src, id, score FROM f{i}")  # noqa: S608
    if with_trigram:
        strict_short = "" if trigram_ungated or not levels else "(SELECT count(*) FROM f0) < :enough AND "
        gate = no_sku + strict_short
        ctes.append(
            "trg AS (SELECT p.id, word_similarity(:tq, p.name_text) AS score FROM products p "  # noqa: S608
            f"WHERE {gate}p.name_text %> :tq AND {_BASE} ORDER BY score DESC, p.id LIMIT :k)"
        )
        parts.append("SELECT 'trg' AS src, id, score FROM trg")
    return "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL\n".join(parts)


async def text_candidates(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    skus: Sequence[str],
    tsqueries: Sequence[str],
    trigram_text: str,
    k: int,
    enough: int,
    price: PriceRange = NO_RANGE,
    trigram_ungated: bool = False,
) -> TextCandidates:
    """Exact SKU, full-text levels and trigram matches in one round trip (call `search_context`
    first in the same transaction: it sets the trigram threshold)."""
    out = TextCandidates(levels=[[] for _ in tsqueries])
    if not skus and not tsqueries and not trigram_text:
        return out
    sql = text_sql(len(tsqueries), bool(skus), bool(trigram_text), trigram_ungated)
    params: dict[str, Any] = {
        "tid": tenant_id,
        "k": k,
        "enough": enough,
        "pmin": price.low,
        "pmax": price.high,
        "skus": list(skus),
        "tq": trigram_text,
    }
    params.update({f"tsq{i}": q for i, q in enumerate(tsqueries)})
    rows = (await session.execute(text(sql), {k_: v for k_, v in params.items() if f":{k_}" in sql})).all()
    found: dict[str, list[tuple[float, str, uuid.UUID]]] = {}
    for src, pid, score in rows:
        found.setdefault(src, []).append((-float(score), str(pid), pid))
    for src, items in found.items():
        ids = [pid for *_, pid in sorted(items)]
        if src == "sku":
            out.sku = ids
        elif src == "trg":
            out.trigram = ids
        else:
            out.levels[int(src[1:])] = ids
    return out


@dataclass
class SearchContext:
    settings: dict[str, Any]
    credential: bytes | None  # the ciphertext of the tenant's embedding key, if any


async def search_context(
    session: AsyncSession, tenant_id: uuid.UUID, credential_kind: str, trigram_threshold: float = 0.45
) -> SearchContext | None:
    """One round trip before a search: the tenant's settings, the ciphertext of its embedding
    provider key, and for this transaction the trigram threshold and custom plans only. The
    statements are prepared and reused; after a few runs Postgres may switch to a generic plan,
    which cannot see how selective this query's tsquery is and scans the whole table for every
    level. None: no such tenant."""
    row = (
        await session.execute(
            text(
                "SELECT t.id IS NOT NULL, t.settings, "
                "(SELECT c.ciphertext FROM credentials c WHERE c.tenant_id = t.id AND c.kind = :kind "
                "AND c.scope = ''), set_config('pg_trgm.word_similarity_threshold', :th, true), "
                "set_config('plan_cache_mode', 'force_custom_plan', true) "
                "FROM (SELECT 1) AS one LEFT JOIN tenants t ON t.id = :tid"  # always one row: the
                # threshold is set even when the tenant is gone
            ),
            {"tid": tenant_id, "kind": credential_kind, "th": str(trigram_threshold)},
        )
    ).first()
    if row is None or not row[0]:
        return None
    return SearchContext(settings=row[1] or {}, credential=None if row[2] is None else bytes(row[2]))


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
