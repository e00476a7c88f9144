"""The catalog's own vocabulary: which query words can match anything, and a spelling corrector.

A word no product of the store contains cannot help an "every term" full-text query: it only
empties it and sends the search down to the looser (and, at 10k products, slow) levels. And a
misspelt word ("zapatiyas", "buso", "cueroo") is usually one edit, or one sound, away from a
word the catalog does contain. So per tenant we keep the words of its published products (name,
indexed text, categories) with the number of products each appears in, and before searching:

- a word the catalog contains (as typed, or as a prefix / without a plural ending, the way the
  prefix tsquery matches it) is kept;
- an unknown word that is another number or gender of a catalog word ("negras" for "negro") is
  corrected to it;
- else to the catalog word with the same Spanish/Portuguese sound key
  ("buso" → "buzo", "asero" → "acero", "maya" → "malla"), else (5 letters or more: "pies" is a
  word, not a misspelt "piel") to the nearest word by Damerau-Levenshtein distance (1 edit up to
  7 letters, 2 beyond), the most frequent on ties;
  a word of the synonym list is a real word and never corrected ("polera" is not "pileta"), and
  is a candidate when the catalog has none ("pisina" → "piscina");
- a word with neither is left out of the strict levels (the vector search still sees it).

Per process, per tenant: built with one `ts_stat` query, refreshed after `TTL_SECONDS` in the
background (the stale copy answers meanwhile) and dropped at once when this process indexes the
tenant's catalog changes.
"""

from __future__ import annotations

import asyncio
import bisect
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .text import fold, is_stopword

log = structlog.get_logger("orchestrator.retrieval.vocabulary")

TTL_SECONDS = 300.0
MIN_CORRECTABLE = 4  # shorter words are too ambiguous to correct ("gps", "usb", "a4")

# Every word of the tenant's published products (accent-folded, unstemmed) with its product count.
_VOCAB_SQL = text(
    """
    SELECT word, ndoc FROM ts_stat(format(
        $q$SELECT to_tsvector('simple', nexus_unaccent(lower(
               name_text || ' ' || search_text || ' ' || array_to_string(categories, ' '))))
           FROM products WHERE tenant_id = %L AND published$q$, CAST(:tid AS text)))
    """
)

_SOUND_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        (r"ll", "y"),
        (r"qu", "k"),
        (r"gu(?=[ei])", "g"),
        (r"c(?=[ei])", "s"),
        (r"ss", "s"),
        (r"z", "s"),
        (r"v", "b"),
        (r"(?<![csnl])h", ""),  # silent h, but not ch / sh / nh / lh
        (r"c", "k"),
        (r"(.)\1+", r"\1"),  # doubled letters: "piletta", "cueroo"
    ]
]


def sound_key(word: str) -> str:
    """A Spanish/Portuguese spelling-by-ear key: words that sound alike share it."""
    w = fold(word)
    for pattern, repl in _SOUND_RULES:
        w = pattern.sub(repl, w)
    return w


