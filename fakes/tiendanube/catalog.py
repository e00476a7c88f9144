"""Deterministic (seeded) Spanish/Argentine catalog, customers and orders for the fake store."""

from __future__ import annotations

import random
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from .state import FakeTiendanube, Store

# category -> (product kinds, attribute names, value lists, price range in ARS)
CATEGORIES: dict[str, dict[str, Any]] = {
    "Remeras": {
        "kinds": ["Remera lisa", "Remera estampada", "Remera oversize", "Musculosa", "Remera manga larga"],
        "attrs": ["Talle", "Color"],
        "values": [["S", "M", "L", "XL"], ["Blanco", "Negro", "Gris melange", "Azul marino", "Verde oliva"]],
        "price": (9000, 24000),
        "desc": "Remera de algodón peinado 24/1, suave y fresca. Costuras reforzadas.",
    },
    "Zapatillas": {
        "kinds": ["Zapatillas urbanas", "Zapatillas running", "Zapatillas de lona", "Zapatillas skate"],
        "attrs": ["Talle", "Color"],
        "values": [
            ["36", "37", "38", "39", "40", "41", "42", "43", "44"],
            ["Blanco", "Negro", "Rojo", "Azul"],
        ],
        "price": (45000, 140000),
        "desc": "Zapatillas con suela de goma antideslizante y plantilla acolchada.",
    },
    "Camperas": {
        "kinds": ["Campera de jean", "Campera inflable", "Campera rompeviento", "Campera de cuero eco"],
        "attrs": ["Talle", "Color"],
        "values": [["S", "M", "L", "XL"], ["Negro", "Azul", "Beige", "Verde militar"]],
        "price": (55000, 160000),
        "desc": "Campera abrigada ideal para el invierno porteño, con bolsillos laterales.",
    },
    "Buzos": {
        "kinds": ["Buzo canguro", "Buzo cuello redondo", "Buzo polar", "Hoodie oversize"],
        "attrs": ["Talle", "Color"],
        "values": [["S", "M", "L", "XL", "XXL"], ["Gris", "Negro", "Bordó", "Celeste"]],
        "price": (28000, 65000),
        "desc": "Buzo de frisa invisible, interior afelpado y puños elastizados.",
    },
    "Pantalones": {
        "kinds": ["Jean mom", "Jean recto", "Jogger de algodón", "Pantalón cargo", "Bermuda de gabardina"],
        "attrs": ["Talle"],
        "values": [["36", "38", "40", "42", "44", "46"]],
        "price": (30000, 85000),
        "desc": "Pantalón de tiro medio con cinco bolsillos y calce cómodo.",
    },
    "Accesorios": {
        "kinds": [
            "Gorra trucker",
            "Riñonera",
            "Mochila urbana",
            "Medias pack x3",
            "Cinturón de cuero",
            "Bufanda",
        ],
        "attrs": ["Color"],
        "values": [["Negro", "Marrón", "Azul", "Rosa"]],
        "price": (6000, 48000),
        "desc": "Accesorio resistente para el día a día.",
    },
    "Hogar": {
        "kinds": ["Juego de sábanas", "Toallón", "Almohadón", "Manta de polar", "Set de vasos"],
        "attrs": ["Color"],
        "values": [["Blanco", "Gris", "Terracota", "Verde salvia"]],
        "price": (12000, 70000),
        "desc": "Producto para el hogar de excelente calidad, fácil de lavar.",
    },
    "Pileta": {
        "kinds": [
            "Pileta estructural",
            "Cloro granulado",
            "Barrefondo",
            "Flotador inflable",
            "Cobertor de pileta",
        ],
        "attrs": ["Modelo"],
        "values": [["Chico", "Mediano", "Grande"]],
        "price": (8000, 450000),
        "desc": "Todo para disfrutar la pileta este verano. Envíos a todo el país.",
    },
}
ADJECTIVES = ["Clásica", "Premium", "Básica", "Vintage", "Deportiva", "Urbana", "Edición verano", "Essential"]
BRANDS = ["Nube", "Pampa", "Andes", "Río", "Patagonia Urbana", None]
FIRST = ["Ana", "Juan", "Lucía", "Martín", "Sofía", "Diego", "Valentina", "Tomás", "Camila", "Nicolás"]
LAST = ["Pérez", "González", "Rodríguez", "Fernández", "López", "Martínez", "Gómez", "Díaz", "Sosa", "Romero"]
EPOCH = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


