"""Regional synonyms: one customer's "remera" is another's "camiseta", "playera" or "camisa".

A tenant's list lives in `tenants.settings["synonyms"]` as a list of groups (each a list of
words or short phrases that mean the same product). A tenant without its own list gets the seed
below (Latin American Spanish and Brazilian Portuguese); `seed()` copies it into settings so
staff can edit it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .text import fold, is_stopword

DEFAULT_SYNONYMS: list[list[str]] = [
    ["remera", "camiseta", "playera", "polera", "franela", "musculosa", "t-shirt"],
    ["zapatillas", "tenis", "tênis", "deportivas", "championes", "sapatilha", "zapatos deportivos"],
    ["campera", "chaqueta", "chamarra", "casaca", "jaqueta", "casaco", "cazadora"],
    ["buzo", "sudadera", "poleron", "polerón", "canguro", "hoodie", "moletom", "blusa de frio"],
    ["pileta", "piscina", "alberca"],
    ["pantalon", "pantalón", "calça", "calca"],
    ["jean", "jeans", "vaquero", "vaqueros", "mezclilla"],
    ["anteojos", "lentes", "gafas", "óculos"],
    ["malla", "traje de baño", "bañador", "biquini", "bikini", "biquíni", "maiô", "sunga"],
    ["mochila", "morral"],
    ["ojotas", "chanclas", "chinelas", "chinelo", "havaianas", "sandalias", "sandália"],
    ["medias", "calcetines", "soquetes", "meias"],
    ["pollera", "falda", "saia"],
    ["gorra", "cachucha", "boné", "bone", "jockey"],
    ["bermuda", "short", "shorts", "pantalón corto"],
    ["heladera", "nevera", "refrigerador", "geladeira"],
    ["celular", "movil", "móvil", "telefono", "teléfono", "celu"],
    ["cartera", "bolso", "bolsa"],
    ["billetera", "cartera de mano", "carteira"],
    ["campera de lluvia", "impermeable", "piloto", "capa de chuva"],
    ["termo", "garrafa térmica"],
    ["niño", "niños", "chicos", "infantil", "criança", "crianças", "menino", "menina", "nena", "nene"],
    ["mujer", "dama", "femenino", "feminino", "mulher"],
    ["hombre", "caballero", "masculino", "homem"],
    ["barato", "económico", "economico", "oferta", "promo", "promoção", "liquidación"],
    ["inflable", "inflavel", "inflável", "puffer"],
    # Colours and common product words across Spanish and Portuguese.
    ["negro", "negra", "preto", "preta", "black"],
    ["blanco", "blanca", "branco", "branca", "white"],
    ["rojo", "roja", "vermelho", "vermelha", "red"],
    ["gris", "cinza", "gray", "grey"],
    ["bordó", "bordo", "bordô", "vinho", "vino"],
    ["celeste", "azul claro", "azul bebe"],
    ["cuero", "couro", "piel"],
    ["capucha", "capuz"],
    ["running", "correr", "corrida", "runner"],
    ["trekking", "trilha", "senderismo", "montaña"],
    ["goma", "borracha", "caucho"],
    ["acero", "aço", "inoxidable", "inox"],
    ["tiro alto", "cintura alta"],
    ["manga larga", "manga longa"],
    ["deportiva", "deportivas", "deportivos", "esportiva", "esportivas", "esportivo"],
    ["enteriza", "entera", "inteiro", "inteira"],
    ["cobertor", "cubierta", "capa", "cobertura"],
    ["urbana", "urbanas", "urbano", "casual"],
    ["canguro", "canguru"],
]


def seed(settings: dict[str, Any]) -> dict[str, Any]:
    """Return settings with the default synonym list added when the tenant has none."""
    if not settings.get("synonyms"):
        settings = {**settings, "synonyms": [list(g) for g in DEFAULT_SYNONYMS]}
    return settings


def groups_for(settings: Mapping[str, Any] | None) -> list[list[str]]:
    raw = (settings or {}).get("synonyms")
    if isinstance(raw, list) and raw:
        return [[str(w) for w in g if isinstance(w, str) and w.strip()] for g in raw if isinstance(g, list)]
    return DEFAULT_SYNONYMS


def _alnum(word: str) -> str:
    return "".join(ch for ch in word if ch.isalnum())


_FOLDED: dict[int, list[tuple[list[str], list[str]]]] = {}


def _folded(groups: Iterable[Iterable[str]]) -> list[tuple[list[str], list[str]]]:
    """Each group's members folded two ways (spaces kept; letters and digits only), cached per
    distinct list: folding every synonym on every search cost more than the search's SQL."""
    frozen = tuple(tuple(g) for g in groups)
    key = hash(frozen)
    out = _FOLDED.get(key)
    if out is None:
        out = []
        for group in frozen:
            spaced = [" ".join(fold(w).split()) for w in group]
            alnum = [" ".join(_alnum(t) for t in fold(m).split()) for m in group]
            out.append((spaced, [m for m in alnum if m]))
        if len(_FOLDED) > 256:
            _FOLDED.clear()
        _FOLDED[key] = out
    return out


