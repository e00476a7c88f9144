"""Orders for the customer who writes (never someone else's), and the demo store `make dev` loads."""

from __future__ import annotations

import asyncio
import uuid

from orchestrator.integrations.tiendanube.orders import find_customer_orders
from orchestrator.models import ChannelIdentity, Customer, Product
from sqlalchemy import func, select

from fakes.tiendanube import DEMO_STORE_ID, FakeTiendanube, ThreadServer, add_demo_store, connect_demo_tenant

from .conftest import STORE_ID, Orchestrator, install, wait_sync_done


async def test_order_lookup_answers_only_about_the_customers_own_orders(
    orch: Orchestrator, fake: FakeTiendanube
) -> None:
    tenant_id = await install(orch, fake)
    store = fake.stores[STORE_ID]
    tn_customers = list(store.customers.values())
    # Ana writes on WhatsApp (wa_id 549...); the store wrote her phone as "11 xxxx-xxxx" or similar.
    ana_tn, other_tn = tn_customers[2], tn_customers[3]
    digits = "".join(ch for ch in ana_tn["phone"] if ch.isdigit())[-10:]
    async with orch.maker() as s, s.begin():
        ana = Customer(tenant_id=tenant_id, phone_number=f"+549{digits}", name="Ana")
        nobody = Customer(tenant_id=tenant_id, phone_number="+5491100000000", email="x@example.org")
        s.add_all([ana, nobody])
        await s.flush()
        s.add(
            ChannelIdentity(
                tenant_id=tenant_id, customer_id=ana.id, channel="whatsapp", external_id=f"549{digits}"
            )
        )
    own = sorted(str(o["number"]) for o in store.orders.values() if o["customer"]["id"] == ana_tn["id"])
    theirs = next(str(o["number"]) for o in store.orders.values() if o["customer"]["id"] == other_tn["id"])
    assert own

    async with orch.maker() as s:
        mine = await find_customer_orders(s, tenant_id, ana.id)
        one = await find_customer_orders(s, tenant_id, ana.id, order_number=f"#{own[0]}")
        refused = await find_customer_orders(s, tenant_id, ana.id, order_number=theirs)
        stranger = await find_customer_orders(s, tenant_id, nobody.id)
        other_tenant = await find_customer_orders(s, uuid.uuid4(), ana.id)
    assert sorted(o.number for o in mine) == own
    assert [o.number for o in one] == [own[0]]
    o = one[0]
    raw = next(r for r in store.orders.values() if str(r["number"]) == own[0])
    assert o.status == raw["status"] and o.payment_status == raw["payment_status"]
    assert o.tracking_number == raw["shipping_tracking_number"] and str(o.total) == raw["total"]
    assert o.items and o.items[0].name == raw["products"][0]["name"] and o.currency == "ARS"
    assert refused == [] and stranger == [] and other_tenant == []

    # The same over the internal route agent_service calls (internal token required).
    path = f"/internal/customers/{ana.id}/orders"
    r = await orch.client.get(path, params={"tenant_id": str(tenant_id), "number": theirs})
    assert r.status_code == 401
    hdr = {"X-Internal-Token": "test-internal-token-0123456789"}
    r = await orch.client.get(path, params={"tenant_id": str(tenant_id), "number": theirs}, headers=hdr)
    assert r.status_code == 200 and r.json() == {"items": []}
    r = await orch.client.get(path, params={"tenant_id": str(tenant_id)}, headers=hdr)
    assert sorted(x["number"] for x in r.json()["items"]) == own


async def test_demo_store_loads(
    tn_env: dict[str, str], fake: FakeTiendanube, fake_server: ThreadServer
) -> None:
    """What `make dev` does: the demo store installed through the real callback, catalog mirrored."""
    from orchestrator.app import create_app

    add_demo_store(fake)
    app = create_app()
    with ThreadServer(app) as orchestrator:
        tenant = await asyncio.to_thread(connect_demo_tenant, orchestrator.url, fake_server.url)
        tenant_id = uuid.UUID(tenant)
        from orchestrator.db import create_engine
        from sqlalchemy.ext.asyncio import async_sessionmaker

        engine = create_engine(tn_env["POSTGRES_DSN"], pool_size=2)
        try:
            maker = async_sessionmaker(engine, expire_on_commit=False)
            sync = await wait_sync_done(maker, tenant_id, within=60)
            async with maker() as s:
                n = await s.scalar(
                    select(func.count()).select_from(Product).where(Product.tenant_id == tenant_id)
                )
                cats = (
                    await s.scalars(
                        select(func.unnest(Product.categories))
                        .where(Product.tenant_id == tenant_id)
                        .distinct()
                    )
                ).all()
                hits = await s.scalar(
                    select(func.count())
                    .select_from(Product)
                    .where(
                        Product.tenant_id == tenant_id,
                        Product.search_vector.op("@@")(func.plainto_tsquery("spanish", "zapatillas")),
                    )
                )
                unpublished = await s.scalar(
                    select(func.count())
                    .select_from(Product)
                    .where(Product.tenant_id == tenant_id, ~Product.published)
                )
        finally:
            await engine.dispose()
    demo = fake.stores[DEMO_STORE_ID]
    assert n == len(demo.products) == sync.done == 320
    assert {
        "Remeras",
        "Zapatillas",
        "Camperas",
        "Buzos",
        "Pantalones",
        "Accesorios",
        "Hogar",
        "Pileta",
    } <= set(cats)
    assert hits >= 30 and unpublished == sum(1 for p in demo.products.values() if not p["published"]) > 0
    assert len(demo.orders) == 80 and len(demo.customers) == 40