def slug(text: str) -> str:
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in norm).split())


def ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S+0000")


def make_products(store: Store, fake: FakeTiendanube, count: int, seed: int = 7) -> None:
    """Add `count` products (ids from the fake's sequence) with variants, images and categories."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data
    cat_ids = {name: 4000 + i for i, name in enumerate(CATEGORIES)}
    names = list(CATEGORIES)
    for n in range(count):
        cat = names[n % len(names)]
        spec = CATEGORIES[cat]
        kind = rng.choice(spec["kinds"])
        adj = rng.choice(ADJECTIVES)
        title = f"{kind} {adj}" + (f" {n // len(names) + 1}" if count > 400 else "")
        pid = fake.next_id()
        handle = slug(title) + f"-{pid}"
        base = rng.randrange(spec["price"][0], spec["price"][1], 500)
        promo = int(base * 0.8) if rng.random() < 0.2 else None
        combos: list[list[str]] = [[]]
        for vals in spec["values"]:
            pick = rng.sample(vals, k=min(len(vals), rng.randint(2, 4)))
            combos = [c + [v] for c in combos for v in pick]
        out_of_stock = rng.random() < 0.08
        created = EPOCH + timedelta(minutes=n * 7)
        variants = []
        for vi, combo in enumerate(combos):
            vid = fake.next_id()
            managed = rng.random() > 0.05
            stock = 0 if out_of_stock else rng.randint(0, 25)
            variants.append(
                {
                    "id": vid,
                    "product_id": pid,
                    "price": f"{base:.2f}",
                    "promotional_price": f"{promo:.2f}" if promo else None,
                    "stock_management": managed,
                    "stock": stock if managed else None,
                    "sku": f"{slug(cat)[:3].upper()}-{pid}-{vi + 1}",
                    "values": [{"es": v} for v in combo],
                    "weight": "0.50",
                    "width": None,
                    "height": None,
                    "depth": None,
                    "barcode": None,
                    "cost": None,
                    "image_id": None,
                    "created_at": ts(created),
                    "updated_at": ts(created),
                }
            )
        brand = rng.choice(BRANDS)
        desc = (
            f"<p><strong>{title}</strong></p><p>{spec['desc']}</p>"
            f"<ul><li>Marca: {brand or 'Genérica'}</li><li>Hecho en Argentina</li></ul>"
        )
        store.products[pid] = {
            "id": pid,
            "name": {"es": title},
            "description": {"es": desc},
            "handle": {"es": handle},
            "attributes": [{"es": a} for a in spec["attrs"]],
            "published": rng.random() > 0.07,
            "free_shipping": rng.random() < 0.15,
            "requires_shipping": True,
            "brand": brand,
            "tags": f"{slug(cat)},{slug(kind)}",
            "seo_title": title,
            "seo_description": "",
            "video_url": None,
            "canonical_url": f"{store.url}/productos/{handle}/",
            "categories": [
                {
                    "id": cat_ids[cat],
                    "name": {"es": cat},
                    "handle": {"es": slug(cat)},
                    "parent": None,
                    "subcategories": [],
                }
            ],
            "images": [
                {
                    "id": fake.next_id(),
                    "product_id": pid,
                    "src": f"https://d26lpennugtm8s.cloudfront.net/stores/{store.id}/products/{handle}-640-0.jpg",
                    "position": 1,
                }
            ],
            "variants": variants,
            "created_at": ts(created),
            "updated_at": ts(created),
        }


def make_customers_and_orders(
    store: Store, fake: FakeTiendanube, customers: int = 40, orders: int = 80, seed: int = 11
) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data
    products = list(store.products.values())
    phone_styles = [
        lambda a, n: f"+54 9 11 {a}-{n}",
        lambda a, n: f"+54911{a}{n}",
        lambda a, n: f"11 {a}-{n}",
        lambda a, n: f"011 15 {a}-{n}",
    ]
    cust_list = []
    for i in range(customers):
        cid = fake.next_id()
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 3 + 1) % len(LAST)]}"
        a, n = f"{rng.randint(2000, 6999)}", f"{rng.randint(1000, 9999)}"
        phone = phone_styles[i % len(phone_styles)](a, n)
        email = f"{slug(name).replace('-', '.')}{i}@example.com"
        created = EPOCH + timedelta(days=i)
        c = {
            "id": cid,
            "name": name,
            "email": email,
            "phone": phone,
            "identification": str(30_000_000 + i * 7919),
            "note": None,
            "default_address": {
                "address": "Av. Corrientes",
                "number": str(1000 + i),
                "city": "CABA",
                "phone": phone,
            },
            "addresses": [],
            "billing_name": name,
            "extra": {},
            "total_spent": "0.00",
            "total_spent_currency": store.currency,
            "last_order_id": None,
            "active": True,
            "accepts_marketing": rng.random() < 0.5,
            "created_at": ts(created),
            "updated_at": ts(created),
        }
        store.customers[cid] = c
        cust_list.append(c)
    for k in range(orders):
        c = cust_list[k % len(cust_list)]
        oid = fake.next_id()
        lines = rng.sample(products, k=min(len(products), rng.randint(1, 3))) if products else []
        items = []
        subtotal = 0.0
        for p in lines:
            v = rng.choice(p["variants"])
            qty = rng.randint(1, 2)
            price = float(v["promotional_price"] or v["price"])
            subtotal += price * qty
            values = " / ".join(x["es"] for x in v["values"])
            items.append(
                {
                    "id": fake.next_id(),
                    "product_id": p["id"],
                    "variant_id": str(v["id"]),
                    "name": f"{p['name']['es']} ({values})" if values else p["name"]["es"],
                    "price": f"{price:.2f}",
                    "quantity": str(qty),
                    "sku": v["sku"],
                }
            )
        status = rng.choice(["open", "open", "closed", "cancelled"])
        payment = "voided" if status == "cancelled" else rng.choice(["paid", "paid", "pending", "authorized"])
        shipped = payment == "paid" and rng.random() < 0.6
        tracking = f"AR{rng.randint(10**8, 10**9 - 1)}" if shipped else None
        created = EPOCH + timedelta(days=30 + k, hours=k % 24)
        shipping = 2500.0
        order = {
            "id": oid,
            "number": 100 + k,
            "token": f"{oid:x}{k:04x}",
            "store_id": str(store.id),
            "status": status,
            "payment_status": payment,
            "shipping_status": "shipped" if shipped else rng.choice(["unpacked", "unshipped", "unfulfilled"]),
            "currency": store.currency,
            "subtotal": f"{subtotal:.2f}",
            "discount": "0.00",
            "total": f"{subtotal + shipping:.2f}",
            "contact_email": c["email"],
            "contact_phone": c["phone"],
            "customer": {
                "id": c["id"],
                "name": c["name"],
                "email": c["email"],
                "phone": c["phone"],
                "identification": c["identification"],
            },
            "products": items,
            "shipping_option": rng.choice(["Correo Argentino", "Andreani", "OCA", "Retiro en local"]),
            "shipping_tracking_number": tracking,
            "shipping_tracking_url": f"https://www.correoargentino.com.ar/seguimiento/{tracking}"
            if tracking
            else None,
            "gateway": rng.choice(["mercadopago", "transferencia", "pago_nube"]),
            "storefront": "store",
            "next_action": "waiting_shipment" if payment == "paid" and not shipped else "noop",
            "cancel_reason": "customer" if status == "cancelled" else None,
            "created_at": ts(created),
            "updated_at": ts(created + timedelta(hours=3)),
            "paid_at": ts(created) if payment == "paid" else None,
            "shipped_at": ts(created + timedelta(days=1)) if shipped else None,
        }
        store.orders[oid] = order
        c["last_order_id"] = oid