def inflections(word: str) -> list[str]:
    """The other number and gender forms of a Spanish/Portuguese word, nearest first: "negras" →
    "negra", "negro", "negros"... A catalog names a product in one form ("Zapatillas ... negro")
    and customers use the form that agrees with their noun ("zapatillas negras")."""
    bases = [word]
    for suffix in ("es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            bases.append(word[: -len(suffix)])
    out: list[str] = []
    for base in list(bases):
        if base[-1:] in ("a", "o"):
            bases.append(base[:-1] + ("o" if base[-1] == "a" else "a"))
    for base in bases:
        for form in (base,) if base.endswith("s") else (base, base + "s"):
            if form != word and form not in out:
                out.append(form)
    return out


def _stems(word: str) -> list[str]:
    out = [word]
    for suffix in ("es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_CORRECTABLE:
            out.append(word[: -len(suffix)])
    return out


@dataclass
class Vocabulary:
    counts: dict[str, int]
    built_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._sorted = sorted(self.counts)
        self._by_key: dict[str, str] = {}
        for w in sorted(self.counts, key=lambda x: (-self.counts[x], x)):
            if len(w) >= MIN_CORRECTABLE and not w.isdigit():
                self._by_key.setdefault(sound_key(w), w)  # the most frequent word of each sound
        self._keys = list(self._by_key)
        self._known: dict[str, bool] = {}  # memo: customers use the same few hundred words

    def __len__(self) -> int:
        return len(self.counts)

    def _has_prefix(self, prefix: str) -> bool:
        i = bisect.bisect_left(self._sorted, prefix)
        return i < len(self._sorted) and self._sorted[i].startswith(prefix)

    def known(self, word: str) -> bool:
        """Would the full-text query for `word` (prefix-matched from 4 letters) find a product?"""
        hit = self._known.get(word)
        if hit is None:
            w = fold(word)
            hit = w in self.counts or (
                len(w) >= MIN_CORRECTABLE and any(self._has_prefix(s) for s in _stems(w))
            )
            if len(self._known) < 100_000:
                self._known[word] = hit
        return hit

    def correct(self, word: str) -> str | None:
        """The catalog word `word` most likely misspells, or None (known, too short, or no match)."""
        w = fold(word)
        if len(w) < MIN_CORRECTABLE or any(c.isdigit() for c in w) or self.known(w) or not self._keys:
            return None
        # Another number or gender of a catalog word is that word, before any guess by sound.
        forms = [f for f in inflections(w) if f in self.counts]
        if forms:
            return max(forms, key=lambda x: (self.counts[x], x))
        key = sound_key(w)
        same = self._by_key.get(key)
        if same is not None:
            return same
        if len(w) <= MIN_CORRECTABLE:
            return None  # a 4-letter word one edit from a catalog word is often another real word
        limit = 1 if len(key) <= 7 else 2
        best = process.extract(
            key, self._keys, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=8
        )
        if not best:
            return None
        top = min(score for _, score, _ in best)
        words = [self._by_key[k] for k, score, _ in best if score == top]
        return max(words, key=lambda x: (self.counts.get(x, 0), x))


@dataclass
class Understood:
    """A query after the vocabulary pass: the text to search and what was changed."""

    text: str
    corrections: dict[str, str]
    unknown: list[str]


_lexicons: dict[int, Vocabulary] = {}


def lexicon(groups: list[list[str]]) -> Vocabulary:
    """The synonym list's single words as a vocabulary (cached per distinct list)."""
    key = hash(tuple(tuple(g) for g in groups))
    lex = _lexicons.get(key)
    if lex is None:
        words = {"".join(ch for ch in w if ch.isalnum()) for g in groups for m in g for w in fold(m).split()}
        if len(_lexicons) > 256:
            _lexicons.clear()
        lex = _lexicons[key] = Vocabulary({w: 0 for w in words if w})
    return lex


def understand(
    query: str, vocab: Vocabulary | None, stopwords: Iterable[str], synonyms: list[list[str]] | None = None
) -> Understood:
    """Correct misspelt words against the catalog and name the words it cannot match."""
    if vocab is None or not len(vocab):
        return Understood(query, {}, [])
    lex = lexicon(synonyms or [])
    stop = frozenset(stopwords)
    corrections: dict[str, str] = {}
    unknown: list[str] = []
    out: list[str] = []
    for raw in query.split():
        typed = "".join(ch for ch in raw if ch.isalnum())
        w = fold(typed)
        if not w or is_stopword(typed, stop) or len(w) < MIN_CORRECTABLE or any(c.isdigit() for c in w):
            out.append(raw)
            continue
        if vocab.known(w) or w in lex.counts:
            out.append(raw)
            continue
        fixed = vocab.correct(w) or lex.correct(w)
        if fixed is not None:
            corrections[w] = fixed
            out.append(fixed)
        else:
            unknown.append(w)
            out.append(raw)
    return Understood(" ".join(out), corrections, unknown)


class VocabularyCache:
    """Per-tenant vocabularies of this process (see the module docstring)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], ttl: float = TTL_SECONDS) -> None:
        self._sessionmaker = sessionmaker
        self._ttl = ttl
        self._data: dict[uuid.UUID, Vocabulary] = {}
        self._refreshing: dict[uuid.UUID, asyncio.Task[Any]] = {}

    async def _load(self, session: AsyncSession, tenant_id: uuid.UUID) -> Vocabulary:
        rows = await session.execute(_VOCAB_SQL, {"tid": str(tenant_id)})
        return Vocabulary({str(w): int(n) for w, n in rows})

    async def get(self, session: AsyncSession, tenant_id: uuid.UUID) -> Vocabulary:
        vocab = self._data.get(tenant_id)
        if vocab is None:
            vocab = self._data[tenant_id] = await self._load(session, tenant_id)
        elif time.monotonic() - vocab.built_at > self._ttl and tenant_id not in self._refreshing:
            task = asyncio.create_task(self._refresh(tenant_id))
            self._refreshing[tenant_id] = task
            task.add_done_callback(lambda _t: self._refreshing.pop(tenant_id, None))
        return vocab

    async def _refresh(self, tenant_id: uuid.UUID) -> None:
        try:
            async with self._sessionmaker() as session:
                self._data[tenant_id] = await self._load(session, tenant_id)
        except Exception as exc:  # noqa: BLE001 - the stale vocabulary keeps answering
            log.warning(
                "retrieval.vocabulary_refresh_failed", tenant_id=str(tenant_id), error=type(exc).__name__
            )

    def invalidate(self, tenant_id: uuid.UUID) -> None:
        self._data.pop(tenant_id, None)
