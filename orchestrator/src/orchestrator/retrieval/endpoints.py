"""`GET /api/v1/products/search` (dashboard) and the internal routes the agent's tools call."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from nexus_common.errors import NotFound
from sqlalchemy import select

from ..auth import Viewer
from ..db import Session
from ..deps import InternalOnly
from ..models import Tenant
from .runtime import get_retrieval
from .service import SearchResult, product_view
from .synonyms import groups_for

public = APIRouter(prefix="/api/v1/products", tags=["products"])
internal = APIRouter(prefix="/internal/products", tags=["internal"], dependencies=[InternalOnly])

Q = Annotated[str, Query(min_length=1, max_length=300, description="What the customer typed")]
Limit = Annotated[int, Query(ge=1, le=50)]


def _render(result: SearchResult) -> dict[str, Any]:
    return {
        "items": [product_view(h.product, h.score, h.sources) for h in result.hits],
        "next_cursor": None,
        "embedding": result.embedding,
        "vector_status": result.vector_status,
        "timings_ms": {k: round(v, 2) for k, v in result.timings_ms.items()},
        "understood": result.understood,
    }


async def _search(
    session: Session, tenant_id: uuid.UUID, q: str, limit: int, include_out_of_stock: bool
) -> dict[str, Any]:
    settings = await session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id))
    if settings is None:
        raise NotFound("tenant not found")
    result = await get_retrieval().search(
        session,
        tenant_id,
        q,
        limit,
        include_out_of_stock,
        synonyms=groups_for(settings),
        tenant_settings=settings,
    )
    return _render(result)


@public.get("/search")
async def search_products(
    session: Session,
    principal: Viewer,
    q: Q,
    limit: Limit = 10,
    include_out_of_stock: bool = False,
) -> dict[str, Any]:
    """Hybrid product search (vectors + full-text + typos + exact SKU), the same the assistant uses.

    Price and stock come from the catalog rows at answer time. Out-of-stock and unpublished
    products are left out unless `include_out_of_stock=true` (unpublished never appear).
    """
    return await _search(session, principal.tenant, q, limit, include_out_of_stock)


@internal.get("/search")
async def internal_search(
    session: Session,
    tenant_id: uuid.UUID,
    q: Q,
    limit: Limit = 5,
    include_out_of_stock: bool = False,
) -> dict[str, Any]:
    """The agent's `search_products` tool."""
    return await _search(session, tenant_id, q, limit, include_out_of_stock)


@internal.get("/{product_id}")
async def internal_get_product(
    session: Session, product_id: uuid.UUID, tenant_id: uuid.UUID
) -> dict[str, Any]:
    """The agent's `get_product` tool: one product of this tenant (404 for another tenant's id)."""
    p = await get_retrieval().get_product(session, tenant_id, product_id)
    if p is None or not p.published:
        raise NotFound("product not found")
    return product_view(p)


routers = [public, internal]
