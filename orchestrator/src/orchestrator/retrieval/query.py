"""Query understanding: the price range a customer names, in Spanish and Portuguese.

"menos de 20 mil", "hasta $20.000", "por menos de 20k", "no más de 15 lucas", "até R$ 100",
"abaixo de 2 mil", "más de 50 mil", "a partir de 30.000", "entre 10 y 20 mil". The phrase is taken
out of the text that is searched (its words and digits name no product) and becomes a filter on
the price the customer would pay (the promotional price when there is one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .text import fold

_NUM = (
    r"(?:r\$|\$|usd|ars|mxn|clp|cop|pen|brl)?\s*"
    r"(\d{1,3}(?:[.,]\d{3})+|\d+(?:[.,]\d+)?)\s*(mil|k|lucas|luca)?\b"
)
_UNIT = r"(?:\s*(?:pesos|reais|reales|soles|mangos|plata))?"


def _words(*phrases: str) -> str:
    return "(?:" + "|".join(p.replace(" ", r"\s+") for p in phrases) + ")"


_MAX = r"(?:por\s+)?" + _words(
    "menos de",
    "menos que",
    "hasta",
    "maximo",
    "max",
    "no mas de",
    "por debajo de",
    "debajo de",
    "abaixo de",
    "ate",
    "no maximo",
    "nao mais que",
)
_MIN = _words(
    "mas de", "mas que", "desde", "arriba de", "por encima de", "acima de", "a partir de", "mais de", "minimo"
)

_BETWEEN = re.compile(rf"\bentre\s+{_NUM}{_UNIT}\s+(?:y|e|a)\s+{_NUM}{_UNIT}")
_UPPER = re.compile(rf"\b{_MAX}\s+{_NUM}{_UNIT}")
_LOWER = re.compile(rf"\b{_MIN}\s+{_NUM}{_UNIT}")


@dataclass(frozen=True)
class PriceRange:
    low: Decimal | None = None
    high: Decimal | None = None

    def __bool__(self) -> bool:
        return self.low is not None or self.high is not None

    def admits(self, price: Decimal | None) -> bool:
        if price is None:
            return not self
        return (self.low is None or price >= self.low) and (self.high is None or price <= self.high)


def _amount(number: str, unit: str | None) -> Decimal | None:
    # "20.000" / "20,000" are thousands; "19,99" / "19.99" are decimals.
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", number):
        digits = re.sub(r"[.,]", "", number)
    else:
        digits = number.replace(",", ".")
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    if unit in ("mil", "k", "lucas", "luca"):
        value *= 1000
    return value


def price_range(query: str) -> tuple[str, PriceRange]:
    """(the query without its price phrase, the range it names). The text comes back folded
    only where a phrase was removed; otherwise the query is returned as it was."""
    folded = fold(query)
    m = _BETWEEN.search(folded)
    if m:
        a, b = _amount(m.group(1), m.group(2)), _amount(m.group(3), m.group(4))
        if a is not None and b is not None:
            if m.group(4) and not m.group(2) and a < 1000:  # "entre 10 y 20 mil": both in thousands
                a *= 1000
            low, high = min(a, b), max(a, b)
            return _cut(folded, m), PriceRange(low, high)
    m = _UPPER.search(folded)
    if m:
        value = _amount(m.group(1), m.group(2))
        if value is not None:
            return _cut(folded, m), PriceRange(None, value)
    m = _LOWER.search(folded)
    if m:
        value = _amount(m.group(1), m.group(2))
        if value is not None:
            return _cut(folded, m), PriceRange(value, None)
    return query, PriceRange()


def _cut(text: str, m: re.Match[str]) -> str:
    return " ".join((text[: m.start()] + " " + text[m.end() :]).split())
