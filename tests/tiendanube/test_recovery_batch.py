"""A cart-recovery batch against tiendanube_service and the fake Tienda Nube: what it does with
the database before its first check reaches the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.config import Settings
from orchestrator.consent import service as consent
from orchestrator.credentials import service as credentials
from orchestrator.integrations.tiendanube.catalog import TOKEN_KIND
from orchestrator.models import AbandonedCheckout, Customer, Tenant
from orchestrator.recovery import sender
from orchestrator.runtime import Runtime
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fakes.tiendanube import FakeTiendanube
from fakes.tiendanube.checkouts import add_checkout

from .conftest import STORE_ID

DUE = 60


def checkout_reads(fake: FakeTiendanube) -> int:
    return sum(1 for _m, path in list(fake.request_log) if path.startswith("/checkouts/"))


async def test_a_batch_starts_checking_after_a_fixed_number_of_queries_however_many_are_due(
    tn_env: dict[str, str], migrated_engine: AsyncEngine, fake: FakeTiendanube
) -> None:
    """Every store's batch starts at once after a poll, on one event loop and one connection
    pool. Looking consent up checkout by checkout (one or two queries each, in turn) kept each
    batch from its first check for as long as its store's bucket, nearly empty after the poll,
    stayed unused: the worst store of 20 then lagged its bucket's pace by 5% on a quiet machine.
    The batch now reads what it needs in a fixed number of queries, and still asks Tienda Nube
    about consent only for the buyers whose consent Nexus does not know."""
    settings = Settings()
    maker = async_sessionmaker(migrated_engine, expire_on_commit=False)
    rt = Runtime(settings=settings, engine=migrated_engine, sessionmaker=maker, redis=None)
    abandoned = datetime.now(UTC) - timedelta(hours=2)
    async with maker() as s, s.begin():
        tenant = Tenant(
            name="Tienda",
            tiendanube_store_id=STORE_ID,
            settings={"notifications": {"cart_recovery": {"enabled": True, "template": "carrito"}}},
        )
        s.add(tenant)
        await s.flush()
        await credentials.put(s, settings.crypto, tenant.id, TOKEN_KIND, fake.token_for(STORE_ID))
        for k in range(DUE):
            phone = f"+5491160{k:06d}"
            raw = add_checkout(fake, STORE_ID, phone=phone, created_at=abandoned)
            s.add(
                AbandonedCheckout(
                    tenant_id=tenant.id,
                    checkout_id=raw["id"],
                    contact_phone=phone,
                    contact_email=raw["contact_email"],
                    abandoned_at=abandoned,
                    due_at=abandoned + timedelta(hours=1),
                )
            )
            if k % 3:
                continue
            # A third of the buyers are known: one opted in, one opted out, alternately; the
            # second customer with the phone is not the one `_settle` would match (the oldest).
            first = Customer(tenant_id=tenant.id, phone_number=phone, created_at=abandoned)
            later = Customer(tenant_id=tenant.id, phone_number=phone, created_at=datetime.now(UTC))
            s.add_all([first, later])
            await s.flush()
            state: Any = "opted_in" if k % 2 else "opted_out"
            await consent.record(s, tenant.id, first.id, state, "staff")
        # One more buyer whose only consent belongs to a newer customer with the same phone.
        phone = "+5491169999999"
        raw = add_checkout(fake, STORE_ID, phone=phone, created_at=abandoned)
        s.add(
            AbandonedCheckout(
                tenant_id=tenant.id,
                checkout_id=raw["id"],
                contact_phone=phone,
                contact_email=raw["contact_email"],
                abandoned_at=abandoned,
                due_at=abandoned + timedelta(hours=1),
            )
        )
        first = Customer(tenant_id=tenant.id, phone_number=phone, created_at=abandoned)
        later = Customer(tenant_id=tenant.id, phone_number=phone, created_at=datetime.now(UTC))
        s.add_all([first, later])
        await s.flush()
        await consent.record(s, tenant.id, later.id, "opted_in", "staff")
        tenant_id = tenant.id
    fake.request_log.clear()

    before_first_check: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if checkout_reads(fake) == 0:
            before_first_check.append(statement)

    event.listen(migrated_engine.sync_engine, "before_cursor_execute", count)
    try:
        counts = await sender.send_due(rt, tenant_id, batch=DUE + 1)
    finally:
        event.remove(migrated_engine.sync_engine, "before_cursor_execute", count)

    # The tenant, its token, the due rows and the known consents: not one query per checkout.
    assert len(before_first_check) <= 5, before_first_check
    assert checkout_reads(fake) == DUE + 1
    assert "check_failed" not in counts
    # Consent is asked of Tienda Nube for the unknown buyers only: two of every three, and the
    # buyer whose consent is recorded on a customer `_settle` would not match.
    lookups = [p for _m, p in fake.request_log if p.startswith("/customers")]
    assert len(lookups) == DUE - DUE // 3 + 1
