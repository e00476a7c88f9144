"""A wider question set for the demo catalog: how customers outside Argentina write.

Written for issue 14 from other sources than the tuned set (`retrieval_questions.py`): regional
vocabulary of Mexico, Chile, Colombia, Peru and Brazil for the same products, needs described
without naming the product, misspellings, Portuguese, and attributes (colour, gender, a price
ceiling such as "menos de 20 mil").

Two parts:
- DEV may be looked at while improving retrieval;
- HELDOUT is never used for tuning: it is only measured and reported beside DEV. A change that
  helps DEV but not HELDOUT is tuning to the questions, not a better method.

Filters as in `retrieval_questions.py`, plus: a list value means "any of these", and
`max_price` keeps products at or under that price (the question names a ceiling).
"""

from __future__ import annotations

from typing import Any

# (question, language, kind, source, filters)
W = tuple[str, str, str, str, dict[str, Any]]

DEV: list[W] = [
    # --- regional vocabulary ---------------------------------------------------------------
    (
        "¿tienen playeras de manga larga?",
        "es",
        "regional",
        "MX",
        {"category": "remeras", "style": "manga larga"},
    ),
    ("busco tenis para correr", "es", "regional", "MX", {"category": "zapatillas", "style": "running"}),
    (
        "una chamarra inflable para el frío",
        "es",
        "regional",
        "MX",
        {"category": "camperas", "style": "inflable"},
    ),
    ("sudadera oversize", "es", "regional", "MX", {"category": "buzos", "style": "oversize"}),
    ("alberca inflable", "es", "regional", "MX", {"category": "piletas", "style": "inflable"}),
    ("polera estampada", "es", "regional", "CL", {"category": "remeras", "style": "estampada"}),
    ("polerón canguro", "es", "regional", "CL", {"category": "buzos", "style": "canguro"}),
    ("jockey trucker", "es", "regional", "CL", {"category": "gorras", "style": "trucker"}),
    ("chaqueta de cuero", "es", "regional", "CO", {"category": "camperas", "style": "de cuero"}),
    ("gafas polarizadas", "es", "regional", "CO", {"category": "anteojos", "style": "polarizados"}),
    ("casaca rompevientos", "es", "regional", "PE", {"category": "camperas", "style": "rompeviento"}),
    ("jaqueta de couro", "pt", "regional", "BR", {"category": "camperas", "style": "de cuero"}),
    ("chinelo acolchoado", "pt", "regional", "BR", {"category": "ojotas", "style": "acolchadas"}),
    # --- needs described without naming the product ----------------------------------------
    (
        "algo para no mojarme cuando llueve",
        "es",
        "need",
        "AR",
        {"category": "camperas", "style": "impermeable"},
    ),
    (
        "para llevar la compu a la facu",
        "es",
        "need",
        "AR",
        {"category": "mochilas", "style": "porta notebook"},
    ),
    ("para ir a correr al parque", "es", "need", "AR", {"category": "zapatillas", "style": "running"}),
    (
        "algo para que no se me enfríen los pies",
        "es",
        "need",
        "AR",
        {"category": "medias", "style": "térmicas"},
    ),
    ("para cubrir la pileta cuando no la usamos", "es", "need", "AR", {"name": "Cobertor para pileta"}),
    ("pra levar café quente pro trabalho", "pt", "need", "BR", {"category": "termos"}),
    # --- typos ---------------------------------------------------------------------------------
    ("sapatillas urbanas", "es", "typo", "AR", {"category": "zapatillas", "style": "urbanas"}),
    ("canpera polar", "es", "typo", "AR", {"category": "camperas", "style": "polar"}),
    ("mochila escolr", "es", "typo", "AR", {"category": "mochilas", "style": "escolar"}),
    ("gorra snapbak", "es", "typo", "AR", {"category": "gorras", "style": "snapback"}),
    # --- attributes ------------------------------------------------------------------------------
    (
        "remera roja de mujer",
        "es",
        "attribute",
        "AR",
        {"category": "remeras", "color": "rojo", "gender": "mujer"},
    ),
    (
        "zapatillas negras para hombre",
        "es",
        "attribute",
        "AR",
        {"category": "zapatillas", "color": "negro", "gender": "hombre"},
    ),
    ("ojotas por menos de 8 mil", "es", "attribute", "AR", {"category": "ojotas", "max_price": 8000}),
    ("medias hasta $3000", "es", "attribute", "AR", {"category": "medias", "max_price": 3000}),
    (
        "camiseta azul masculina",
        "pt",
        "attribute",
        "BR",
        {"category": "remeras", "color": "azul", "gender": "hombre"},
    ),
]

