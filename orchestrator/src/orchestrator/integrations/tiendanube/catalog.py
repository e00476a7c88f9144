"""The catalog mirror: full syncs ("productsall", paged and resumable) and one-product refreshes.

Pages of products and the sync's cursor are committed in one transaction; the change hook runs
once at the end of a full sync (after the commit, so listeners read committed rows), and after
each one-product refresh. Products are written with an
`updated_at` guard: an older copy (a sync page fetched before a webhook's fresher GET) never
overwrites a newer one, but still counts as seen by the sync.

The listing is paged by offset (`page=N`), the only paging the platform documents for an
unfiltered listing. A product deleted while the sync pages shifts every later product one place
back, so the product at a page boundary can be missed; one created mid-sync can shift the other
way. Not being listed is therefore no proof of deletion: the products the listing did not return
are asked for one by one (GET /products/{id}), deleted on 404 and refreshed otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from nexus_common.crypto import Crypto
from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ... import runtime
from ...catalog import hooks
from ...config import Settings
from ...credentials import service as credentials
from ...events.publisher import announce, publish
from ...jobs import defer, names
from ...models import CatalogSync, Product, Tenant
from .client import ServiceClient, TiendanubeError, TiendanubeNotFound, service_client
from .mapping import map_product

log = structlog.get_logger("orchestrator.tiendanube.catalog")

TOKEN_KIND = "tiendanube_access_token"  # noqa: S105 - a credential kind, not a secret
PER_PAGE = 200
# Page requests in flight, and pages fetched ahead of the writer (the rate limit's burst is 40
# requests): a full sync is bound by the rate limit, not by round trips or Postgres. One write
# transaction takes what has arrived, in page order, at
# most WRITE_PAGES pages (mapping a page is CPU work on the event loop: keep each stretch short).
PREFETCH_PAGES = 40
WRITE_PAGES = 8
CONTENT_COLUMNS = (
    "handle",
    "name",
    "description",
    "name_text",
    "search_text",
    "categories",
    "skus",
    "variants",
    "price",
    "promotional_price",
    "currency",
    "stock",
    "image_url",
    "url",
    "published",
    "source_updated_at",
)


_COLUMN_TYPES = {
    "external_id": "bigint",
    "handle": "text",
    "name": "jsonb",
    "description": "jsonb",
    "name_text": "text",
    "search_text": "text",
    "categories": "text[]",
    "skus": "text[]",
    "variants": "jsonb",
    "price": "numeric",
    "promotional_price": "numeric",
    "currency": "text",
    "stock": "integer",
    "image_url": "text",
    "url": "text",
    "published": "boolean",
    "source_updated_at": "timestamptz",
}
# An older copy (e.g. a sync page fetched before a webhook's fresher GET) never overwrites a
# newer one, but still counts as seen (synced_at) by the sync.
_FRESH = (
    "(products.source_updated_at IS NULL OR EXCLUDED.source_updated_at IS NULL "
    "OR products.source_updated_at <= EXCLUDED.source_updated_at)"
)
_UPSERT_SQL = text(
    "INSERT INTO products (tenant_id, {cols}, synced_at) "  # noqa: S608 - constant identifiers only
    "SELECT CAST(:tenant_id AS uuid), {rcols}, now() "
    "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({defs}) "
    "ON CONFLICT ON CONSTRAINT uq_products_tenant_id_external_id DO UPDATE SET {sets}, "
    "synced_at = EXCLUDED.synced_at, updated_at = now() "
    "RETURNING id, external_id".format(
        cols=", ".join(_COLUMN_TYPES),
        rcols=", ".join(f"r.{c}" for c in _COLUMN_TYPES),
        defs=", ".join(f"{c} {t}" for c, t in _COLUMN_TYPES.items()),
        sets=", ".join(
            f"{c} = CASE WHEN {_FRESH} THEN EXCLUDED.{c} ELSE products.{c} END" for c in CONTENT_COLUMNS
        ),
    )
)


class SyncNotVisible(Exception):
    """The sync row is not committed yet (the job ran before its creator committed): retry."""


@dataclass
class StoreAccess:
    tenant_id: uuid.UUID
    store_id: int
    token: str
    main_language: str | None
    store_url: str | None
    currency: str | None


async def store_access(session: AsyncSession, crypto: Crypto, tenant_id: uuid.UUID) -> StoreAccess | None:
    """The tenant's store id and decrypted token, or None when it has no connected store."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None or tenant.status != "active" or tenant.tiendanube_store_id is None:
        return None
    token = await credentials.get(session, crypto, tenant_id, TOKEN_KIND)
    if not token:
        return None
    info = (tenant.settings or {}).get("tiendanube") or {}
    return StoreAccess(
        tenant_id=tenant_id,
        store_id=tenant.tiendanube_store_id,
        token=token,
        main_language=info.get("main_language"),
        store_url=info.get("url"),
        currency=info.get("currency"),
    )


