"""Campaigns on the real services: fake Graph (Meta's limits on), whatsapp_service, orchestrator."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from fakes.meta_graph.templates import template
from tests.pipeline.conftest import (  # noqa: F401 - fixtures shared with the pipeline tests
    ACCESS_TOKEN,
    ADMIN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    Stack,
    eventually,
    stack_factory,
)

WABA_ID = "102290129340398"
PROMO = template(
    "promo_bf", "es_AR", body="Hola {{1}}, en {{2}} tenemos descuentos esta semana", category="MARKETING"
)


async def connect_templates(stack: Stack, *templates: dict[str, Any]) -> None:
    """The number's WABA holds these templates; Nexus reads them from the Graph API."""
    stack.graph.templates[WABA_ID] = list(templates or [PROMO])
    stack.graph.phone_wabas[PHONE_NUMBER_ID] = WABA_ID
    admin = {"Authorization": f"Bearer {ADMIN}"}
    r = await stack.client.put(
        f"{stack.orch_url}/api/v1/tenants/{stack.tenant_id}/channels/whatsapp",
        json={
            "phone_number_id": PHONE_NUMBER_ID,
            "access_token": ACCESS_TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN,
            "waba_id": WABA_ID,
        },
        headers=admin,
    )
    assert r.status_code == 200, r.text
    r = await stack.client.post(f"{stack.orch_url}/api/v1/templates/sync", headers=auth(stack))
    assert r.status_code == 200, r.text


def auth(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}", "X-Tenant-Id": stack.tenant_id}


def csv_of(rows: list[tuple[str, ...]], header: str = "phone,name,language,consent_source,tags") -> str:
    return "\n".join([header, *(",".join(r) for r in rows)]) + "\n"


async def import_csv(stack: Stack, text: str) -> dict[str, Any]:
    r = await stack.client.post(
        f"{stack.orch_url}/api/v1/customers/import",
        content=text.encode(),
        headers={**auth(stack), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def campaign(stack: Stack, **body: Any) -> str:
    payload = {"name": "Black Friday", "template": "promo_bf", "language": "es_AR", **body}
    r = await stack.client.post(f"{stack.orch_url}/api/v1/campaigns", json=payload, headers=auth(stack))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def get(stack: Stack, path: str) -> Any:
    r = await stack.client.get(f"{stack.orch_url}/api/v1{path}", headers=auth(stack))
    assert r.status_code == 200, r.text
    return r.json()


async def post(stack: Stack, path: str, body: Any = None, expect: int = 200) -> Any:
    r = await stack.client.post(f"{stack.orch_url}/api/v1{path}", json=body, headers=auth(stack))
    assert r.status_code == expect, r.text
    return r.json()


@pytest.fixture
async def cstack(
    stack_factory: Callable[..., contextlib.AbstractAsyncContextManager[Stack]],  # noqa: F811
) -> AsyncIterator[Stack]:
    """The stack with status webhooks flowing back to the orchestrator (as Meta does)."""
    async with stack_factory() as s:
        s.graph.status_webhook = {"url": f"{s.orch_url}/webhooks/whatsapp", "app_secret": APP_SECRET}
        s.graph.template_statuses = ("delivered", "read")
        await connect_templates(s)
        yield s
