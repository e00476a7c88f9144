"""Query understanding: price ranges, the catalog-vocabulary spelling corrector, and both in a
real search (Postgres full text, embedded Chroma, offline model)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from orchestrator.catalog import hooks
from orchestrator.retrieval.query import PriceRange, price_range
from orchestrator.retrieval.runtime import get_retrieval
from orchestrator.retrieval.service import STOPWORDS
from orchestrator.retrieval.synonyms import DEFAULT_SYNONYMS
from orchestrator.retrieval.vocabulary import Vocabulary, sound_key, understand

from .helpers import add_product, add_tenant


@pytest.mark.parametrize(
    ("query", "rest", "low", "high"),
    [
        ("ojotas por menos de 8 mil", "ojotas", None, "8000"),
        ("medias hasta $3.000", "medias", None, "3000"),
        ("meias até 2 mil reais", "meias", None, "2000"),
        ("zapatillas entre 40 y 60 mil", "zapatillas", "40000", "60000"),
        ("campera de más de 100.000", "campera de", "100000", None),
        ("buzo no más de 30 lucas", "buzo", None, "30000"),
        ("tênis até R$ 250,00", "tenis", None, "250.00"),
    ],
)
def test_price_phrases_become_a_range(query: str, rest: str, low: str | None, high: str | None) -> None:
    text, rng = price_range(query)
    assert text == rest
    assert rng == PriceRange(None if low is None else Decimal(low), None if high is None else Decimal(high))


@pytest.mark.parametrize("query", ["remera negra talle 42", "termo de 1 litro", "zapatillas 38"])
def test_numbers_that_are_not_prices_stay_words(query: str) -> None:
    assert price_range(query) == (query, PriceRange())


def test_corrector_uses_the_catalogs_words_and_sounds() -> None:
    vocab = Vocabulary({"zapatillas": 40, "buzo": 12, "acero": 3, "malla": 5, "campera": 9, "pileta": 4})
    assert sound_key("buso") == sound_key("buzo") and sound_key("maya") == sound_key("malla")
    u = understand("zapatiyas y buso de asero", vocab, STOPWORDS, DEFAULT_SYNONYMS)
    assert u.corrections == {"zapatiyas": "zapatillas", "buso": "buzo", "asero": "acero"}
    assert u.text == "zapatillas y buzo de acero"
    # A word of the synonym list is a real word, never "corrected" into a catalog word.
    u = understand("polera", vocab, STOPWORDS, DEFAULT_SYNONYMS)
    assert u.corrections == {} and u.text == "polera"
    # Known words (also plurals of them) are untouched; far-off words are named, not guessed.
    u = understand("camperas invierno", vocab, STOPWORDS, DEFAULT_SYNONYMS)
    assert u.corrections == {} and u.unknown == ["invierno"]


async def test_search_corrects_typos_and_applies_the_price_range(orch: Any) -> None:
    maker = orch.state.sessionmaker
    tid = await add_tenant(maker, "Rango")
    cheap = await add_product(maker, tid, "Remera estampada Andina negra", "7999.00", categories=["Remeras"])
    dear = await add_product(maker, tid, "Remera estampada Pampa negra", "15999.00", categories=["Remeras"])
    promo = await add_product(maker, tid, "Remera estampada Delta blanca", "12999.00", categories=["Remeras"])
    from orchestrator.models import Product
    from sqlalchemy import update

    async with maker() as s, s.begin():
        await s.execute(update(Product).where(Product.id == promo).values(promotional_price=Decimal("8500")))
    await hooks.products_changed(tid, [cheap, dear, promo], [])

    r = await orch.state.test_client.get(
        "/internal/products/search",
        params={"tenant_id": str(tid), "q": "remra estanpada hasta 10 mil"},
        headers={"X-Internal-Token": "test-internal-token-0123456789"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert {i["id"] for i in body["items"]} == {str(cheap), str(promo)}  # the promo price counts
    assert body["understood"]["corrections"] == {"remra": "remera", "estanpada": "estampada"}
    assert body["understood"]["price"] == {"min": None, "max": "10000"}

    async with maker() as s:
        res = await get_retrieval().search(s, tid, "remra estanpada", limit=5, modes=("fts",))
    assert {h.product.id for h in res.hits} == {cheap, dear, promo}  # the corrected words matched
