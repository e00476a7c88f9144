"""App install, the catalog mirror and full syncs against the fake Tienda Nube."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import httpx
import pytest
from orchestrator.catalog import hooks
from orchestrator.config import Settings
from orchestrator.integrations.tiendanube import catalog
from orchestrator.integrations.tiendanube.client import (
    WEBHOOK_EVENTS,
    ServiceClient,
    TiendanubeError,
    service_client,
)
from orchestrator.models import AuditLog, CatalogSync, Credential, Product, Tenant
from sqlalchemy import func, select, text

from fakes.tiendanube import FakeTiendanube, ThreadServer, add_store

from .conftest import STORE_ID, Orchestrator, install, wait_for, wait_sync_done


async def test_install_creates_tenant_stores_token_encrypted_registers_webhooks_and_syncs(
    orch: Orchestrator, fake: FakeTiendanube
) -> None:
    tenant_id = await install(orch, fake)
    sync = await wait_sync_done(orch.maker, tenant_id)
    async with orch.maker() as s:
        tenant = await s.get(Tenant, tenant_id)
        assert tenant is not None and tenant.tiendanube_store_id == STORE_ID and tenant.status == "active"
        assert tenant.name == "Tienda Test"
        assert tenant.settings["tiendanube"]["currency"] == "ARS"
        cred = (await s.scalars(select(Credential).where(Credential.tenant_id == tenant_id))).one()
        n = await s.scalar(select(func.count()).select_from(Product).where(Product.tenant_id == tenant_id))
        p = (await s.scalars(select(Product).where(Product.tenant_id == tenant_id).limit(1))).one()
    token = next(t for t, sid in fake.tokens.items() if sid == STORE_ID)
    assert cred.kind == "tiendanube_access_token"
    assert token.encode() not in cred.ciphertext  # only ciphertext at rest
    assert Settings().crypto.decrypt(cred.ciphertext) == token
    hooks_registered = {(w["event"], w["url"]) for w in fake.stores[STORE_ID].webhooks.values()}
    assert hooks_registered == {(e, "http://testserver/webhooks/tiendanube") for e in WEBHOOK_EVENTS}
    assert n == 30 and sync.done == 30 and sync.total == 30
    # The mirror holds what the agent needs, HTML stripped.
    raw = fake.stores[STORE_ID].products[p.external_id]
    assert "<" not in p.description["es"] and p.name["es"] == raw["name"]["es"]
    assert p.skus == [v["sku"] for v in raw["variants"]]
    assert p.categories == [raw["categories"][0]["name"]["es"]]
    assert p.variants[0]["values"] == [x["es"] for x in raw["variants"][0]["values"]]
    assert str(p.price) == raw["variants"][0]["price"] and p.currency == "ARS"
    assert p.image_url == raw["images"][0]["src"] and p.url == raw["canonical_url"]

    # Installing again (reinstall) updates the same tenant; webhooks are not duplicated.
    again = await install(orch, fake)
    assert again == tenant_id
    assert len(fake.stores[STORE_ID].webhooks) == len(WEBHOOK_EVENTS)


async def test_install_with_a_bad_code_shows_a_page_and_creates_nothing(orch: Orchestrator) -> None:
    r = await orch.client.get("/oauth/tiendanube/callback", params={"code": "not-a-real-code"})
    assert r.status_code == 400
    assert "text/html" in r.headers["content-type"] and "No pudimos conectar tu tienda" in r.text
    r = await orch.client.get("/oauth/tiendanube/callback")
    assert r.status_code == 400
    async with orch.maker() as s:
        assert await s.scalar(select(func.count()).select_from(Tenant)) == 0
        assert await s.scalar(select(func.count()).select_from(Credential)) == 0


async def test_full_sync_of_2000_products_is_paced_and_exact(
    orch: Orchestrator, fake: FakeTiendanube, fake_server: ThreadServer
) -> None:
    store_id = 777001
    add_store(fake, store_id=store_id, name="Tienda Grande", products=2000, seed=3)
    fake.set_rate_limit(enabled=True, capacity=4, leak_per_s=10.0)
    token = fake.token_for(store_id)
    fake.fail_next("/products", 503, times=2)  # Tienda Nube hiccups twice
    fake.fail_next("/products", 429, times=2)  # and throttles us twice, whatever the timing below
    fake.reset_stats()

    async def other_replica() -> None:
        # Another client of the same app shares the store's bucket, so our estimate is wrong
        # and some of our calls get 429s: each must be absorbed, none may surface.
        async with httpx.AsyncClient(base_url=fake_server.url) as direct:
            while True:
                await direct.get(
                    f"/v1/{store_id}/store",
                    headers={"Authentication": f"bearer {token}", "User-Agent": "other"},
                )
                await asyncio.sleep(0.15)

    hammer = asyncio.create_task(other_replica())
    async with orch.maker() as s, s.begin():
        t = Tenant(name="Manual")
        s.add(t)
        await s.flush()
        tenant_id = t.id
    r = await orch.client.put(
        f"/api/v1/tenants/{tenant_id}/tiendanube",
        json={"store_id": store_id, "access_token": token},
        headers={"Authorization": "Bearer test-admin-token-0123456789"},
    )
    assert r.status_code == 200, r.text
    try:
        sync = await wait_sync_done(orch.maker, tenant_id, within=90)
    finally:
        hammer.cancel()
    async with orch.maker() as s:
        n = await s.scalar(select(func.count()).select_from(Product).where(Product.tenant_id == tenant_id))
        distinct = await s.scalar(
            select(func.count(func.distinct(Product.external_id))).where(Product.tenant_id == tenant_id)
        )
    assert n == distinct == 2000 and sync.done == 2000 and sync.total == 2000
    assert fake.failures == []  # the scripted 503s and 429s were all served, and absorbed
    pages = [q for m, q in fake.request_log if q.startswith("/products?")]
    assert len({q for q in pages}) == 10


async def test_a_sync_killed_half_way_resumes_without_duplicates(
    tn_env: dict[str, str], migrated_engine: object, fake: FakeTiendanube
) -> None:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    store_id = 888001
    add_store(fake, store_id=store_id, name="Tienda Media", products=1000, seed=5)
    fake.set_rate_limit(enabled=True, capacity=2, leak_per_s=5.0)  # a page every ~0.2 s
    token = fake.token_for(store_id)
    settings = Settings()
    maker = async_sessionmaker(migrated_engine, expire_on_commit=False)  # type: ignore[arg-type]
    seen: list[uuid.UUID] = []

    async def listener(tenant_id: uuid.UUID, changed: list[uuid.UUID], deleted: list[uuid.UUID]) -> None:
        seen.extend(changed)

    hooks.register(listener)
    try:
        async with maker() as s, s.begin():
            t = Tenant(name="M", tiendanube_store_id=store_id, settings={"tiendanube": {"currency": "ARS"}})
            s.add(t)
            await s.flush()
            from orchestrator.credentials import service as credentials

            await credentials.put(s, settings.crypto, t.id, catalog.TOKEN_KIND, token)
            s.add(CatalogSync(tenant_id=t.id, trigger="manual", state="pending"))
            tenant_id = t.id
        sync_id = (await _sync(maker, tenant_id)).id
        fake.reset_stats()
        run = asyncio.create_task(catalog.run_catalog_sync(maker, settings, sync_id))

        async def two_pages() -> bool:
            return (await _sync(maker, tenant_id)).pages_done >= 2

        await wait_for(two_pages, 30)
        run.cancel()  # the worker dies mid-sync
        with contextlib.suppress(asyncio.CancelledError):
            await run
        killed = await _sync(maker, tenant_id)
        assert killed.state == "running" and killed.done == killed.pages_done * 200 < 1000
        async with maker() as s:
            stalled = await catalog.stalled_syncs(s, 0)
        assert (sync_id, tenant_id) in stalled  # the sweeper would pick it up
        log_before = len(fake.request_log)
        assert await catalog.run_catalog_sync(maker, settings, sync_id) == "done"
        resumed_pages = [q for _, q in fake.request_log[log_before:] if q.startswith("/products?")]
        assert all(f"page={p}&" not in q for q in resumed_pages for p in range(1, killed.next_page))
        final = await _sync(maker, tenant_id)
        async with maker() as s:
            n = await s.scalar(
                select(func.count()).select_from(Product).where(Product.tenant_id == tenant_id)
            )
            events = await s.scalar(text("SELECT count(*) FROM events WHERE type = 'catalog.sync'"))
    finally:
        hooks.unregister(listener)
    assert n == 1000 and final.done == 1000 and final.state == "done" and final.deleted == 0
    assert len(seen) == len(set(seen)) == 1000  # every product reported once, none twice
    assert events >= final.pages_done


async def _sync(maker: object, tenant_id: uuid.UUID) -> CatalogSync:
    async with maker() as s:  # type: ignore[operator]
        return (await s.scalars(select(CatalogSync).where(CatalogSync.tenant_id == tenant_id))).one()


async def test_sync_deletes_products_that_disappeared(orch: Orchestrator, fake: FakeTiendanube) -> None:
    tenant_id = await install(orch, fake)
    await wait_sync_done(orch.maker, tenant_id)
    gone = sorted(fake.stores[STORE_ID].products)[:3]
    for pid in gone:
        fake.delete_product(STORE_ID, pid)
    async with orch.maker() as s, s.begin():
        await catalog.start_catalog_sync(s, tenant_id)
    sync = await wait_sync_done(orch.maker, tenant_id)
    async with orch.maker() as s:
        ids = set((await s.scalars(select(Product.external_id).where(Product.tenant_id == tenant_id))).all())
        audit = await s.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "tiendanube.connected")
        )
    assert sync.deleted == 3 and not (ids & set(gone)) and len(ids) == 27 and audit == 1


async def test_a_platform_disable_survives_reinstalls_a_store_uninstall_does_not(
    orch: Orchestrator, fake: FakeTiendanube
) -> None:
    admin = {"Authorization": "Bearer test-admin-token-0123456789"}

    async def status() -> str:
        async with orch.maker() as s:
            tenant = await s.get(Tenant, tenant_id)
            assert tenant is not None
            return tenant.status

    tenant_id = await install(orch, fake)
    await wait_sync_done(orch.maker, tenant_id)
    # The store uninstalls and reinstalls: it is served again.
    assert await fake.deliver(STORE_ID, "app/uninstalled", STORE_ID, client=orch.client) == [200]
    await wait_for(lambda: _is(status, "disabled"), 10)
    assert await install(orch, fake) == tenant_id
    await wait_sync_done(orch.maker, tenant_id)  # each install starts a sync: let it finish
    assert await status() == "active"

    # The platform disables it: reinstalling (twice) does not bring it back.
    r = await orch.client.patch(f"/api/v1/tenants/{tenant_id}", json={"status": "disabled"}, headers=admin)
    assert r.status_code == 200, r.text
    for _ in range(2):
        assert await install(orch, fake) == tenant_id
        assert await status() == "disabled"
        # A disabled store's sync does not run ("no connected store"); let it settle.
        await wait_for(lambda: _sync_settled(orch, tenant_id), 30)
    # Only the platform re-enables it.
    r = await orch.client.patch(f"/api/v1/tenants/{tenant_id}", json={"status": "active"}, headers=admin)
    assert r.status_code == 200 and await status() == "active"


async def _sync_settled(orch: Orchestrator, tenant_id: uuid.UUID) -> bool:
    from .conftest import sync_state

    sync = await sync_state(orch.maker, tenant_id)
    return sync is not None and sync.state in ("done", "failed")


async def _is(get: object, value: str) -> bool:
    return await get() == value  # type: ignore[operator]


class _WatchedClient(ServiceClient):
    """The real client to tiendanube_service, recording which pages are requested; page 2's
    answer is held until page 3 has been requested (a fetcher with one request in flight never
    gets there), and `fail_page` answers once with a retryable error."""

    def __init__(self, http: httpx.AsyncClient, fail_page: int | None = None) -> None:
        super().__init__(http)
        self.requested: list[int] = []
        self.bodies: dict[int, list[int]] = {}
        self.third = asyncio.Event()
        self.fail_page = fail_page

    async def products_page(
        self, store_id: int, token: str, page: int, per_page: int = 200
    ) -> dict[str, Any]:
        self.requested.append(page)
        if page == 3:
            self.third.set()
        if page == 2:
            await asyncio.wait_for(self.third.wait(), 30)  # liveness bound, not a timing assertion
        if page == self.fail_page:
            self.fail_page = None
            raise TiendanubeError("Tienda Nube unavailable", code="upstream_unavailable", status_code=503)
        body = await super().products_page(store_id, token, page, per_page)
        self.bodies[page] = [item["id"] for item in body["items"]]
        return body


async def _manual_tenant(orch: Orchestrator, fake: FakeTiendanube, store_id: int) -> tuple[uuid.UUID, str]:
    from orchestrator.credentials import service as credentials

    token = fake.token_for(store_id)
    async with orch.maker() as s, s.begin():
        t = Tenant(name="P", tiendanube_store_id=store_id, settings={"tiendanube": {"currency": "ARS"}})
        s.add(t)
        await s.flush()
        await credentials.put(s, orch.app.state.settings.crypto, t.id, catalog.TOKEN_KIND, token)
    return t.id, token


async def _new_sync(orch: Orchestrator, tenant_id: uuid.UUID) -> uuid.UUID:
    async with orch.maker() as s, s.begin():
        sync = CatalogSync(tenant_id=tenant_id, trigger="manual", state="pending")
        s.add(sync)
    return sync.id


async def test_a_full_sync_has_pages_in_flight_writes_them_in_order_and_stops_at_the_last(
    orch: Orchestrator, fake: FakeTiendanube
) -> None:
    store_id = 666001
    add_store(fake, store_id=store_id, name="Tienda Ocho", products=1450, seed=7)  # 8 pages, last partial
    tenant_id, _ = await _manual_tenant(orch, fake, store_id)
    written: list[list[uuid.UUID]] = []

    async def listener(tid: uuid.UUID, changed: list[uuid.UUID], deleted: list[uuid.UUID]) -> None:
        if tid == tenant_id and changed:
            written.append(changed)

    hooks.register(listener)
    try:
        async with service_client(orch.app.state.settings) as c:
            watched = _WatchedClient(c.http)
            state = await catalog.run_catalog_sync(
                orch.maker, orch.app.state.settings, await _new_sync(orch, tenant_id), client=watched
            )
    finally:
        hooks.unregister(listener)
    assert state == "done"
    # Page 3 was requested before page 2 answered; every page once, none past the last one.
    assert sorted(watched.requested) == list(range(1, 9))
    async with orch.maker() as s:
        rows = (
            await s.execute(
                select(Product.id, Product.external_id, Product.synced_at).where(
                    Product.tenant_id == tenant_id
                )
            )
        ).all()
    assert sorted(r.external_id for r in rows) == sorted(fake.stores[store_id].products)
    # Written in page order, whatever order the answers arrived in (a row's synced_at is its
    # write transaction's start).
    synced = {r.external_id: r.synced_at for r in rows}
    spans = [
        (min(synced[i] for i in ids), max(synced[i] for i in ids))
        for _, ids in sorted(watched.bodies.items())
    ]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    # The hook heard about the sync once, after the last page, with every new product.
    assert len(written) == 1 and sorted(written[0]) == sorted(r.id for r in rows)


async def test_a_page_failing_mid_sync_keeps_the_cursor_before_it_and_the_resume_deletes_what_went(
    orch: Orchestrator, fake: FakeTiendanube
) -> None:
    store_id = 666002
    add_store(fake, store_id=store_id, name="Tienda Cortada", products=1450, seed=8)
    tenant_id, _ = await _manual_tenant(orch, fake, store_id)
    settings = orch.app.state.settings
    assert await catalog.run_catalog_sync(orch.maker, settings, await _new_sync(orch, tenant_id)) == "done"
    gone = sorted(fake.stores[store_id].products)[::300]  # spread over the pages
    for pid in gone:
        fake.delete_product(store_id, pid)

    sync_id = await _new_sync(orch, tenant_id)
    async with service_client(settings) as c:
        watched = _WatchedClient(c.http, fail_page=4)
        with pytest.raises(TiendanubeError):
            await catalog.run_catalog_sync(orch.maker, settings, sync_id, client=watched)
    assert max(watched.requested) > 4  # later pages were in flight when page 4 failed
    async with orch.maker() as s:
        cut = await s.get(CatalogSync, sync_id)
        assert cut is not None
        # Nothing after the failed page is recorded as done: the resume starts at page 4.
        assert cut.state == "running" and cut.next_page == 4 and cut.done == 600 and cut.deleted == 0
        n = await s.scalar(select(func.count()).select_from(Product).where(Product.tenant_id == tenant_id))
    assert n == 1450  # nothing deleted by a sync that did not finish

    assert await catalog.run_catalog_sync(orch.maker, settings, sync_id) == "done"
    async with orch.maker() as s:
        final = await s.get(CatalogSync, sync_id)
        ids = set((await s.scalars(select(Product.external_id).where(Product.tenant_id == tenant_id))).all())
    assert final is not None and final.deleted == len(gone)
    assert ids == set(fake.stores[store_id].products) and not ids & set(gone)


def test_strip_html_plain_text_shortcut_matches_the_parser() -> None:
    from orchestrator.integrations.tiendanube import mapping

    samples = [
        "Remera  básica\u00a0 azul",
        "  a \n\n b  ",
        "x<y",
        "Tom & Jerry",
        "&amp; más",
        "<b>Negrita</b>",
    ]
    for value in samples:
        parser = mapping._Text()
        parser.feed(value)
        parser.close()
        slow = mapping._NEWLINES.sub(
            "\n", mapping._SPACES.sub(" ", mapping.html.unescape("".join(parser.parts)))
        ).strip()
        assert mapping.strip_html(value) == slow


@pytest.mark.parametrize("order", ["id", "newest"])
async def test_a_store_changing_during_the_sync_loses_no_product_that_still_exists(
    orch: Orchestrator, fake: FakeTiendanube, order: str
) -> None:
    """Offset paging shifts when the store deletes products mid-sync: the first product of page 3
    moves to page 2 after page 2 was answered, so the listing never returns it. Not being listed
    must not delete it (it still exists, and was even edited meanwhile); products really deleted
    go now (not listed: the platform says 404) or at the next sync (listed before they went), and
    a product created mid-sync that the shift hid is there after the next sync."""
    fake.products_order = order  # the platform's default order is not documented
    store_id = 666003
    store = add_store(fake, store_id=store_id, name="Tienda Movida", products=1000, seed=9)  # 5 pages
    tenant_id, _ = await _manual_tenant(orch, fake, store_id)
    settings = orch.app.state.settings

    async def mirrored() -> dict[int, str]:
        async with orch.maker() as s:
            rows = await s.execute(
                select(Product.external_id, Product.name_text).where(Product.tenant_id == tenant_id)
            )
            return {r.external_id: r.name_text for r in rows}

    assert await catalog.run_catalog_sync(orch.maker, settings, await _new_sync(orch, tenant_id)) == "done"
    assert set(await mirrored()) == set(store.products)

    listed = [p["id"] for p in fake.listed_products(store, 1)]
    shifted, gone_seen, gone_unseen = listed[400], listed[:2], listed[900]
    created: list[int] = []

    def change(st: Any) -> None:
        for pid in (*gone_seen, gone_unseen):
            fake.delete_product(store_id, pid)
        fake.update_product(store_id, shifted, name={"es": "Remera editada durante la sync"})
        created.append(fake.new_product(st, "Producto nuevo durante la sync")["id"])

    fake.change_during_listing(store_id, after_page=2, change=change)
    sync_id = await _new_sync(orch, tenant_id)
    assert await catalog.run_catalog_sync(orch.maker, settings, sync_id) == "done"
    assert store_id not in fake.listing_changes  # the scripted change ran
    after = await mirrored()
    # Every product the store still has is mirrored, the one the shift hid with its new name
    # (a product created mid-sync may wait for the next sync or its webhook).
    assert set(store.products) - set(after) <= set(created)
    assert after[shifted] == "Remera editada durante la sync"
    assert gone_unseen not in after
    async with orch.maker() as s:
        sync = await s.get(CatalogSync, sync_id)
        assert sync is not None and sync.deleted == 1

    # The next sync (no change meanwhile) converges on the store exactly.
    assert await catalog.run_catalog_sync(orch.maker, settings, await _new_sync(orch, tenant_id)) == "done"
    assert set(await mirrored()) == set(store.products)


class _FailingCheck(ServiceClient):
    """The real client; the check of `fail_id` answers once with a retryable error."""

    def __init__(self, http: httpx.AsyncClient, fail_id: int) -> None:
        super().__init__(http)
        self.fail_id: int | None = fail_id
        self.checked: list[int] = []

    async def product(self, store_id: int, token: str, product_id: int) -> dict[str, Any]:
        self.checked.append(product_id)
        if product_id == self.fail_id:
            self.fail_id = None
            raise TiendanubeError("Tienda Nube unavailable", code="upstream_unavailable", status_code=503)
        return await super().product(store_id, token, product_id)


async def test_a_check_of_unlisted_products_failing_keeps_what_it_learnt_and_the_resume_finishes(
    orch: Orchestrator, fake: FakeTiendanube
) -> None:
    store_id = 666004
    store = add_store(fake, store_id=store_id, name="Tienda Cortada Dos", products=450, seed=10)  # 3 pages
    tenant_id, _ = await _manual_tenant(orch, fake, store_id)
    settings = orch.app.state.settings
    assert await catalog.run_catalog_sync(orch.maker, settings, await _new_sync(orch, tenant_id)) == "done"
    listed = [p["id"] for p in fake.listed_products(store, 1)]
    hidden, gone = listed[200], [listed[0], listed[300]]  # page 2's first moves to page 1

    def change(_st: Any) -> None:
        fake.delete_product(store_id, gone[0])  # page 1 was listed before: seen, goes next sync
        fake.delete_product(store_id, gone[1])  # not listed yet: checked and deleted now

    fake.change_during_listing(store_id, after_page=1, change=change)
    sync_id = await _new_sync(orch, tenant_id)
    async with service_client(settings) as c:
        failing = _FailingCheck(c.http, fail_id=gone[1])
        with pytest.raises(TiendanubeError):
            await catalog.run_catalog_sync(orch.maker, settings, sync_id, client=failing)
    assert sorted(failing.checked) == sorted([hidden, gone[1]])
    async with orch.maker() as s:
        cut = await s.get(CatalogSync, sync_id)
        assert cut is not None and cut.state == "running" and cut.deleted == 0
        seen = await s.scalar(
            select(Product.synced_at).where(Product.tenant_id == tenant_id, Product.external_id == hidden)
        )
        n = await s.scalar(select(func.count()).select_from(Product).where(Product.tenant_id == tenant_id))
    assert seen is not None and cut.started_at is not None and seen >= cut.started_at  # refreshed, kept
    assert n == 450  # nothing deleted by a sync that did not finish

    async with service_client(settings) as c:
        resumed = _FailingCheck(c.http, fail_id=0)
        assert await catalog.run_catalog_sync(orch.maker, settings, sync_id, client=resumed) == "done"
    assert resumed.checked == [gone[1]]  # only what was not settled
    async with orch.maker() as s:
        final = await s.get(CatalogSync, sync_id)
        ids = set((await s.scalars(select(Product.external_id).where(Product.tenant_id == tenant_id))).all())
    assert final is not None and final.deleted == 1
    assert ids == set(store.products) | {gone[0]}


async def test_many_stores_start_their_first_sync_through_one_database_connection(
    migrated_engine: object,
) -> None:
    """After five runs of a prepared statement Postgres may plan it generically; with the live
    sync's index condition sent as bound values (`state IN ($1, $2)`) it then no longer matched
    the partial unique index, and the sixth store connected through a connection got a 500."""
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

    assert isinstance(migrated_engine, AsyncEngine)
    maker = async_sessionmaker(migrated_engine, expire_on_commit=False)
    async with migrated_engine.connect() as conn:  # one connection, as a busy pool reuses it
        for n in range(8):
            async with maker(bind=conn) as s, s.begin():
                t = Tenant(name=f"Tienda {n}")
                s.add(t)
                await s.flush()
                first = await catalog.start_catalog_sync(s, t.id, "manual")
                assert await catalog.start_catalog_sync(s, t.id, "manual") == first  # the live one
