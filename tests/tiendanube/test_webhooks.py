"""Store webhooks: HMAC, product updates/deletes within seconds, uninstall, privacy requests."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from orchestrator.catalog import hooks
from orchestrator.consent import service as consent
from orchestrator.models import (
    AbandonedCheckout,
    AuditLog,
    ChannelIdentity,
    ChatConversation,
    ChatMessage,
    Credential,
    Customer,
    InboundEvent,
    Product,
    Tenant,
)
from sqlalchemy import func, select, text

from fakes.tiendanube import FakeTiendanube

from .conftest import STORE_ID, Orchestrator, install, wait_for, wait_sync_done


async def test_product_updated_and_deleted_webhooks_are_reflected(
    orch: Orchestrator, fake: FakeTiendanube
) -> None:
    tenant_id = await install(orch, fake)
    await wait_sync_done(orch.maker, tenant_id)
    calls: list[tuple[list[uuid.UUID], list[uuid.UUID]]] = []

    async def listener(tid: uuid.UUID, changed: list[uuid.UUID], deleted: list[uuid.UUID]) -> None:
        calls.append((changed, deleted))

    async def broken(tid: uuid.UUID, changed: list[uuid.UUID], deleted: list[uuid.UUID]) -> None:
        raise RuntimeError("indexer down")  # must never break the mirror

    hooks.register(broken)
    hooks.register(listener)
    try:
        pid, victim = sorted(fake.stores[STORE_ID].products)[:2]
        fake.update_product(STORE_ID, pid, name={"es": "Remera Flamenco Turquesa"})
        statuses = await fake.deliver(STORE_ID, "product/updated", pid, client=orch.client)
        assert statuses == [200]

        async def renamed() -> bool:
            async with orch.maker() as s:
                return bool(
                    await s.scalar(
                        select(func.count())
                        .select_from(Product)
                        .where(
                            Product.tenant_id == tenant_id,
                            Product.search_vector.op("@@")(
                                func.plainto_tsquery("spanish", "flamenco turquesa")
                            ),
                        )
                    )
                )

        await wait_for(renamed, 10)
        # The same delivery again is acknowledged and changes nothing.
        body, headers = fake.signed({"store_id": STORE_ID, "event": "product/updated", "id": pid})
        r = await orch.client.post("/webhooks/tiendanube", content=body, headers=headers)
        assert r.status_code == 200 and r.json()["duplicate"] is True

        fake.delete_product(STORE_ID, victim)
        assert await fake.deliver(STORE_ID, "product/deleted", victim, client=orch.client) == [200]

        async def gone() -> bool:
            async with orch.maker() as s:
                return not await s.scalar(
                    select(func.count()).select_from(Product).where(Product.external_id == victim)
                )

        await wait_for(gone, 10)
        await wait_for(_async(lambda: any(d for _, d in calls)), 5)
    finally:
        hooks.unregister(broken)
        hooks.unregister(listener)
    assert any(c for c, _ in calls)
    async with orch.maker() as s:
        states = (
            await s.scalars(select(InboundEvent.state).where(InboundEvent.source == "tiendanube"))
        ).all()
    assert sorted(states) == ["done", "done"]
    # Each stored event has its processing job, locked per product (one resource at a time).
    async with orch.maker() as s:
        jobs = (
            await s.execute(
                text(
                    "SELECT j.lock, e.id IS NOT NULL FROM procrastinate.procrastinate_jobs j "
                    "LEFT JOIN inbound_events e ON e.id = CAST(j.args->>'event_id' AS uuid) "
                    "WHERE j.task_name = 'tiendanube:process_event' ORDER BY j.id"
                )
            )
        ).all()
    assert [tuple(j) for j in jobs] == [
        (f"tnevents:{tenant_id}:product:{pid}", True),
        (f"tnevents:{tenant_id}:product:{victim}", True),
    ]


def _async(fn):  # type: ignore[no-untyped-def]
    async def check():  # type: ignore[no-untyped-def]
        return fn()

    return check


async def test_bad_or_missing_hmac_is_401_and_only_audited(orch: Orchestrator, fake: FakeTiendanube) -> None:
    body, headers = fake.signed({"store_id": STORE_ID, "event": "app/uninstalled", "id": STORE_ID})
    forged = {**headers, "x-linkedstore-hmac-sha256": "0" * 64}
    r = await orch.client.post("/webhooks/tiendanube", content=body, headers=forged)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    missing = {k: v for k, v in headers.items() if k != "x-linkedstore-hmac-sha256"}
    assert (await orch.client.post("/webhooks/tiendanube", content=body, headers=missing)).status_code == 401
    # A valid signature over a different body does not verify this one.
    tampered = body.replace(b"app/uninstalled", b"app/suspended__")
    assert (
        await orch.client.post("/webhooks/tiendanube", content=tampered, headers=headers)
    ).status_code == 401
    async with orch.maker() as s:
        assert await s.scalar(select(func.count()).select_from(InboundEvent)) == 0
        actions = (await s.scalars(select(AuditLog.action))).all()
        counted = (
            await s.execute(
                text("SELECT source, reason, sum(count)::int FROM webhook_rejections GROUP BY 1, 2")
            )
        ).all()
    assert actions == []  # no row per forged request...
    assert [tuple(r) for r in counted] == [("tiendanube", "bad or missing signature", 3)]  # ...a count


async def test_app_uninstalled_disables_the_tenant_and_wipes_its_token(
    orch: Orchestrator, fake: FakeTiendanube
) -> None:
    tenant_id = await install(orch, fake)
    await wait_sync_done(orch.maker, tenant_id)
    assert await fake.deliver(STORE_ID, "app/uninstalled", STORE_ID, client=orch.client) == [200]

    async def wiped() -> bool:
        async with orch.maker() as s:
            tenant = await s.get(Tenant, tenant_id)
            creds = await s.scalar(
                select(func.count()).select_from(Credential).where(Credential.tenant_id == tenant_id)
            )
            return tenant is not None and tenant.status == "disabled" and creds == 0

    await wait_for(wiped, 10)


async def _person(
    s, tenant_id: uuid.UUID, phone: str | None, wa_id: str, email: str | None, n: int
) -> uuid.UUID:  # type: ignore[no-untyped-def]
    c = Customer(tenant_id=tenant_id, phone_number=phone, email=email, name=f"P{wa_id[-4:]}")
    s.add(c)
    await s.flush()
    s.add(ChannelIdentity(tenant_id=tenant_id, customer_id=c.id, channel="whatsapp", external_id=wa_id))
    conv = ChatConversation(tenant_id=tenant_id, customer_id=c.id, channel="whatsapp")
    s.add(conv)
    await s.flush()
    for i in range(n):
        s.add(
            ChatMessage(
                tenant_id=tenant_id,
                conversation_id=conv.id,
                channel="whatsapp",
                direction="inbound",
                sender="customer",
                provider_message_id=f"wamid.{wa_id}.{i}",
                text=f"hola {i}",
                status="received",
            )
        )
    s.add(
        InboundEvent(
            tenant_id=tenant_id,
            source="whatsapp",
            body_sha256=uuid.uuid4().hex * 2,
            payload={"entry": [{"changes": [{"value": {"contacts": [{"wa_id": wa_id}]}}]}]},
            state="done",
        )
    )
    return c.id


async def test_customers_redact_erases_that_customer_and_nobody_else(
    orch: Orchestrator, fake: FakeTiendanube
) -> None:
    tenant_id = await install(orch, fake)
    await wait_sync_done(orch.maker, tenant_id)
    async with orch.maker() as s, s.begin():
        ana = await _person(s, tenant_id, "+5491126653230", "5491126653230", "ana@example.com", 3)
        beto = await _person(s, tenant_id, "+5491155554444", "5491155554444", "beto@example.com", 2)
        await consent.record(s, tenant_id, ana, "opted_in", "checkout")
        await consent.record(s, tenant_id, ana, "opted_out", "meta", actor="whatsapp:user_preferences")
        now = datetime.now(UTC)
        for cid, email, phone in ((91, "ana@example.com", None), (92, None, "+5491155554444")):
            s.add(
                AbandonedCheckout(
                    tenant_id=tenant_id,
                    checkout_id=cid,
                    contact_email=email,
                    contact_phone=phone,
                    url=f"https://tienda.example.com/checkout/{cid}",
                    abandoned_at=now,
                    due_at=now,
                )
            )
    # data_request first: an export of Ana's data, recorded.
    request = {
        "store_id": STORE_ID,
        "customer": {
            "id": 1,
            "email": "ana@example.com",
            "phone": "+54 9 11 2665-3230",
            "identification": "1",
        },
        "orders_requested": [213],
        "checkouts_requested": [],
        "drafts_orders_requested": [],
        "data_request": {"id": 456},
    }
    assert await fake.deliver(
        STORE_ID, "", url="http://testserver/webhooks/tiendanube", payload=request, client=orch.client
    ) == [200]
    exported = await wait_for(_audit(orch, "privacy.customers_data_request"), 10)
    files = list((orch.app.state.settings.data_dir / "privacy_exports" / str(tenant_id)).glob("*.json"))
    data = json.loads(files[0].read_text())
    assert exported.payload["messages"] == 3 and len(data["customers"]) == 1
    assert [m["text"] for m in data["customers"][0]["conversations"][0]["messages"]] == [
        "hola 0",
        "hola 1",
        "hola 2",
    ]
    # Her consent, its history, and the checkout she left (not Beto's).
    assert [(c["state"], c["source"]) for c in data["customers"][0]["consent"]] == [("opted_out", "meta")]
    assert [e["state"] for e in data["customers"][0]["consent_history"]] == ["opted_in", "opted_out"]
    assert [c["checkout_id"] for c in data["abandoned_checkouts"]] == [91]
    assert exported.payload["abandoned_checkouts"] == 1

    redact = {
        "store_id": STORE_ID,
        "customer": {
            "id": 1,
            "email": "someone-else@example.com",
            "phone": "011 15 2665-3230",
            "identification": "1",
        },
        "orders_to_redact": [213, 3415],
    }
    assert await fake.deliver(
        STORE_ID,
        "",
        url="http://testserver/webhooks/tiendanube?event=customers/redact",
        payload=redact,
        client=orch.client,
    ) == [200]
    entry = await wait_for(_audit(orch, "privacy.customers_redact"), 10)
    assert (
        entry.payload["customers"] == 1
        and entry.payload["messages"] == 3
        and entry.payload["identities"] == 1
    )
    async with orch.maker() as s:
        assert await s.get(Customer, ana) is None
        assert await s.get(Customer, beto) is not None
        left = (await s.scalars(select(ChatMessage.provider_message_id))).all()
        idents = (await s.scalars(select(ChannelIdentity.external_id))).all()
        raw = (
            (await s.execute(text("SELECT payload::text FROM inbound_events WHERE source = 'whatsapp'")))
            .scalars()
            .all()
        )
        privacy_payloads = (
            await s.scalars(select(InboundEvent.payload).where(InboundEvent.source == "tiendanube"))
        ).all()
    assert sorted(left) == ["wamid.5491155554444.0", "wamid.5491155554444.1"]
    assert idents == ["5491155554444"]
    assert len(raw) == 1 and "5491155554444" in raw[0]
    # The privacy requests themselves are not kept with the customer's contact details.
    assert all(p.get("redacted") and "customer" not in p for p in privacy_payloads)


def _audit(orch: Orchestrator, action: str):  # type: ignore[no-untyped-def]
    async def check():  # type: ignore[no-untyped-def]
        async with orch.maker() as s:
            return (await s.scalars(select(AuditLog).where(AuditLog.action == action))).first()

    return check
