"""What is indexed for a product: the words a customer would search it by."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from ..models import Product
from .synonyms import expand
from .text import strip_html

# Bumped whenever what `product_document` writes changes: indexes of another format are rebuilt.
DOCUMENT_FORMAT = 2  # 2: the names customers elsewhere use for the product (its synonym groups)


def _strings(value: Any) -> list[str]:
    """Text out of the catalog's multilingual values ({"es": "Rojo", "pt": "Vermelho"}, lists, str)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, str)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def variant_values(variants: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for v in variants or []:
        if not isinstance(v, dict):
            continue
        for s in _strings(v.get("values")):
            if s and s not in seen:
                seen.append(s)
    return seen


def price_band(price: Decimal | None, cuts: tuple[Decimal, Decimal] | None) -> str:
    if price is None or cuts is None:
        return ""
    low, high = cuts
    if price <= low:
        return "precio bajo económico barato / preço baixo barato"
    if price >= high:
        return "precio alto premium / preço alto premium"
    return "precio medio / preço médio"


def documents_key(synonyms: list[list[str]]) -> str:
    """What the tenant's documents are made with: the format and the synonym list. A vector index
    built with another key is stale (its documents lack or misname what customers call things)."""
    digest = hashlib.sha256(json.dumps(synonyms, ensure_ascii=False).encode()).hexdigest()[:16]
    return f"v{DOCUMENT_FORMAT}:{digest}"


def product_document(
    p: Product, cuts: tuple[Decimal, Decimal] | None = None, synonyms: list[list[str]] | None = None
) -> str:
    name = " / ".join(dict.fromkeys(_strings(p.name))) or p.name_text
    # Short on purpose: CPU embedding cost grows with length, and the first lines say what it is.
    desc = " ".join(strip_html(s) for s in dict.fromkeys(_strings(p.description)))[:240]
    parts = [name]
    if p.categories:
        parts.append("Categoría: " + ", ".join(p.categories))
    values = variant_values(p.variants)
    if values:
        parts.append("Variantes: " + ", ".join(values))
    if desc:
        parts.append(desc)
    # What customers elsewhere call it: the members of the synonym groups its name and category
    # touch ("Campera impermeable" → "chaqueta, chamarra, jaqueta, campera de lluvia, capa de
    # chuva, piloto"). The query's words then meet the document's words in the vector space too
    # ("pra levar café quente" reaches a "termo" through "garrafa térmica").
    also = expand(" ".join([name, *(p.categories or [])]), synonyms or [])
    if also:
        parts.append("También: " + ", ".join(also))
    # SKUs are matched exactly in Postgres; in a vector they would only add noise and cost.
    band = price_band(p.price, cuts)
    if band:
        parts.append(band)
    return ". ".join(parts)