HELDOUT: list[W] = [
    # --- regional vocabulary ---------------------------------------------------------------
    (
        "playera blanca de mujer",
        "es",
        "regional",
        "MX",
        {"category": "remeras", "color": "blanco", "gender": "mujer"},
    ),
    ("chamarra de mezclilla", "es", "regional", "MX", {"category": "camperas", "style": "de jean"}),
    (
        "tenis de bota para senderismo",
        "es",
        "regional",
        "MX",
        {"category": "zapatillas", "style": "trekking"},
    ),
    ("cachucha con visera", "es", "regional", "MX", {"category": "gorras", "style": "con visera"}),
    ("chanclas de hule", "es", "regional", "MX", {"category": "ojotas", "style": "de goma"}),
    ("parka impermeable", "es", "regional", "CL", {"category": "camperas", "style": "impermeable"}),
    ("chalas con tira", "es", "regional", "CL", {"category": "ojotas", "style": "con tira"}),
    ("piscina estructural", "es", "regional", "CL", {"category": "piletas", "style": "estructural"}),
    ("bluyín skinny", "es", "regional", "CO", {"category": "jeans", "style": "skinny"}),
    ("vestido de baño enterizo", "es", "regional", "CO", {"category": "mallas", "style": "enteriza"}),
    ("tenis de basquetbol", "es", "regional", "CO", {"category": "zapatillas", "style": "de básquet"}),
    ("polo de lino", "es", "regional", "PE", {"category": "remeras", "style": "de lino"}),
    ("casaca polar", "es", "regional", "PE", {"category": "camperas", "style": "polar"}),
    ("ropa de baño bikini", "es", "regional", "PE", {"category": "mallas", "style": "bikini"}),
    ("moletom oversize", "pt", "regional", "BR", {"category": "buzos", "style": "oversize"}),
    ("tênis de basquete", "pt", "regional", "BR", {"category": "zapatillas", "style": "de básquet"}),
    ("boné de lã", "pt", "regional", "BR", {"category": "gorras", "style": "de lana"}),
    ("sunga de praia", "pt", "regional", "BR", {"category": "mallas"}),
    # --- needs described without naming the product ----------------------------------------
    ("algo para tomar mate en la plaza", "es", "need", "AR", {"category": "termos"}),
    ("para que los nenes se refresquen en el patio", "es", "need", "AR", {"category": "piletas"}),
    ("necesito algo para el sol en los ojos", "es", "need", "AR", {"category": "anteojos"}),
    ("para taparme la cabeza del sol", "es", "need", "AR", {"category": "gorras"}),
    (
        "algo para limpiar el agua de la pile",
        "es",
        "need",
        "AR",
        {"name": ["Filtro para pileta", "Bomba depuradora para piscina", "Cloro granulado para pileta"]},
    ),
    ("para caminar por la montaña", "es", "need", "AR", {"category": "zapatillas", "style": "trekking"}),
    ("pra não me molhar na chuva", "pt", "need", "BR", {"category": "camperas", "style": "impermeable"}),
    (
        "pra levar o notebook na faculdade",
        "pt",
        "need",
        "BR",
        {"category": "mochilas", "style": "porta notebook"},
    ),
    # --- typos ---------------------------------------------------------------------------------
    ("buzo con capuch", "es", "typo", "AR", {"category": "buzos", "style": "con capucha"}),
    ("zapatillaz de lona", "es", "typo", "AR", {"category": "zapatillas", "style": "de lona"}),
    ("anteojos aviadr", "es", "typo", "AR", {"category": "anteojos", "style": "aviador"}),
    ("pantalon palaso", "es", "typo", "AR", {"category": "pantalones", "style": "palazzo"}),
    ("mallas tiro alto", "es", "typo", "AR", {"category": "mallas", "style": "tiro alto"}),
    ("termo de 1 litro", "es", "typo", "AR", {"category": "termos", "style": "de 1 litro"}),
    # --- attributes ------------------------------------------------------------------------------
    (
        "buzo verde de hombre",
        "es",
        "attribute",
        "AR",
        {"category": "buzos", "color": "verde", "gender": "hombre"},
    ),
    (
        "jean celeste de mujer",
        "es",
        "attribute",
        "AR",
        {"category": "jeans", "color": "celeste", "gender": "mujer"},
    ),
    ("gorra por menos de 10 mil", "es", "attribute", "AR", {"category": "gorras", "max_price": 10000}),
    ("remeras hasta 8000 pesos", "es", "attribute", "AR", {"category": "remeras", "max_price": 8000}),
    (
        "tênis vermelho feminino",
        "pt",
        "attribute",
        "BR",
        {"category": "zapatillas", "color": "rojo", "gender": "mujer"},
    ),
    ("meias até 2 mil", "pt", "attribute", "BR", {"category": "medias", "max_price": 2000}),
]
