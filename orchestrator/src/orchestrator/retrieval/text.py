"""Text normalisation shared by indexing and querying (accent folding like `nexus_unaccent`)."""

from __future__ import annotations

import html
import re
import unicodedata

_TAG = re.compile(r"<[^>]+>")
_WS = re.compile(r"\s+")
_TOKEN = re.compile(r"[a-z0-9]+(?:[-_./][a-z0-9]+)*")
# Codes customers paste: letters and digits mixed, often with dashes (REM-001, ZAP42-NEG-40).
_SKU_LIKE = re.compile(r"^(?=.*\d)(?=.*[a-z])[a-z0-9]+(?:[-_./][a-z0-9]+)*$|^\d{5,}$")


def fold(text: str) -> str:
    """Lower-case and strip accents (ñ→n, ç→c, ã→a), as unaccent does on the Postgres side."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def is_stopword(word: str, stopwords: frozenset[str]) -> bool:
    """`word` as the customer typed it (accents kept). Folding merges distinct words: the
    Portuguese "lã" (wool) folds to the Spanish article "la". A word typed without accents is a
    stopword when the (folded) list has it, as customers often leave accents out ("tambien"); a
    word typed with an accent only when the list has it with that accent ("también", "está")."""
    return unicodedata.normalize("NFC", word.lower()) in stopwords


def strip_html(text: str) -> str:
    return _WS.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def sku_candidates(text: str) -> list[str]:
    """Tokens of the query that look like a SKU, in the spellings a catalog may store."""
    raw = re.findall(r"[A-Za-z0-9]+(?:[-_./][A-Za-z0-9]+)*", text)
    out: list[str] = []
    for tok in raw:
        if _SKU_LIKE.match(tok.lower()):
            out.extend({tok, tok.upper(), tok.lower()})
    return out
