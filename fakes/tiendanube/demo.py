"""The demo store `make dev` loads: "Nube Indumentaria", a Spanish (Argentina) catalog.

`build_fake()` returns a fake platform holding the demo store (seeded, so every run is the same):
320 products across remeras, zapatillas, camperas, buzos, pantalones, accesorios, hogar and
pileta, with talle/color variants, SKUs, ARS prices, some out of stock and some unpublished; 40
customers with WhatsApp-style phones (+54 9 11 ...) written the many ways real stores do, and 80
orders. `connect_demo_tenant()` installs it into a running orchestrator through the real OAuth
callback, exactly as a merchant would (tenant, encrypted token, webhooks, first catalog sync).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx

from .catalog import make_customers_and_orders, make_products
from .state import FakeTiendanube, Store

DEMO_STORE_ID = 1_234_567
DEMO_PRODUCTS = 320
DEMO_CUSTOMERS = 40
DEMO_ORDERS = 80


def add_store(
    fake: FakeTiendanube,
    *,
    store_id: int,
    name: str,
    products: int,
    customers: int = 0,
    orders: int = 0,
    seed: int = 7,
) -> Store:
    store = fake.add_store(
        Store(id=store_id, name=name, url=f"https://{name.lower().replace(' ', '')}.mitiendanube.com")
    )
    make_products(store, fake, products, seed=seed)
    if customers:
        make_customers_and_orders(store, fake, customers, orders, seed=seed + 1)
    return store


def add_demo_store(fake: FakeTiendanube) -> Store:
    return add_store(
        fake,
        store_id=DEMO_STORE_ID,
        name="Nube Indumentaria",
        products=DEMO_PRODUCTS,
        customers=DEMO_CUSTOMERS,
        orders=DEMO_ORDERS,
    )


def build_fake(**kwargs: object) -> FakeTiendanube:
    fake = FakeTiendanube(**kwargs)  # type: ignore[arg-type]
    add_demo_store(fake)
    return fake


def connect_demo_tenant(
    orchestrator_url: str, fake_url: str, *, store_id: int = DEMO_STORE_ID, timeout: float = 30.0
) -> str:
    """Install the demo store into a running orchestrator; returns the tenant id.

    Asks the fake for an authorization code (what the merchant's "install" click produces) and
    calls `GET /oauth/tiendanube/callback?code=...`; the orchestrator exchanges it through
    tiendanube_service, creates the tenant, registers webhooks and starts the first sync.
    """
    with httpx.Client(timeout=timeout) as client:
        code = client.post(f"{fake_url.rstrip('/')}/__fake/codes", json={"store_id": store_id}).json()["code"]
        r = client.get(f"{orchestrator_url.rstrip('/')}/oauth/tiendanube/callback", params={"code": code})
        if r.status_code not in (302, 303, 307):
            raise RuntimeError(f"demo install failed: HTTP {r.status_code}")
        tenant = parse_qs(urlparse(r.headers["location"]).query).get("tenant_id", [""])[0]
        if not tenant:
            raise RuntimeError("demo install: no tenant id in the redirect")
        return tenant
