"""Checks on both sides of the model: language, intents that need a person, and the reply's facts.

A reply may only state prices, stock figures, percentages and URLs that appear in this turn's tool
results; it must not quote the system prompt. The model is told so, and this module checks it
after generation (a prompt-injected "now it costs $1" is caught here, whatever the model did).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any


def fold(text: str) -> str:
    d = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in d if not unicodedata.combining(c))


# ---- language ------------------------------------------------------------------------------
# Short chat messages defeat statistical detectors; distinctive function words and spelling
# do well on es/pt/en, the three languages the store's customers write in.
_ES = set(
    """hola buenas buenos quiero queria quisiera tenes tienes tienen tiene cuanto cuesta cuestan precio
    gracias donde esta estan mi mis pedido el los las una unos para con que como necesito busco hay si
    tambien muy pero ustedes usted vos envio envian talle talles zapatillas remera campera llega puedo
    dias hoy manana ayer compra comprar cuando porque este esta eso del al y o es son se lo le
    ya tengo""".split()
)
_PT = set(
    """ola oi quero queria gostaria voce voces quanto custa custam preco obrigado obrigada onde esta estao
    meu minha meus minhas pedido uma umas para com que como preciso procuro tem tenho sim tambem muito
    mas frete entrega tenis camiseta chega posso dias hoje amanha ontem compra comprar quando porque
    este esse isso do da dos das no na nos nas em e sao um nao vcs tamanho encomenda""".split()
)
_EN = set(
    """hi hello hey the want would like you have how much price thanks thank where is are my order for
    with what need looking do does can i shoes shirt jacket when why this that of in and it please
    size shipping delivery buy""".split()
)


def detect_language(texts: Iterable[str], default: str = "es") -> str:
    scores = {"es": 0.0, "pt": 0.0, "en": 0.0}
    for text in texts:
        low = text.lower()
        scores["es"] += 2 * len(re.findall(r"[ñ¿¡]", low))
        scores["pt"] += 2 * len(re.findall(r"[ãõç]|ção|ções|nh[aeo]|lh[aeo]", low))
        for w in re.findall(r"[a-z]+", fold(text)):
            scores["es"] += w in _ES
            scores["pt"] += w in _PT
            scores["en"] += w in _EN
    best = max(scores, key=lambda k: scores[k])
    if scores[best] == 0 or list(scores.values()).count(scores[best]) > 1:
        return default if default in scores else "es"
    return best


# ---- intents that go to a person -----------------------------------------------------------
_HUMAN = re.compile(
    r"\b(humano|persona|alguien real|asesor|asesora|operador|operadora|vendedor|vendedora|atendente|"
    r"pessoa|alguem|human|real person|representative|agente real|hablar con (?:alguien|una persona)|"
    r"falar com (?:alguem|uma pessoa|um atendente))\b"
)
_ANGER = re.compile(
    r"\b(estafa|estafadores|fraude|verguenza|pesimo|pesima|horrible|denuncia|denunciar|defensa del "
    r"consumidor|inaceptable|indignado|indignada|una burla|golpe|golpista|pessimo|pessima|horrivel|"
    r"palhacada|absurdo|procon|reclame aqui|scam|terrible|worst|furious|ridiculous)\b"
)
_CONFUSED = re.compile(
    r"\b(no me entendes|no entendes|no entendiste|nao entendeu|voce nao entende|you don.t understand)\b"
)


def needs_person(new_texts: list[str], history_customer: list[str]) -> str | None:
    """Why this turn should go to a person (asked for one, anger, the bot keeps failing), else None."""
    joined = " ".join(new_texts)
    folded = fold(joined)
    if _HUMAN.search(folded):
        return "customer asked for a person"
    letters = [c for c in joined if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    if _ANGER.search(folded) or (shouting and "!!" in joined):
        return "customer is upset"
    if _CONFUSED.search(folded):
        return "customer says the assistant does not understand"
    repeats = [h for h in history_customer[-6:] if fold(h).strip() == folded.strip()]
    if folded.strip() and len(repeats) >= 2:
        return "customer repeated the same message three times"
    return None


# ---- facts in the reply --------------------------------------------------------------------
_MONEY = re.compile(
    r"(?:R\$|US\$|U\$S|\$|ARS|BRL|USD|MXN|CLP|COP|UYU|€)\s?(\d[\d.,]*\d|\d)"
    r"|(\d[\d.,]*\d|\d)\s?(?:pesos|reais|reales|d[oó]lares|dollars|euros)\b",
    re.IGNORECASE,
)
_STOCK = re.compile(
    r"(\d+)\s*(?:unidades|unidad|u\.|en stock|disponibles|units?|in stock|em estoque|pe[cç]as|pares)"
    r"|(?:quedan|quedan solo|hay|restan|temos|tenemos|restam|only|there are)\s+(\d+)\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s?%")
_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)


def parse_number(raw: str) -> Decimal | None:
    """'8.999,50', '8,999.50', '8999.50', '54.999' (es thousands) -> Decimal."""
    s = raw.strip().rstrip(".,")
    if "." in s and "," in s:
        dec = "," if s.rfind(",") > s.rfind(".") else "."
        s = s.replace("." if dec == "," else ",", "").replace(dec, ".")
    elif "," in s or "." in s:
        sep = "," if "," in s else "."
        head, *groups = s.split(sep)
        if all(len(g) == 3 for g in groups) and (len(groups) > 1 or len(head) <= 3):
            s = s.replace(sep, "")  # thousands separators
        else:
            s = s.replace(",", ".")
    try:
        return Decimal(s).normalize()
    except InvalidOperation:
        return None


_NO_FIGURES = frozenset(
    {
        "id",
        "product_id",
        "customer_id",
        "sku",
        "skus",
        "url",
        "image_url",
        "tracking_url",
        "shipping_tracking_url",
        "status_url",
        "created_at",
        "updated_at",
        # Cart and checkout answers: a quantity or an id is no licence to state a price ("$ 1").
        "variant_id",
        "draft_order_id",
        "order_id",
        "quantity",
        "valid_until",
    }
)


def _collect(value: Any, numbers: set[Decimal], urls: set[str], key: str = "") -> None:
    """Figures a reply may quote: numbers of price/stock/total-like fields and text, every URL.
    Ids, SKUs and dates are skipped: their digits are no licence to state a price."""
    if isinstance(value, dict):
        for k, v in value.items():
            _collect(v, numbers, urls, str(k))
    elif isinstance(value, list):
        for v in value:
            _collect(v, numbers, urls, key)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float | Decimal):
        if key not in _NO_FIGURES:
            numbers.add(Decimal(str(value)).normalize())
    elif isinstance(value, str):
        found = _URL.findall(value)
        for u in found:
            urls.add(u.rstrip(".,;:!?").rstrip("/"))
        if key in _NO_FIGURES:
            return
        rest = _URL.sub(" ", value)
        for m in re.findall(r"\d[\d.,]*\d|\d", rest):
            n = parse_number(m)
            if n is not None:
                numbers.add(n)


def allowed_facts(tool_results: list[Any]) -> tuple[set[Decimal], set[str]]:
    numbers: set[Decimal] = set()
    urls: set[str] = set()
    for r in tool_results:
        _collect(r, numbers, urls)
    return numbers, urls


def fact_violations(reply: str, tool_results: list[Any]) -> list[str]:
    """Prices, stock figures, percentages and URLs in `reply` that no tool result of this turn gave."""
    numbers, urls = allowed_facts(tool_results)
    bad: list[str] = []
    for m in _MONEY.finditer(reply):
        n = parse_number(m.group(1) or m.group(2))
        if n is not None and n not in numbers:
            bad.append(f"price {m.group(0).strip()}")
    for m in _STOCK.finditer(reply):
        n = parse_number(m.group(1) or m.group(2))
        if n is not None and n not in numbers:
            bad.append(f"stock {m.group(0).strip()}")
    for m in _PERCENT.finditer(reply):
        n = parse_number(m.group(1))
        if n is not None and n not in numbers:
            bad.append(f"percentage {m.group(0).strip()}")
    for u in _URL.findall(reply):
        if u.rstrip(".,;:!?").rstrip("/") not in urls:
            bad.append("url not from the catalog")
    return bad


def leaks_prompt(reply: str, system_prompt: str, canary: str) -> bool:
    if canary in reply:
        return True
    low = " ".join(reply.lower().split())
    for line in system_prompt.splitlines():
        line = " ".join(line.lower().split())
        if len(line) >= 40 and line in low:
            return True
    return False
