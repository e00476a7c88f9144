"""Abandoned-checkout recovery against the fake Tienda Nube's /checkouts, through the real poller."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from fakes.tiendanube.checkouts import add_checkout, convert

from ..pipeline.conftest import eventually
from .conftest import World

ANA, BETO, CARLA = "+5491155550001", "+5491155550002", "+5491155550003"


def buyer(world: World, cid: int, email: str, accepts: bool) -> None:
    world.fake.stores[world.store_id].customers[cid] = {
        "id": cid,
        "name": email,
        "email": email,
        "accepts_marketing": accepts,
    }


async def enable(world: World, **extra: object) -> None:
    r = await world.api(
        "PUT",
        "/api/v1/settings/notifications",
        json={
            "cart_recovery": {"enabled": True, "template": "carrito_abandonado", "delay_minutes": 30, **extra}
        },
    )
    assert r.status_code == 200, r.text


async def poll(world: World) -> None:
    r = await world.api("POST", "/api/v1/admin/actions/poll_checkouts", json={})
    assert r.status_code == 200, r.text


def states(world: World) -> dict[int, tuple[str, str | None]]:
    return {
        cid: (st, reason)
        for cid, st, reason in world.stack.rows("SELECT checkout_id, state, reason FROM abandoned_checkouts")
    }


@pytest.mark.parametrize("converted", ["complete", "vanish"])
async def test_recovery_once_per_checkout_never_after_an_order_only_to_opted_in(
    world: World, converted: str
) -> None:
    world.fake.converted_checkouts = converted
    await enable(world)
    now = datetime.now(UTC)
    buyer(world, 9001, "ana@example.com", True)
    buyer(world, 9002, "beto@example.com", True)
    buyer(world, 9003, "carla@example.com", False)
    a = add_checkout(
        world.fake,
        world.store_id,
        phone=ANA,
        name="Ana Sosa",
        email="ana@example.com",
        created_at=now - timedelta(hours=2),
    )
    b = add_checkout(
        world.fake,
        world.store_id,
        phone=BETO,
        name="Beto",
        email="beto@example.com",
        created_at=now - timedelta(minutes=20),
    )
    c = add_checkout(
        world.fake,
        world.store_id,
        phone=CARLA,
        name="Carla",
        email="carla@example.com",
        created_at=now - timedelta(hours=2),
    )
    done = add_checkout(
        world.fake, world.store_id, phone="+5491155550005", created_at=now - timedelta(hours=2)
    )
    convert(world.fake, world.store_id, done["id"])  # bought before the poll ever saw it
    await poll(world)
    await eventually(lambda: len(world.stack.sent_to("5491155550001")) == 1, timeout=30)
    expected = {
        a["id"]: ("sent", None),
        b["id"]: ("pending", None),  # abandoned 20 minutes ago: not due before the 30-minute delay
        c["id"]: ("skipped", "no_opt_in"),
    }
    await eventually(lambda: states(world) == expected, timeout=30)
    [tpl] = [m["body"]["template"] for m in world.stack.sent_to("5491155550001")]
    assert tpl["name"] == "carrito_abandonado"
    params = [p["text"] for p in tpl["components"][0]["parameters"]]
    assert params == ["Ana", "Tienda Ana", "ARS 291.35", a["abandoned_checkout_url"]]
    assert world.stack.sent_to("5491155550003") == [] and world.stack.sent_to("5491155550005") == []
    consent = world.stack.rows(
        "SELECT c.state, c.source FROM customer_consents c JOIN customers u ON u.id = c.customer_id "
        "WHERE u.phone_number = %s",
        ANA,
    )
    assert consent == [("opted_in", "checkout")]

    # Beto completes his purchase before his delay is up; when it is up (time moved on), he
    # gets nothing. Polling again never sends Ana a second message either.
    convert(world.fake, world.store_id, b["id"])
    world.stack.rows(
        "UPDATE abandoned_checkouts SET due_at = now() WHERE checkout_id = %s RETURNING 1", b["id"]
    )
    await poll(world)
    await eventually(lambda: states(world)[b["id"]][0] == "skipped", timeout=30)
    assert states(world)[b["id"]][1] in ("ordered", "checkout_gone")
    await asyncio.sleep(1.0)
    assert len(world.stack.sent_to("5491155550001")) == 1
    assert world.stack.sent_to("5491155550002") == []

    # Ana comes back and buys within 7 days: the recovery is credited with the order's total.
    order = convert(world.fake, world.store_id, a["id"])
    assert await world.order_webhook("order/paid", order["id"]) == 200
    await eventually(
        lambda: world.stack.rows("SELECT 1 FROM proactive_messages WHERE recovered_order_id IS NOT NULL"),
        timeout=30,
    )
    r = await world.api("GET", "/api/v1/analytics/notifications")
    recovery = r.json()["recovery"]
    assert recovery["recovered"] == 1 and recovery["revenue"] == {"ARS": "291.35"}


async def test_cooldown_blocks_a_second_recovery_for_the_same_customer(world: World) -> None:
    await enable(world, cooldown_days=7)
    buyer(world, 9001, "ana@example.com", True)
    earlier = datetime.now(UTC) - timedelta(hours=3)
    first = add_checkout(world.fake, world.store_id, phone=ANA, email="ana@example.com", created_at=earlier)
    await poll(world)
    await eventually(lambda: len(world.stack.sent_to("5491155550001")) == 1, timeout=30)
    second = add_checkout(
        world.fake,
        world.store_id,
        phone=ANA,
        email="ana@example.com",
        created_at=earlier + timedelta(minutes=30),
    )
    await poll(world)
    await eventually(lambda: states(world).get(second["id"]) == ("skipped", "cooldown"), timeout=30)
    assert states(world)[first["id"]] == ("sent", None)
    assert len(world.stack.sent_to("5491155550001")) == 1


async def test_customers_redact_erases_the_buyers_abandoned_checkouts(world: World) -> None:
    await enable(world, delay_minutes=600)  # nothing becomes due: only the stored checkouts matter
    now = datetime.now(UTC)
    add_checkout(
        world.fake, world.store_id, phone=ANA, email="ana@example.com", created_at=now - timedelta(hours=1)
    )
    other = add_checkout(world.fake, world.store_id, phone=BETO, email="beto@example.com", created_at=now)
    await poll(world)
    await eventually(lambda: len(states(world)) == 2, timeout=30)
    body, headers = world.fake.signed(
        {
            "store_id": world.store_id,
            "customer": {"id": 1, "email": "ana@example.com", "phone": ANA},
            "orders_to_redact": [],
        }
    )
    r = await world.stack.client.post(
        f"{world.stack.orch_url}/webhooks/tiendanube?event=customers/redact", content=body, headers=headers
    )
    assert r.status_code == 200
    await eventually(lambda: list(states(world)) == [other["id"]], timeout=30)


async def test_a_failed_check_leaves_the_checkout_pending_for_a_later_batch_without_a_retry(
    world: World,
) -> None:
    """Tienda Nube keeps failing one checkout's read: that row stays pending, the batch ends
    normally (a retried send job re-took a queueing lock the tick held, and froze the store's
    recovery), and the next batch sends it once."""
    await enable(world)
    buyer(world, 9001, "ana@example.com", True)
    a = add_checkout(
        world.fake,
        world.store_id,
        phone=ANA,
        email="ana@example.com",
        created_at=datetime.now(UTC) - timedelta(hours=2),
    )
    world.fake.fail_next(f"/checkouts/{a['id']}", 500, times=5)  # the service's 5xx retries, all failed
    await poll(world)
    jobs = (
        "SELECT j.status, count(*) FROM procrastinate.procrastinate_jobs j "
        "WHERE j.task_name = 'recovery:poll_store' GROUP BY j.status"
    )
    await eventually(lambda: dict(world.stack.rows(jobs)).get("succeeded") == 1, timeout=60)
    assert states(world) == {a["id"]: ("pending", None)}
    assert world.stack.sent_to("5491155550001") == []
    await poll(world)  # the next poll (or the minute's tick) starts another batch
    await eventually(lambda: states(world) == {a["id"]: ("sent", None)}, timeout=60)
    await eventually(lambda: len(world.stack.sent_to("5491155550001")) == 1, timeout=30)
    events = world.stack.rows(
        "SELECT count(*) FROM procrastinate.procrastinate_events e "
        "JOIN procrastinate.procrastinate_jobs j ON j.id = e.job_id "
        "WHERE j.task_name IN ('recovery:poll_store', 'recovery:send_due') "
        "AND e.type IN ('retried', 'failed')"
    )
    assert events == [(0,)]


async def test_a_poll_checks_what_it_found_due_itself_instead_of_queueing_a_job_for_it(
    world: World,
) -> None:
    """Right after a poll the store's bucket is nearly empty, and every moment before the first
    check is pace lost for good. Handing the batch to a new job put it behind every job queued
    meanwhile (each checkout settled elsewhere queues a send): with 20 stores the last ones
    waited 2 s in the queue. The poll's job, which already holds the store's recovery lock,
    runs the first batch itself; only a batch that leaves more due queues the next."""
    await enable(world)
    earlier = datetime.now(UTC) - timedelta(hours=2)
    for k, (who, phone) in enumerate((("ana", ANA), ("beto", BETO), ("carla", CARLA))):
        buyer(world, 9001 + k, f"{who}@example.com", True)
        add_checkout(world.fake, world.store_id, phone=phone, email=f"{who}@example.com", created_at=earlier)
    await poll(world)
    await eventually(lambda: set(states(world).values()) == {("sent", None)}, timeout=60)
    assert len(states(world)) == 3
    # Settled by the poll's own job: before it finished (a job queued for the batch could only
    # start after it, as both hold the store's recovery lock).
    poll_done = (
        "SELECT e.at FROM procrastinate.procrastinate_events e "
        "JOIN procrastinate.procrastinate_jobs j ON j.id = e.job_id "
        "WHERE j.task_name = 'recovery:poll_store' AND e.type = 'succeeded'"
    )
    await eventually(lambda: len(world.stack.rows(poll_done)) == 1, timeout=30)
    [(settled,)] = world.stack.rows("SELECT max(updated_at) FROM abandoned_checkouts")
    [(finished,)] = world.stack.rows(poll_done)
    assert settled < finished
