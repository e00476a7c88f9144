"""Hybrid search against real Postgres and a real embedded Chroma (offline e5 model)."""

from __future__ import annotations

import uuid
from typing import Any

from orchestrator.catalog import hooks
from orchestrator.retrieval.runtime import get_retrieval
from sqlalchemy import text

from .helpers import add_product, add_tenant

ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}


def admin_of(tenant: object) -> dict[str, str]:
    """The platform super-admin acting on one tenant (RBAC: X-Tenant-Id)."""
    return {**ADMIN, "X-Tenant-Id": str(tenant)}


INTERNAL = {"X-Internal-Token": "test-internal-token-0123456789"}


async def _catalog(app: Any) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    maker = app.state.sessionmaker
    tid = await add_tenant(maker, "Moda Sur")
    ids = {
        "remera": await add_product(
            maker, tid, "Remera básica de algodón negra", "8999.00", skus=["REM-001"], categories=["Remeras"]
        ),
        "zapas": await add_product(
            maker, tid, "Zapatillas running Veloz", "54999.00", skus=["ZAP-042"], categories=["Calzado"]
        ),
        "pileta": await add_product(
            maker,
            tid,
            "Pileta estructural 3000 litros",
            "120000.00",
            skus=["PIL-3000"],
            categories=["Verano"],
        ),
        "campera": await add_product(
            maker,
            tid,
            "Campera rompeviento impermeable",
            "45999.00",
            skus=["CAM-777"],
            categories=["Camperas"],
        ),
        "agotado": await add_product(maker, tid, "Buzo canguro gris", "29999.00", stock=0, skus=["BUZ-010"]),
        "oculto": await add_product(maker, tid, "Remera edición oculta", "1.00", published=False),
    }
    await hooks.products_changed(tid, list(ids.values()), [])
    return tid, ids


async def _search(app: Any, tid: uuid.UUID, q: str, **params: Any) -> dict[str, Any]:
    r = await app.state.test_client.get(
        "/api/v1/products/search", params={"q": q, **params}, headers=admin_of(tid)
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_synonyms_typos_sku_and_filters(orch: Any) -> None:
    tid, ids = await _catalog(orch)
    names = lambda body: [i["id"] for i in body["items"]]  # noqa: E731

    # Regional synonyms: playera (MX) / camiseta (ES, PT) find the remera; tênis the zapatillas.
    assert names(await _search(orch, tid, "playera negra"))[0] == str(ids["remera"])
    assert names(await _search(orch, tid, "tênis para correr"))[0] == str(ids["zapas"])
    assert names(await _search(orch, tid, "piscina grande"))[0] == str(ids["pileta"])
    # Typo tolerance.
    assert names(await _search(orch, tid, "zapatilas runing"))[0] == str(ids["zapas"])
    # Exact SKU first, whatever the case.
    body = await _search(orch, tid, "cam-777")
    assert names(body)[0] == str(ids["campera"]) and "sku" in body["items"][0]["matched_by"]
    # Out of stock only when asked; unpublished never.
    assert str(ids["agotado"]) not in names(await _search(orch, tid, "buzo canguro"))
    assert names(await _search(orch, tid, "buzo canguro", include_out_of_stock="true"))[0] == str(
        ids["agotado"]
    )
    assert str(ids["oculto"]) not in names(await _search(orch, tid, "remera edición oculta", limit=50))
    assert body["vector_status"] == "ok" and body["embedding"] == "local:e5-small-q4"


async def test_price_and_stock_come_from_the_row_at_answer_time(orch: Any) -> None:
    tid, ids = await _catalog(orch)
    async with orch.state.sessionmaker() as s, s.begin():
        await s.execute(
            text("UPDATE products SET price = 7777.50, stock = 3 WHERE id = :id"), {"id": ids["remera"]}
        )
    item = (await _search(orch, tid, "REM-001"))["items"][0]
    assert (item["price"], item["stock"]) == ("7777.50", 3)


async def test_product_update_reaches_search_results(orch: Any) -> None:
    tid, ids = await _catalog(orch)
    svc = get_retrieval()
    async with orch.state.sessionmaker() as s:
        before = await svc.search(s, tid, "bicicleta de montaña", modes=("vector",), limit=1)
    assert before.hits[0].product.id != ids["campera"]
    async with orch.state.sessionmaker() as s, s.begin():
        await s.execute(
            text(
                "UPDATE products SET name_text = 'Bicicleta de montaña rodado 29', name = '{}' WHERE id = :id"
            ),
            {"id": ids["campera"]},
        )
    await hooks.products_changed(tid, [ids["campera"]], [ids["pileta"]])
    async with orch.state.sessionmaker() as s:
        after = await svc.search(s, tid, "bicicleta de montaña", modes=("vector",), limit=5)
        pileta = await svc.search(s, tid, "pileta estructural", modes=("vector",), limit=10)
    assert after.hits[0].product.id == ids["campera"]
    assert ids["pileta"] not in [h.product.id for h in pileta.hits]  # deleted from the index


async def test_tenant_a_never_retrieves_tenant_b(orch: Any) -> None:
    tid_a, ids_a = await _catalog(orch)
    maker = orch.state.sessionmaker
    tid_b = await add_tenant(maker, "Otra tienda")
    secret = await add_product(maker, tid_b, "Remera negra de la tienda B", "100.00", skus=["REM-001"])
    await hooks.products_changed(tid_b, [secret], [])
    for q in ("remera negra", "REM-001", "tienda B"):
        assert str(secret) not in [i["id"] for i in (await _search(orch, tid_a, q, limit=50))["items"]]
    svc = get_retrieval()
    async with maker() as s:
        vec = await svc.search(s, tid_a, "remera negra tienda B", modes=("vector",), limit=50)
    assert secret not in [h.product.id for h in vec.hits]
    r = await orch.state.test_client.get(
        f"/internal/products/{secret}", params={"tenant_id": str(tid_a)}, headers=INTERNAL
    )
    assert r.status_code == 404


async def test_auth_and_bad_input(orch: Any) -> None:
    tid, _ = await _catalog(orch)
    c = orch.state.test_client
    r = await c.get("/api/v1/products/search", params={"q": "remera"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = await c.get("/internal/products/search", params={"tenant_id": str(tid), "q": "remera"}, headers=ADMIN)
    assert r.status_code == 401
    r = await c.get("/api/v1/products/search", params={"q": "x"}, headers=admin_of("nope"))
    assert r.status_code in (400, 422) and "error" in r.json()
    r = await c.get("/api/v1/products/search", params={"q": "x", "limit": 0}, headers=admin_of(tid))
    assert r.status_code in (400, 422)
    r = await c.get("/api/v1/products/search", params={"q": "x"}, headers=admin_of(uuid.uuid4()))
    assert r.status_code == 404
    r = await c.get(
        "/internal/products/search", params={"tenant_id": str(tid), "q": "remera"}, headers=INTERNAL
    )
    assert r.status_code == 200 and r.json()["items"]
