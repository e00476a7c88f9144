"""Words of questions the search was not tuned on: another gender or number of a catalog word,
a Portuguese word that folds into a Spanish stopword, and a word no product contains that a
synonym phrase points to. Unit checks, then real searches (Postgres full text; the vector half
is left out where it would find the product anyway)."""

from __future__ import annotations

import asyncio
from typing import Any

from orchestrator.retrieval.documents import documents_key, product_document
from orchestrator.retrieval.runtime import get_retrieval
from orchestrator.retrieval.service import STOPWORDS
from orchestrator.retrieval.synonyms import DEFAULT_SYNONYMS, phrase_groups, term_groups
from orchestrator.retrieval.text import is_stopword
from orchestrator.retrieval.vocabulary import Vocabulary, inflections, understand

from .helpers import add_product, add_tenant

TEXT_ONLY = ("sku", "fts", "trigram")


def test_another_gender_or_number_of_a_catalog_word_is_that_word() -> None:
    assert inflections("negras")[:2] == ["negra", "negro"]
    vocab = Vocabulary({"zapatillas": 30, "negro": 12, "remera": 8, "blanco": 5})
    u = understand("zapatillas negras", vocab, STOPWORDS, DEFAULT_SYNONYMS)
    assert u.corrections == {"negras": "negro"} and u.text == "zapatillas negro" and u.unknown == []
    u = understand("remeras blancas", vocab, STOPWORDS, DEFAULT_SYNONYMS)
    assert u.corrections == {"blancas": "blanco"}


def test_a_word_typed_with_an_accent_is_a_stopword_only_with_that_accent() -> None:
    assert is_stopword("la", STOPWORDS) and is_stopword("también", STOPWORDS)
    assert is_stopword("tambien", STOPWORDS)  # accents left out: still the stopword
    assert not is_stopword("lã", STOPWORDS)  # Portuguese "wool", not the Spanish article
    assert term_groups("boné de lã", DEFAULT_SYNONYMS, STOPWORDS)[1] == ["la"]
    assert len(term_groups("boné de la tienda", DEFAULT_SYNONYMS, STOPWORDS)) == 2


def test_a_word_of_a_synonym_phrase_points_to_its_group() -> None:
    (group,) = phrase_groups(["molhar", "chuva"], DEFAULT_SYNONYMS, STOPWORDS)
    assert "impermeable" in group and "capa de chuva" in group
    # A word that is itself a member, or a stopword of the phrase, points nowhere.
    assert phrase_groups(["campera", "de"], DEFAULT_SYNONYMS, STOPWORDS) == []
    # A word of phrases of two groups is ambiguous: it points nowhere.
    groups = [["campera de lluvia", "impermeable"], ["paraguas de lluvia", "paraguas"]]
    assert phrase_groups(["lluvia"], groups, STOPWORDS) == []


async def test_words_the_catalog_lacks_find_the_product_through_a_synonym_phrase(orch: Any) -> None:
    maker = orch.state.sessionmaker
    tid = await add_tenant(maker, "Lluvia")
    rain = await add_product(
        maker, tid, "Campera impermeable Delta negro", "50000.00", categories=["Camperas"]
    )
    await add_product(maker, tid, "Campera polar Andina gris", "45000.00", categories=["Camperas"])
    await add_product(maker, tid, "Medias térmicas", "3000.00", categories=["Medias"])
    svc = get_retrieval()
    async with maker() as s:
        res = await svc.search(
            s, tid, "pra não me molhar na chuva", modes=TEXT_ONLY, synonyms=DEFAULT_SYNONYMS
        )
    assert [h.product.id for h in res.hits] == [rain]
    # "chuva" is a real word (of the synonym list), only "molhar" is named as not understood.
    assert res.understood["unknown_words"] == ["molhar"]


async def test_zapatillas_negras_find_the_black_ones(orch: Any) -> None:
    maker = orch.state.sessionmaker
    tid = await add_tenant(maker, "Negras")
    black = await add_product(maker, tid, "Zapatillas running Pampa negro mujer", "60000.00")
    await add_product(maker, tid, "Zapatillas running Pampa blanco mujer", "60000.00")
    await add_product(maker, tid, "Remera básica Andina negro", "9000.00")
    svc = get_retrieval()
    async with maker() as s:
        res = await svc.search(
            s, tid, "zapatillas negras", limit=1, modes=TEXT_ONLY, synonyms=DEFAULT_SYNONYMS
        )
    assert [h.product.id for h in res.hits] == [black]
    assert res.understood["corrections"] == {"negras": "negro"}


def test_the_document_names_what_customers_elsewhere_call_the_product() -> None:
    from orchestrator.models import Product

    p = Product(name={"es": "Campera impermeable Delta"}, name_text="Campera impermeable Delta")
    p.categories, p.variants, p.description = ["Camperas"], [], {}
    doc = product_document(p, None, DEFAULT_SYNONYMS)
    assert "chaqueta" in doc and "jaqueta" in doc and "capa de chuva" in doc
    assert "También" not in product_document(p, None, [])  # no list, nothing added
    assert documents_key(DEFAULT_SYNONYMS) != documents_key([["campera", "chaqueta"]])


async def test_a_new_synonym_list_rebuilds_the_index_from_new_documents(orch: Any) -> None:
    """Vectors made from documents of the old list are never queried: full text answers until
    the rebuild has written documents with the tenant's new list."""
    maker = orch.state.sessionmaker
    tid = await add_tenant(maker, "Sinonimos")
    pid = await add_product(maker, tid, "Campera impermeable Delta", "50000.00", categories=["Camperas"])
    svc = get_retrieval()
    await svc.rebuild(tid)
    assert await svc.index.is_current(tid, "local:e5-small-q4", documents_key(DEFAULT_SYNONYMS))
    async with maker() as s:
        res = await svc.search(s, tid, "campera", limit=1)
    assert res.vector_status == "ok"

    mine = [["campera", "anorak"]]
    from orchestrator.models import Tenant
    from sqlalchemy import update

    async with maker() as s, s.begin():
        await s.execute(update(Tenant).where(Tenant.id == tid).values(settings={"synonyms": mine}))
    async with maker() as s:
        res = await svc.search(s, tid, "campera", limit=1)
    assert res.vector_status == "stale" and [h.product.id for h in res.hits] == [pid]
    for _ in range(400):  # the stale search started the rebuild
        if await svc.index.is_current(tid, "local:e5-small-q4", documents_key(mine)):
            break
        await asyncio.sleep(0.05)
    async with maker() as s:
        res = await svc.search(s, tid, "anorak", limit=1, modes=("vector",))
    assert res.vector_status == "ok" and [h.product.id for h in res.hits] == [pid]
    docs = svc.index._existing(tid).get(include=["documents"])["documents"]
    assert "anorak" in docs[0] and "chaqueta" not in docs[0]
