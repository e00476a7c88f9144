"""Tienda Nube product JSON → the columns of `products` (what the agent and search need)."""

from __future__ import annotations

import html
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import Any

LANG_PREFERENCE = ("es", "pt", "en")
_BLOCK_TAGS = {"p", "br", "li", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table"}
_SPACES = re.compile(r"[ \t\u00a0]+")
_NEWLINES = re.compile(r"\s*\n\s*")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def strip_html(value: str | None) -> str:
    """Visible text of an HTML fragment: tags, scripts and styles removed, entities decoded."""
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        # Plain text (most names and categories): nothing for the parser to remove or decode.
        return _NEWLINES.sub("\n", _SPACES.sub(" ", value)).strip()
    parser = _Text()
    parser.feed(value)
    parser.close()
    text = html.unescape("".join(parser.parts))
    text = _SPACES.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()


def localized(value: Any) -> dict[str, str]:
    """A language object as {lang: text}; a plain string (POST shape) counts for every language."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if v is not None}
    if isinstance(value, str):
        return {"es": value}
    return {}


def pick(value: dict[str, str], main: str | None) -> str:
    for lang in (main, *LANG_PREFERENCE):
        if lang and value.get(lang):
            return value[lang]
    return next((v for v in value.values() if v), "")


def money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() and d >= 0 else None


def parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    v = value.strip()
    if re.search(r"[+-]\d{4}$", v):  # 2022-02-23T12:25:18+0000
        v = v[:-2] + ":" + v[-2:]
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None


def map_product(
    raw: dict[str, Any], *, main_language: str | None = None, store_url: str | None = None
) -> dict[str, Any]:
    """Column values for one product. Raises ValueError when the body has no usable id."""
    pid = raw.get("id")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        raise ValueError("product without a valid id")
    names = {k: strip_html(v) for k, v in localized(raw.get("name")).items()}
    names = {k: v[:500] for k, v in names.items() if v}
    descriptions = {k: strip_html(v)[:20_000] for k, v in localized(raw.get("description")).items()}
    descriptions = {k: v for k, v in descriptions.items() if v}
    handles = localized(raw.get("handle"))
    attributes = [pick(localized(a), main_language) for a in raw.get("attributes") or []]
    categories = [
        strip_html(pick(localized(c.get("name")), main_language))
        for c in raw.get("categories") or []
        if isinstance(c, dict)
    ]
    categories = [c for c in categories if c]

    variants: list[dict[str, Any]] = []
    skus: list[str] = []
    stock_total: int | None = 0
    prices: list[Decimal] = []
    promos: list[Decimal] = []
    for v in raw.get("variants") or []:
        if not isinstance(v, dict):
            continue
        values = [pick(localized(x), main_language) for x in v.get("values") or []]
        price = money(v.get("price"))
        promo = money(v.get("promotional_price"))
        managed = bool(v.get("stock_management", True))
        stock = v.get("stock")
        stock = (
            int(stock)
            if managed and isinstance(stock, int | float | str) and str(stock).lstrip("-").isdigit()
            else None
        )
        sku = str(v["sku"]).strip() if v.get("sku") else None
        if sku:
            skus.append(sku)
        if stock is None:
            stock_total = None
        elif stock_total is not None:
            stock_total += max(stock, 0)
        if price is not None:
            prices.append(price)
        if promo is not None and (price is None or promo < price):
            promos.append(promo)
        variants.append(
            {
                "id": v.get("id"),
                "sku": sku,
                "price": str(price) if price is not None else None,
                "promotional_price": str(promo) if promo is not None else None,
                "stock": stock,  # null = unlimited (stock not managed)
                "values": values,
                "options": dict(zip(attributes, values, strict=False)) if attributes else {},
            }
        )
    images = sorted(
        (i for i in raw.get("images") or [] if isinstance(i, dict) and i.get("src")),
        key=lambda i: i.get("position") or 0,
    )
    handle = pick(handles, main_language) or None
    url = raw.get("canonical_url") or (
        f"{store_url.rstrip('/')}/productos/{handle}/" if store_url and handle else None
    )
    name_text = " / ".join(dict.fromkeys(names.values()))
    search_parts = [
        *descriptions.values(),
        " ".join(categories),
        " ".join(dict.fromkeys(x for v in variants for x in v["values"] if x)),
        " ".join(skus),
        str(raw.get("brand") or ""),
        str(raw.get("tags") or "").replace(",", " "),
    ]
    return {
        "external_id": pid,
        "handle": handle[:300] if handle else None,
        "name": names,
        "description": descriptions,
        "name_text": name_text,
        "search_text": "\n".join(p for p in search_parts if p.strip()),
        "categories": categories,
        "skus": list(dict.fromkeys(skus)),
        "variants": variants,
        "price": min(prices) if prices else None,
        "promotional_price": min(promos) if promos else None,
        "stock": stock_total if variants else None,
        "image_url": str(images[0]["src"]) if images else None,
        "url": str(url) if url else None,
        "published": bool(raw.get("published", True)),
        "source_updated_at": parse_ts(raw.get("updated_at")),
    }
