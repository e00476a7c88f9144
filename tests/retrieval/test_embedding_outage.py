"""Embedding provider outages: the breaker opens, full text answers without calling the provider,
indexing is deferred, and when the provider is back the index is completed (re-embedded)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from orchestrator.catalog import hooks
from orchestrator.credentials import service as credentials
from orchestrator.retrieval import embeddings
from orchestrator.retrieval.runtime import get_retrieval

from fakes.openai import create_app as fake_openai
from tests.conftest import free_port, serve

from .helpers import add_product, add_tenant

MODEL = "openai:text-embedding-3-small"


@contextlib.asynccontextmanager
async def orchestrator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider_url: str
) -> AsyncIterator[tuple[Any, uuid.UUID]]:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEXUS_WORKER_ENABLED", "false")
    monkeypatch.setattr(embeddings, "_cache", embeddings._QueryCache())  # no query vector from before
    monkeypatch.setenv("OPENAI_BASE_URL", f"{provider_url}/v1")
    monkeypatch.setenv("EMBEDDING_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("EMBEDDING_INDEX_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("EMBEDDING_BREAKER_FAILURES", "2")
    monkeypatch.setenv("EMBEDDING_BREAKER_COOLDOWN_SECONDS", "3600")
    from orchestrator.app import create_app

    app = create_app()
    async with app.router.lifespan_context(app):
        maker = app.state.sessionmaker
        tid = await add_tenant(maker, "Outage")
        async with maker() as s, s.begin():
            await credentials.put(s, app.state.settings.crypto, tid, "openai_api_key", "sk-" + "o" * 40)
        yield app, tid


class Calls:
    """Counts every call that reaches the provider's client (refused ones included)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n = 0
        original = embeddings.OpenAIEmbedder._embed

        async def counting(inner: Any, client: Any, texts: list[str]) -> list[list[float]]:
            self.n += 1
            return await original(inner, client, texts)

        monkeypatch.setattr(embeddings.OpenAIEmbedder, "_embed", counting)


async def _search(app: Any, tid: uuid.UUID, q: str, **kw: Any) -> Any:
    async with app.state.sessionmaker() as s:
        return await get_retrieval().search(s, tid, q, limit=3, **kw)


async def _outage_then_recovery(
    app: Any, tid: uuid.UUID, calls: Calls, provider_back: Any, provider_requests: Any = None
) -> None:
    svc = get_retrieval()
    maker = app.state.sessionmaker
    pid = await add_product(maker, tid, "Campera rompeviento impermeable", "45999.00", categories=["Camp"])
    await hooks.products_changed(tid, [pid], [])  # the provider fails: indexing is deferred
    assert svc.is_incomplete(tid)
    assert await svc.index.count(tid) == 0

    # The deferred indexing was failure 1; this search is failure 2 (the threshold): it opens.
    assert (await _search(app, tid, "campera rompeviento")).vector_status == "error"
    key = svc._openai_embedder("sk-" + "o" * 40).breaker_key
    assert svc.breakers.is_open(key)

    before = calls.n
    received = provider_requests() if provider_requests else None
    for q in ("campera rompeviento", "campera impermeable", "rompeviento"):
        res = await _search(app, tid, q)
        assert res.vector_status == "unavailable"  # full text answered, the provider was not called
        assert [h.product.id for h in res.hits] == [pid]
    # Indexing while open does not call the provider either; it is remembered for later.
    pid2 = await add_product(maker, tid, "Buzo canguro gris", "29999.00", categories=["Buzos"])
    await hooks.products_changed(tid, [pid2], [])
    assert calls.n == before
    if provider_requests:
        assert provider_requests() == received  # the provider itself saw nothing while open

    await provider_back()
    svc.breakers.cooldown = 0  # the cooldown is over: the next call is the half-open trial
    res = await _search(app, tid, "campera rompeviento")
    assert res.vector_status == "ok" and not svc.breakers.is_open(key)
    for task in list(svc._background):
        await task  # the index completion the recovery started
    assert not svc.is_incomplete(tid)
    assert await svc.index.model_of(tid) == MODEL
    assert await svc.index.count(tid) == 2
    res = await _search(app, tid, "buzo canguro", modes=("vector",))
    assert res.hits[0].product.id == pid2


async def test_provider_refusing_connections(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens here yet: every connection is refused
    calls = Calls(monkeypatch)
    oa = fake_openai()
    async with contextlib.AsyncExitStack() as stack:
        app, tid = await stack.enter_async_context(
            orchestrator(tmp_path, monkeypatch, f"http://127.0.0.1:{port}")
        )

        async def provider_back() -> None:
            await stack.enter_async_context(serve(oa, lifespan="off", port=port))

        await _outage_then_recovery(app, tid, calls, provider_back)
    assert oa.state.script.requests  # the completion really embedded through the provider


async def test_provider_hanging(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls(monkeypatch)
    oa = fake_openai()
    oa.state.script.embedding_delay = 60.0  # accepts the connection, never answers in time
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(serve(oa, lifespan="off"))
        app, tid = await stack.enter_async_context(orchestrator(tmp_path, monkeypatch, url))

        async def provider_back() -> None:
            oa.state.script.embedding_delay = 0.0

        await _outage_then_recovery(
            app, tid, calls, provider_back, provider_requests=lambda: len(oa.state.script.requests)
        )