def expand(query: str, groups: Iterable[Iterable[str]]) -> list[str]:
    """The synonyms (folded) of every word or phrase of `query` found in a group, not in the query."""
    folded = f" {' '.join(fold(query).split())} "
    extra: list[str] = []
    for members, _ in _folded(groups):
        if any(f" {m} " in folded for m in members if m):
            extra.extend(m for m in members if m and f" {m} " not in folded and m not in extra)
    return extra


def term_groups(query: str, groups: Iterable[Iterable[str]], stopwords: frozenset[str]) -> list[list[str]]:
    """The query as groups of alternatives: each synonym group the query touches becomes one group
    (all its members), every other meaningful word its own group. Folded, in query order."""
    # Each word folded for matching, and as typed for the stopword check ("lã" is not "la").
    pairs = [(w, _alnum(fold(w))) for w in query.lower().replace("-", " ").split()]
    typed = [_alnum(w) for w, f in pairs if f]
    words = [f for _, f in pairs if f]
    text = f" {' '.join(words)} "
    used = [False] * len(words)
    out: list[tuple[int, list[str]]] = []
    for _, members in _folded(groups):
        hit = next((m for m in sorted(members, key=len, reverse=True) if f" {m} " in text), None)
        if hit is None:
            continue
        n = len(hit.split())
        for i in range(len(words) - n + 1):
            if " ".join(words[i : i + n]) == hit and not any(used[i : i + n]):
                for j in range(i, i + n):
                    used[j] = True
                out.append((i, list(dict.fromkeys(members))))
                break
    for i, w in enumerate(words):
        if not used[i] and len(w) >= 2 and not is_stopword(typed[i], stopwords):
            out.append((i, [w]))
    return [g for _, g in sorted(out, key=lambda x: x[0])]


_PHRASE_WORDS: dict[int, dict[str, int]] = {}


def _phrase_words(groups: list[list[str]], stopwords: frozenset[str]) -> dict[str, int]:
    """Content word of a multi-word member -> its group's index, for the words that are no
    single-word member of any group and occur in the phrases of one group only ("lluvia" of
    "campera de lluvia", "chuva" of "capa de chuva"; not "campera", itself a member)."""
    key = hash((tuple(tuple(g) for g in groups), stopwords))
    out = _PHRASE_WORDS.get(key)
    if out is None:
        folded = _folded(groups)
        singles = {m for _, alnum in folded for m in alnum if " " not in m}
        seen: dict[str, set[int]] = {}
        for i, (_, alnum) in enumerate(folded):
            for m in alnum:
                if " " in m:
                    for w in m.split():
                        if len(w) >= 3 and w not in singles and not is_stopword(w, stopwords):
                            seen.setdefault(w, set()).add(i)
        out = {w: next(iter(ix)) for w, ix in seen.items() if len(ix) == 1}
        if len(_PHRASE_WORDS) > 256:
            _PHRASE_WORDS.clear()
        _PHRASE_WORDS[key] = out
    return out


def phrase_groups(
    words: Iterable[str],
    groups: list[list[str]],
    stopwords: frozenset[str],
    known: Callable[[str], bool] | None = None,
) -> list[list[str]]:
    """The synonym groups that words the catalog does not contain point to through a phrase:
    "pra não me molhar na **chuva**" names no product, but "chuva" is a word of "capa de chuva",
    so the group of rain jackets is a likely meaning. Weaker than a member: the caller feeds
    these groups to the vector query and to full text as partial evidence, never as a match of
    the word itself. `known`: the catalog's words (`Vocabulary.known`), which are matched as
    themselves ("manga" of "manga larga" in "remera manga corta"). Groups in the words' order,
    folded members, no repeats."""
    index = _phrase_words(groups, stopwords)
    folded = _folded(groups)
    out: list[list[str]] = []
    for w in words:
        word = "".join(ch for ch in fold(w) if ch.isalnum())
        i = index.get(word)
        if i is not None and not (known is not None and known(word)):
            members = list(dict.fromkeys(folded[i][1]))
            if members not in out:
                out.append(members)
    return out
