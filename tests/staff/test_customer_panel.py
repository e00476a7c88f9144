"""The dashboard's customer panel (`GET /api/v1/customers/{id}`) and synonym groups in the agent
settings, added for the dashboard (issue 7)."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from .conftest import bearer, seed_tenant, token_for, unique


async def test_customer_panel_shows_masked_identities_and_no_orders_without_a_store(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from orchestrator.models import ChannelIdentity

    from .conftest import maker

    seed = await seed_tenant(app, unique("Panel"))
    other = await seed_tenant(app, unique("Other"))
    assert seed.customer_id is not None and other.customer_id is not None
    async with maker(app)() as s, s.begin():
        s.add(
            ChannelIdentity(
                tenant_id=seed.id,
                customer_id=seed.customer_id,
                channel="whatsapp",
                external_id="5491155554444",
            )
        )
    viewer = await token_for(app, seed, "viewer")
    r = await client.get(f"/api/v1/customers/{seed.customer_id}", headers=bearer(viewer))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "Ana Pérez"
    assert body["phone_number"] != "+5491155554444" and body["phone_number"].endswith("4444")
    assert [i["channel"] for i in body["identities"]] == ["whatsapp"]
    assert "5491155554444" not in r.text  # identities are masked like the phone
    assert body["orders"] == [] and body["orders_error"] is None  # no store connected

    # Another tenant's customer, or none at all: 404.
    r = await client.get(f"/api/v1/customers/{other.customer_id}", headers=bearer(viewer))
    assert r.status_code == 404
    r = await client.get(f"/api/v1/customers/{uuid.uuid4()}", headers=bearer(viewer))
    assert r.status_code == 404
    assert (await client.get(f"/api/v1/customers/{seed.customer_id}")).status_code == 401


async def test_synonym_groups_round_trip(app: FastAPI, client: httpx.AsyncClient) -> None:
    seed = await seed_tenant(app, unique("Syn"))
    admin = bearer(await token_for(app, seed, "admin"))
    assert (await client.get("/api/v1/settings/synonyms", headers=admin)).json() == {"groups": []}
    groups = [["remera", "camiseta", "playera"], ["buzo", "hoodie"]]
    r = await client.put("/api/v1/settings/synonyms", json={"groups": groups}, headers=admin)
    assert r.status_code == 200, r.text
    viewer = bearer(await token_for(app, seed, "viewer"))
    assert (await client.get("/api/v1/settings/synonyms", headers=viewer)).json() == {"groups": groups}
    # Where retrieval (retrieval/synonyms.py) reads them.
    from orchestrator.models import Tenant

    from .conftest import maker

    async with maker(app)() as s:
        tenant = await s.get(Tenant, seed.id)
        assert tenant is not None and tenant.settings["synonyms"] == groups
    denied = await client.put("/api/v1/settings/synonyms", json={"groups": groups}, headers=viewer)
    assert denied.status_code == 403
    bad = await client.put("/api/v1/settings/synonyms", json={"groups": [["x" * 61, "y"]]}, headers=admin)
    assert bad.status_code == 422
