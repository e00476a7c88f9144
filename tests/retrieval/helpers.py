"""Helpers shared by the retrieval and agent tests: catalog rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def add_tenant(
    maker: async_sessionmaker[AsyncSession], name: str = "Tienda", **settings: Any
) -> uuid.UUID:
    from orchestrator.models import Tenant

    async with maker() as s, s.begin():
        t = Tenant(name=name, settings=settings)
        s.add(t)
        await s.flush()
        return t.id


async def add_product(
    maker: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    name: str,
    price: str,
    *,
    stock: int | None = 10,
    skus: Sequence[str] = (),
    categories: Sequence[str] = (),
    description: str = "",
    published: bool = True,
    variants: list[dict[str, Any]] | None = None,
    external_id: int | None = None,
    product_id: uuid.UUID | None = None,
) -> uuid.UUID:
    from orchestrator.models import Product

    async with maker() as s, s.begin():
        p = Product(
            tenant_id=tenant_id,
            external_id=external_id or uuid.uuid4().int % 10**12,
            name={"es": name},
            description={"es": description},
            name_text=name,
            search_text=" ".join([*categories, description, *skus]),
            categories=list(categories),
            skus=list(skus),
            variants=variants or [],
            price=Decimal(price),
            currency="ARS",
            stock=stock,
            url=f"https://tienda.example/productos/{uuid.uuid4().hex[:8]}",
            published=published,
        )
        if product_id is not None:
            p.id = product_id
        s.add(p)
        await s.flush()
        return p.id
