"""Index maintenance: the embedding model is stored with the collection; a change re-indexes."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from orchestrator.catalog import hooks
from orchestrator.credentials import service as credentials
from orchestrator.retrieval.runtime import get_retrieval
from orchestrator.retrieval.service import INLINE_INDEX_MAX

from fakes.openai import create_app as fake_openai
from tests.conftest import serve

from .helpers import add_product, add_tenant


async def test_switching_embedding_model_reindexes_never_mixes(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEXUS_WORKER_ENABLED", "false")
    oa = fake_openai()
    async with contextlib.AsyncExitStack() as es:
        url = await es.enter_async_context(serve(oa, lifespan="off"))
        monkeypatch.setenv("OPENAI_BASE_URL", f"{url}/v1")
        from orchestrator.app import create_app

        app = create_app()
        await es.enter_async_context(app.router.lifespan_context(app))
        maker = app.state.sessionmaker
        tid = await add_tenant(maker)
        pid = await add_product(maker, tid, "Campera de jean celeste", "39999.00", categories=["Camperas"])
        await hooks.products_changed(tid, [pid], [])
        svc = get_retrieval()
        assert await svc.index.model_of(tid) == "local:e5-small-q4"

        async with maker() as s, s.begin():
            await credentials.put(
                s, app.state.settings.crypto, tid, "openai_api_key", "sk-tenant-" + "x" * 30
            )
        async with maker() as s:
            res = await svc.search(s, tid, "campera", limit=3)
        # Stale vectors are not queried with the new model; full-text still answers meanwhile.
        assert res.vector_status == "stale" and res.hits[0].product.id == pid
        for _ in range(200):
            if await svc.index.model_of(tid) == "openai:text-embedding-3-small" and await svc.index.count(
                tid
            ):
                break
            await asyncio.sleep(0.05)
        async with maker() as s:
            res = await svc.search(s, tid, "campera", limit=3, modes=("vector",))
        assert res.vector_status == "ok" and res.embedding == "openai:text-embedding-3-small"
        assert res.hits[0].product.id == pid
        assert any(r["auth"] == "Bearer sk-tenant-" + "x" * 30 for r in oa.state.script.requests)


async def test_a_failing_listener_never_breaks_the_catalog_hook(caplog: Any) -> None:
    seen: list[Any] = []

    async def broken(*_: Any) -> None:
        raise RuntimeError("boom")

    async def ok(tenant_id: Any, changed: Any, deleted: Any) -> None:
        seen.append((tenant_id, list(changed), list(deleted)))

    hooks.register(broken)
    hooks.register(ok)
    try:
        await hooks.products_changed("t", ["a"], ["b"])  # type: ignore[arg-type]
    finally:
        hooks._listeners.remove(broken)
        hooks._listeners.remove(ok)
    assert seen == [("t", ["a"], ["b"])]


async def test_bulk_catalog_changes_are_indexed_in_the_background(orch: Any) -> None:
    """A full sync's pages do not wait for embeddings: the hook queues them for the tenant's
    indexer and returns; a few products (a webhook) are still indexed before it returns."""
    maker = orch.state.sessionmaker
    svc = get_retrieval()
    tid = await add_tenant(maker, "Bulk")
    many = [
        await add_product(maker, tid, f"Remera básica modelo {i}", "8999.00", categories=["Remeras"])
        for i in range(INLINE_INDEX_MAX + 4)
    ]
    await hooks.products_changed(tid, many, [])
    assert tid in svc._indexers  # queued, not indexed inline
    await svc.indexed(tid)
    assert await svc.index.count(tid) == len(many)

    one = await add_product(maker, tid, "Campera de jean celeste", "39999.00", categories=["Camperas"])
    await hooks.products_changed(tid, [one], [])
    assert tid not in svc._indexers and await svc.index.count(tid) == len(many) + 1  # inline
