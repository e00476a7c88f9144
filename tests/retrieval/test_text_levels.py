"""Text retrieval in one statement (only the levels that are needed run) and the fusion's
treatment of full-text matches that had to leave words out. Real Postgres; the vector half is
replaced where a test needs its ranking fixed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from orchestrator.retrieval import repository as repo
from orchestrator.retrieval.runtime import get_retrieval
from orchestrator.retrieval.service import CANDIDATES, coverage
from orchestrator.retrieval.synonyms import DEFAULT_SYNONYMS
from orchestrator.retrieval.vocabulary import Vocabulary

from .helpers import add_product, add_tenant

STRICT = "(remera:*) & (negra:*)"
LOOSE = "(remera:*) | (negra:*)"


async def _candidates(maker: Any, tid: uuid.UUID, enough: int, **kw: Any) -> repo.TextCandidates:
    async with maker() as s:
        await repo.search_context(s, tid, "openai_api_key")
        return await repo.text_candidates(
            s,
            tid,
            skus=kw.get("skus", []),
            tsqueries=[STRICT, LOOSE],
            trigram_text=kw.get("tq", ""),
            k=CANDIDATES,
            enough=enough,
        )


async def test_looser_levels_and_trigrams_run_only_when_the_strict_level_is_short(orch: Any) -> None:
    maker = orch.state.sessionmaker
    tid = await add_tenant(maker, "Niveles")
    black = await add_product(maker, tid, "Remera negra lisa", "9000.00", skus=["REM-NEG"])
    white = await add_product(maker, tid, "Remera blanca lisa", "9000.00")
    other = await add_tenant(maker, "Otra")
    await add_product(maker, other, "Remera negra de otra tienda", "1.00")

    enough = await _candidates(maker, tid, 1, tq="remera negra")
    assert enough.levels == [[black], []]  # one strict match was enough: the loose level never ran
    assert enough.trigram == []

    short = await _candidates(maker, tid, 5, tq="remera negra")
    assert short.levels[0] == [black]
    assert set(short.levels[1]) == {black, white}  # the other tenant's remera is never a candidate
    assert black in short.trigram

    # An exact SKU match is the answer: no word level or trigram runs beside it.
    named = await _candidates(maker, tid, 5, tq="remera negra", skus=["REM-NEG"])
    assert named.sku == [black] and named.levels == [[], []] and named.trigram == []
    unknown = await _candidates(maker, tid, 5, tq="remera negra", skus=["REM-XXX"])
    assert unknown.sku == [] and unknown.levels[0] == [black]


async def test_context_reads_settings_and_the_key_in_one_round_trip(orch: Any) -> None:
    maker = orch.state.sessionmaker
    tid = await add_tenant(maker, "Contexto", embedding="local")
    async with maker() as s:
        ctx = await repo.search_context(s, tid, "openai_api_key")
        missing = await repo.search_context(s, uuid.uuid4(), "openai_api_key")
    assert ctx is not None and ctx.settings == {"embedding": "local"} and ctx.credential is None
    assert missing is None


def test_coverage_is_the_share_of_query_words_the_catalog_can_match() -> None:
    vocab = Vocabulary({"pileta": 4, "cobertor": 1, "bomba": 1})
    assert coverage("cobertor pileta", DEFAULT_SYNONYMS, vocab) == 1.0
    assert coverage(
        "algo para cubrir la pileta cuando no la usamos", DEFAULT_SYNONYMS, vocab
    ) == pytest.approx(1 / 3)
    assert coverage("cualquier cosa", DEFAULT_SYNONYMS, None) == 1.0


async def test_a_partial_word_match_does_not_outvote_the_vector_neighbour(
    orch: Any, monkeypatch: Any
) -> None:
    """ "algo para cubrir la pileta": only "pileta" is a catalog word. The product that merely has
    that word must not outrank the vector's first neighbour just by sharing one word of three."""
    maker = orch.state.sessionmaker
    tid = await add_tenant(maker, "Cobertura")
    # Without the rule the tie would go to the lower id: make that the pump.
    low, high = uuid.UUID("0" + uuid.uuid4().hex[1:]), uuid.UUID("f" + uuid.uuid4().hex[1:])
    pump = await add_product(maker, tid, "Bomba para pileta", "9000.00", product_id=low)
    cover = await add_product(maker, tid, "Cobertor de lona", "9000.00", product_id=high)
    svc = get_retrieval()

    async def vector(
        tenant_id: uuid.UUID, embedder: Any, text: str, timings: dict[str, float], *_: Any
    ) -> list[uuid.UUID]:
        return [cover]

    monkeypatch.setattr(svc, "_vector", vector)
    async with maker() as s:
        res = await svc.search(
            s, tid, "algo para cubrir la pileta cuando no la usamos", limit=1, synonyms=DEFAULT_SYNONYMS
        )
    assert [h.product.id for h in res.hits] == [cover]
    async with maker() as s:  # every word known: the full-text match is full evidence again
        res = await svc.search(s, tid, "bomba para pileta", limit=1, synonyms=DEFAULT_SYNONYMS)
    assert [h.product.id for h in res.hits] == [pump]