# ----- writing products -----
def map_rows(access: StoreAccess, raws: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Column values per external id (a product repeated across pages counts once)."""
    rows: dict[int, dict[str, Any]] = {}
    for raw in raws:
        try:
            values = map_product(raw, main_language=access.main_language, store_url=access.store_url)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("catalog.product_skipped", tenant_id=str(access.tenant_id), error=type(exc).__name__)
            continue
        values["currency"] = access.currency
        rows[values["external_id"]] = values
    return rows


async def upsert_products(
    session: AsyncSession, access: StoreAccess, raws: list[dict[str, Any]]
) -> list[uuid.UUID]:
    """Upsert a batch; returns the ids of rows that are new or whose content changed."""
    return await upsert_rows(session, access, map_rows(access, raws))


async def upsert_rows(
    session: AsyncSession, access: StoreAccess, rows: dict[int, dict[str, Any]]
) -> list[uuid.UUID]:
    """Upsert mapped rows (`map_rows`); returns the ids of rows that are new or changed."""
    if not rows:
        return []
    before = dict(
        (
            await session.execute(
                select(Product.external_id, Product.source_updated_at).where(
                    Product.tenant_id == access.tenant_id, Product.external_id.in_(list(rows))
                )
            )
        ).all()
    )
    # One parameter (the page as JSON) expanded by Postgres: no per-row binds to compile.
    payload = json.dumps(list(rows.values()), default=str)
    result = (await session.execute(_UPSERT_SQL, {"tenant_id": access.tenant_id, "rows": payload})).all()
    changed = []
    for pid, ext in result:
        if ext not in before or (
            rows[ext]["source_updated_at"] is None
            or before[ext] is None
            or rows[ext]["source_updated_at"] > before[ext]
        ):
            changed.append(pid)
    return changed


async def delete_products(
    session: AsyncSession, tenant_id: uuid.UUID, external_ids: list[int]
) -> list[uuid.UUID]:
    if not external_ids:
        return []
    res = await session.execute(
        delete(Product)
        .where(Product.tenant_id == tenant_id, Product.external_id.in_(external_ids))
        .returning(Product.id)
    )
    return [r[0] for r in res.all()]


async def refresh_product(
    maker: async_sessionmaker[AsyncSession], settings: Settings, tenant_id: uuid.UUID, external_id: int
) -> str:
    """Re-GET one product (webhooks are thin and may arrive twice or out of order) and mirror it.

    Returns "updated", "deleted" or "skipped" (no store connected)."""
    async with maker() as session:
        access = await store_access(session, settings.crypto, tenant_id)
    if access is None:
        return "skipped"
    async with service_client(settings) as client:
        try:
            raw: dict[str, Any] | None = await client.product(access.store_id, access.token, external_id)
        except TiendanubeNotFound:
            raw = None
    async with maker() as session, session.begin():
        if raw is None:
            deleted = await delete_products(session, tenant_id, [external_id])
            changed: list[uuid.UUID] = []
        else:
            changed = await upsert_products(session, access, [raw])
            deleted = []
    await hooks.products_changed(tenant_id, changed, deleted)
    return "deleted" if raw is None else "updated"


# ----- full syncs -----
async def start_catalog_sync(
    session: AsyncSession, tenant_id: uuid.UUID, trigger: str = "admin"
) -> uuid.UUID:
    """Create (or reuse the live) full sync for a tenant and queue it. Returns the sync id.

    Runs in the caller's transaction, and so does the job's deferral: the sync row and its job
    commit together, or neither does.
    """
    stmt = (
        insert(CatalogSync)
        .values(tenant_id=tenant_id, trigger=trigger, state="pending")
        .on_conflict_do_nothing(
            # Literal SQL, not bound values: after five runs of a prepared statement Postgres may
            # switch to a generic plan, which cannot match `state IN ($1, $2)` to the partial
            # unique index, and the sixth store connected through one connection failed (500).
            index_elements=["tenant_id"],
            index_where=text("state IN ('pending', 'running')"),
        )
        .returning(CatalogSync.id)
    )
    sync_id = (await session.execute(stmt)).scalar_one_or_none()
    if sync_id is None:
        live = await session.scalar(
            select(CatalogSync.id).where(
                CatalogSync.tenant_id == tenant_id, CatalogSync.state.in_(("pending", "running"))
            )
        )
        assert live is not None
        return live
    await defer_sync(session, sync_id)
    return sync_id


async def defer_sync(session: AsyncSession, sync_id: uuid.UUID) -> None:
    """Queue (again) the job that runs this sync, in the caller's transaction."""
    await defer(session, names.TN_PRODUCTSALL, {"sync_id": str(sync_id)})


async def _progress(session: AsyncSession, sync: CatalogSync, state: str, **values: Any) -> None:
    await session.execute(update(CatalogSync).where(CatalogSync.id == sync.id).values(state=state, **values))
    data = {
        "sync_id": str(sync.id),
        "state": state,
        "done": values.get("done", sync.done),
        "total": values.get("total", sync.total),
    }
    await publish(session, sync.tenant_id, "catalog.sync", data)


async def fetch_pages(
    client: ServiceClient, store_id: int, token: str, first: int = 1, *, window: int = PREFETCH_PAGES
) -> AsyncGenerator[tuple[int, dict[str, Any]], None]:
    """Yield `(page, body)` from `first` to the last page, in page order, with up to `window`
    requests in flight.

    One request at a time leaves the rate limit's burst unused: every page would cost a round
    trip through tiendanube_service and the platform, and 40 of them cost more than the bucket
    leaks in the whole sync. Pages past the first are requested concurrently, but only up to the
    last page the store reports (`total` / per page, or a `next_page` link), so no request is
    spent past the end; tiendanube_service paces them through the store's bucket. The end is the
    first page (in order) with no `next_page` or no items; requests still in flight are dropped.
    """
    tasks: dict[int, asyncio.Task[dict[str, Any]]] = {}
    scheduled = first - 1  # highest page requested so far
    last_known = first  # highest page known to exist
    p = first
    try:
        while True:
            while scheduled < min(last_known, p + window - 1):
                scheduled += 1
                tasks[scheduled] = asyncio.ensure_future(
                    client.products_page(store_id, token, scheduled, PER_PAGE)
                )
            body = await tasks.pop(p)
            yield p, body
            nxt = body.get("next_page")
            if not nxt or not body.get("items"):
                return
            nxt = int(nxt)
            total = body.get("total")
            if total is not None:
                last_known = max(last_known, -(-int(total) // PER_PAGE))
            last_known = max(last_known, nxt)
            if nxt != p + 1:
                # The store answered with a page other than the next one: follow it, drop the rest.
                for t in tasks.values():
                    t.cancel()
                tasks.clear()
                scheduled = nxt - 1
            p = nxt
    finally:
        for t in tasks.values():
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks.values(), return_exceptions=True)


async def run_catalog_sync(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    sync_id: uuid.UUID,
    *,
    client: ServiceClient | None = None,
) -> str:
    """Run (or resume) a full sync from its recorded cursor to the end. Returns the final state.

    A transaction-level advisory lock, held by a transaction that stays open for the run, makes
    a second runner of the same sync a no-op ("busy"); it is released when that transaction ends,
    including when the worker dies and its connection drops, so a crash never blocks the resume."""
    async with maker() as lock_session, lock_session.begin():
        got = await lock_session.scalar(
            select(func.pg_try_advisory_xact_lock(func.hashtextextended(f"catalog_sync:{sync_id}", 0)))
        )
        if not got:
            return "busy"
        return await _run_locked(maker, settings, sync_id, client)


async def _run_locked(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    sync_id: uuid.UUID,
    client: ServiceClient | None,
) -> str:
    redis = _redis()
    async with maker() as session, session.begin():
        sync = await session.get(CatalogSync, sync_id, with_for_update=True)
        if sync is None:
            raise SyncNotVisible(str(sync_id))
        if sync.state in ("done", "failed"):
            return sync.state
        access = await store_access(session, settings.crypto, sync.tenant_id)
        if access is None:
            await _progress(session, sync, "failed", error="no connected store", finished_at=func.now())
            return "failed"
        values: dict[str, Any] = {"attempts": sync.attempts + 1, "error": None}
        if sync.started_at is None:
            values["started_at"] = func.now()
        await _progress(session, sync, "running", **values)
    await announce(session, redis)
    async with maker() as session:
        sync = await session.get(CatalogSync, sync_id)
        assert sync is not None and sync.started_at is not None
        started_at: datetime = sync.started_at
        page, done, pages_done = sync.next_page, sync.done, sync.pages_done
    # The change hook hears about the sync once, after its last page: listeners that rebuild
    # something derived (the search index) then do it in one pass, after the sync, instead of
    # competing with it page after page. A run that resumes another's work does not know what
    # the earlier run changed, so it reports every product synced since the sync started (a
    # superset: a listener re-deriving an unchanged product is harmless; missing one is not).
    resumed = pages_done > 0
    changed_all: list[uuid.UUID] = []
    log.info("catalog.sync_started", tenant_id=str(access.tenant_id), sync_id=str(sync_id), page=page)

    async def produce(c: ServiceClient, pages: asyncio.Queue[Any]) -> None:
        """Fetch pages as fast as the rate limit lets through, never waiting for Postgres: the
        writer drains what has arrived, in page order. Ends with None, or the fetch's error."""
        try:
            async with contextlib.aclosing(fetch_pages(c, access.store_id, access.token, page)) as fetched:
                async for p, body in fetched:
                    # Mapped here, as pages arrive: this CPU work overlaps the writer's wait for
                    # Postgres instead of following it.
                    await pages.put((p, body, map_rows(access, list(body.get("items") or []))))
                    await asyncio.sleep(0)
            await pages.put(None)
        except Exception as exc:  # noqa: BLE001 - handed to the writer, raised after the pages before it
            await pages.put(exc)

    async def loop(c: ServiceClient) -> None:
        nonlocal page, done, pages_done
        pages: asyncio.Queue[Any] = asyncio.Queue(maxsize=PREFETCH_PAGES)
        producer = asyncio.ensure_future(produce(c, pages))
        try:
            end: BaseException | None = None
            finished = False
            while not finished:
                # Everything fetched so far goes into one transaction (one upsert, one cursor).
                batch = [await pages.get()]
                while len(batch) < WRITE_PAGES and not pages.empty():
                    batch.append(pages.get_nowait())
                got = [b for b in batch if isinstance(b, tuple)]
                tail = batch[-1]
                if not isinstance(tail, tuple):
                    finished, end = True, tail
                if not got:
                    break
                n_items = sum(len(body.get("items") or []) for _, body, _ in got)
                rows = {ext: row for _, _, mapped in got for ext, row in mapped.items()}
                last_page, last, _ = got[-1]
                nxt = last.get("next_page")
                async with maker() as session, session.begin():
                    changed_all.extend(await upsert_rows(session, access, rows))
                    done += n_items
                    pages_done += len(got)
                    total = last.get("total")
                    await _progress(
                        session,
                        sync,
                        "running",
                        next_page=int(nxt) if nxt else last_page + 1,
                        done=done,
                        pages_done=pages_done,
                        total=int(total) if total is not None else None,
                    )
                await announce(session, redis)
                page = int(nxt) if nxt else last_page + 1
            if isinstance(end, BaseException):
                raise end
        finally:
            if not producer.done():
                producer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await producer

    async def listing_then_check(c: ServiceClient) -> tuple[list[uuid.UUID], list[int]]:
        await loop(c)
        return await _check_unlisted(maker, access, c, sync_id, started_at)

    try:
        if client is not None:
            refreshed, gone = await listing_then_check(client)
        else:
            async with service_client(settings) as c:
                refreshed, gone = await listing_then_check(c)
    except TiendanubeError as exc:
        if exc.retryable:
            # Stays "running"; the job retries / the sweeper resumes from the cursor (after the
            # last page: the listing is done, and only the products not checked yet are asked).
            raise
        async with maker() as session, session.begin():
            await _progress(session, sync, "failed", error=exc.message[:500], finished_at=func.now())
        await announce(session, redis)
        log.warning("catalog.sync_failed", tenant_id=str(access.tenant_id), code=exc.code)
        return "failed"
    changed_all.extend(refreshed)

    async with maker() as session, session.begin():
        # Only what the platform answered 404 for, and still unseen (a webhook may have brought
        # it back meanwhile: a product id is never reused, but be exact).
        res = await session.execute(
            delete(Product)
            .where(
                Product.tenant_id == access.tenant_id,
                Product.external_id.in_(gone),
                or_(Product.synced_at.is_(None), Product.synced_at < started_at),
            )
            .returning(Product.id)
        )
        deleted = [r[0] for r in res.all()]
        if resumed:
            changed_all = list(
                (
                    await session.scalars(
                        select(Product.id).where(
                            Product.tenant_id == access.tenant_id, Product.synced_at >= started_at
                        )
                    )
                ).all()
            )
        await _progress(session, sync, "done", deleted=len(deleted), done=done, finished_at=func.now())
    await announce(session, redis)
    await hooks.products_changed(access.tenant_id, list(dict.fromkeys(changed_all)), deleted)
    log.info(
        "catalog.sync_done",
        tenant_id=str(access.tenant_id),
        sync_id=str(sync_id),
        done=done,
        deleted=len(deleted),
    )
    return "done"


async def _check_unlisted(
    maker: async_sessionmaker[AsyncSession],
    access: StoreAccess,
    client: ServiceClient,
    sync_id: uuid.UUID,
    started_at: datetime,
    *,
    window: int = PREFETCH_PAGES,
) -> tuple[list[uuid.UUID], list[int]]:
    """Ask the platform for each mirrored product the listing did not return since `started_at`.

    Returns the ids of rows refreshed (still there, maybe changed: upserted, which also marks them
    seen) and the external ids the platform answered 404 for (the caller deletes those, with the
    rest of the sync's end, in one transaction). Up to `window` requests in flight, paced by
    tiendanube_service like the pages. Each batch's refreshes commit (with the sync's progress)
    before the next batch, so a sync interrupted here resumes with only the products not checked
    yet (plus the 404s, asked again: cheap and exact)."""
    refreshed: list[uuid.UUID] = []
    gone: list[int] = []
    after = 0  # keyset over external ids: the 404s stay unseen until the end, never asked twice
    still_there = 0

    async def get(ext: int) -> dict[str, Any] | None:
        try:
            raw: dict[str, Any] = await client.product(access.store_id, access.token, ext)
        except TiendanubeNotFound:
            return None
        return raw

    while True:
        async with maker() as session:
            batch = list(
                (
                    await session.scalars(
                        select(Product.external_id)
                        .where(
                            Product.tenant_id == access.tenant_id,
                            or_(Product.synced_at.is_(None), Product.synced_at < started_at),
                            Product.external_id > after,
                        )
                        .order_by(Product.external_id)
                        .limit(window)
                    )
                ).all()
            )
        if not batch:
            break
        after = batch[-1]
        answers = await asyncio.gather(*(get(ext) for ext in batch), return_exceptions=True)
        found = [a for a in answers if isinstance(a, dict)]
        still_there += len(found)
        # Keep what was learnt before raising a failure: the resume does not ask again.
        async with maker() as session, session.begin():
            refreshed.extend(await upsert_products(session, access, found))
            # Progress (updated_at): a long check is not a stalled sync for the sweeper.
            await session.execute(
                update(CatalogSync).where(CatalogSync.id == sync_id).values(state="running")
            )
        for a in answers:
            if isinstance(a, BaseException):
                raise a
        gone.extend(ext for ext, a in zip(batch, answers, strict=True) if a is None)
    if still_there or gone:
        log.info(
            "catalog.sync_unlisted_checked",
            tenant_id=str(access.tenant_id),
            still_there=still_there,
            gone=len(gone),
        )
    return refreshed, gone


async def stalled_syncs(session: AsyncSession, stall_seconds: float) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Syncs whose worker died: pending or running, no progress for `stall_seconds`."""
    rows = await session.execute(
        select(CatalogSync.id, CatalogSync.tenant_id).where(
            CatalogSync.state.in_(("pending", "running")),
            CatalogSync.updated_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, stall_seconds),
        )
    )
    return [(r[0], r[1]) for r in rows.all()]


def _redis() -> Any:
    try:
        return runtime.current().redis
    except RuntimeError:
        return None
