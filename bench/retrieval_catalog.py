"""A deterministic demo catalog (an Argentine clothing and summer store), any size, same seed.

Products carry the attributes the labelled questions filter on (category, style, colour,
gender, brand), so relevance is computed from the catalog instead of typed by hand.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

# category -> (noun es, styles, price range, code)
CATEGORIES: dict[str, tuple[str, list[str], tuple[int, int], str]] = {
    "remeras": (
        "Remera",
        ["básica", "oversize", "estampada", "deportiva", "manga larga", "de lino"],
        (6000, 19000),
        "REM",
    ),
    "zapatillas": (
        "Zapatillas",
        ["running", "urbanas", "de básquet", "trekking", "de lona", "skate"],
        (35000, 140000),
        "ZAP",
    ),
    "camperas": (
        "Campera",
        ["rompeviento", "de cuero", "inflable", "de jean", "polar", "impermeable"],
        (40000, 180000),
        "CAM",
    ),
    "buzos": (
        "Buzo",
        ["canguro", "con capucha", "de frisa", "cuello redondo", "oversize"],
        (22000, 60000),
        "BUZ",
    ),
    "piletas": (
        "Pileta",
        ["estructural", "inflable", "de lona", "redonda", "rectangular"],
        (50000, 600000),
        "PIL",
    ),
    "pantalones": ("Pantalón", ["cargo", "de vestir", "jogger", "chino", "palazzo"], (20000, 55000), "PAN"),
    "jeans": ("Jean", ["mom", "recto", "skinny", "wide leg", "elastizado"], (30000, 70000), "JEA"),
    "mallas": ("Malla", ["enteriza", "bikini", "short de baño", "tiro alto"], (15000, 45000), "MAL"),
    "mochilas": ("Mochila", ["urbana", "escolar", "de viaje", "porta notebook"], (18000, 80000), "MOC"),
    "ojotas": ("Ojotas", ["de goma", "con tira", "playeras", "acolchadas"], (5000, 18000), "OJO"),
    "medias": ("Medias", ["deportivas", "soquetes", "largas", "térmicas"], (1500, 6000), "MED"),
    "gorras": ("Gorra", ["trucker", "con visera", "snapback", "de lana"], (8000, 25000), "GOR"),
    "anteojos": (
        "Anteojos de sol",
        ["aviador", "polarizados", "redondos", "deportivos"],
        (20000, 90000),
        "ANT",
    ),
    "termos": ("Termo", ["de acero", "con pico matero", "de 1 litro", "de 500 ml"], (15000, 70000), "TER"),
}
# The pool's accessories: not clothing, no colour/gender in the name.
POOL_EXTRAS = [
    ("Filtro para pileta", "piletas"),
    ("Cobertor para pileta", "piletas"),
    ("Bomba depuradora para piscina", "piletas"),
    ("Cloro granulado para pileta", "piletas"),
]
COLORS = ["negro", "blanco", "rojo", "azul", "verde", "gris", "rosa", "beige", "celeste", "bordó"]
GENDERED = {"remeras", "zapatillas", "camperas", "buzos", "pantalones", "jeans", "mallas", "ojotas", "medias"}
GENDERS = ["hombre", "mujer", "niños"]
BRANDS = ["Andina", "Pampa", "Austral", "Tropical", "Litoral", "Cumbre", "Patagonia Sur", "Delta"]
SIZES = {"zapatillas": ["36", "38", "40", "42", "44"], "default": ["S", "M", "L", "XL"]}
MATERIALS = {
    "remeras": "algodón peinado",
    "zapatillas": "capellada de malla respirable y suela de goma",
    "camperas": "tela técnica con forro",
    "buzos": "frisa de algodón",
    "pantalones": "gabardina",
    "jeans": "denim",
    "mallas": "lycra de secado rápido",
    "mochilas": "poliéster reforzado",
    "gorras": "gabardina de algodón",
}


@dataclass
class DemoProduct:
    external_id: int
    name: str
    category: str
    style: str
    color: str | None
    gender: str | None
    brand: str
    sku: str
    price: Decimal
    stock: int | None
    published: bool
    description: str
    variants: list[dict[str, object]] = field(default_factory=list)


def generate(n: int, seed: int = 7) -> list[DemoProduct]:
    rng = random.Random(seed)
    cats = list(CATEGORIES)
    out: list[DemoProduct] = []
    for i in range(n):
        if i % 50 == 49:
            name, cat = POOL_EXTRAS[(i // 50) % len(POOL_EXTRAS)]
            style, color, gender = "accesorio", None, None
            noun = name
        else:
            cat = cats[i % len(cats)]
            noun, styles, _, _ = CATEGORIES[cat]
            style = rng.choice(styles)
            color = rng.choice(COLORS)
            gender = rng.choice(GENDERS) if cat in GENDERED else None
            name = f"{noun} {style}"
        brand = rng.choice(BRANDS)
        lo, hi = CATEGORIES[cat][2]
        price = Decimal(rng.randrange(lo, hi, 100))
        title = name if color is None else f"{name} {brand} {color}"
        if gender:
            title += f" {gender}"
        sku = f"{CATEGORIES[cat][3]}-{i:05d}"
        material = MATERIALS.get(cat, "materiales de primera calidad")
        sizes = SIZES.get(cat, SIZES["default"]) if cat in GENDERED else []
        desc = (
            f"<p>{title}. Confeccionado en {material}.</p>"
            f"<p>{'Talles ' + ', '.join(sizes) + '. ' if sizes else ''}Envíos a todo el país.</p>"
        )
        roll = rng.random()
        stock = 0 if roll < 0.08 else None if roll > 0.95 else rng.randrange(1, 40)
        variants = [{"values": [s], "sku": f"{sku}-{s}", "stock": stock} for s in sizes]
        out.append(
            DemoProduct(
                external_id=100000 + i,
                name=title,
                category=cat,
                style=style,
                color=color,
                gender=gender,
                brand=brand,
                sku=sku,
                price=price,
                stock=stock,
                published=rng.random() > 0.04,
                description=desc,
                variants=variants,
            )
        )
    return out
