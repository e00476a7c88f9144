"""tiendanube_service's leaky-bucket limiter against the fake Tienda Nube's bucket."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx
from tiendanube_service.client import TiendanubeAPI
from tiendanube_service.ratelimit import RateLimiter

from fakes.tiendanube import FakeTiendanube, ThreadServer, add_store, create_app

STORE = 555_077


def api(url: str) -> TiendanubeAPI:
    return TiendanubeAPI(
        f"{url}/v1",
        f"{url}/apps/authorize/token",
        user_agent="Nexus test (dev@nexus.example)",
        client_id="4321",
        client_secret=None,
        limiter=RateLimiter(),
    )


async def test_a_response_arriving_after_a_newer_one_does_not_lower_the_estimate() -> None:
    """The platform counts A, then B; B's answer comes back first, A's (older headers) last,
    when A is the only request still in flight. Trusting A's figure would forget B: our estimate
    of the bucket must stay at or above the platform's own level."""
    fake = FakeTiendanube(bucket_capacity=10, leak_per_s=0.05)
    add_store(fake, store_id=STORE, name="Tienda", products=3, customers=1, orders=1)
    token = fake.token_for(STORE)
    with ThreadServer(create_app(fake)) as srv:
        client = api(srv.url)
        try:
            await client.call(STORE, token, "GET", "store")  # first contact: learns the limit
            fake.hold_next("/orders", 0.3)
            a = asyncio.create_task(client.call(STORE, token, "GET", "orders"))
            while not fake.held:  # A is counted by the platform and its answer held back
                await asyncio.sleep(0.005)
            await client.call(STORE, token, "GET", "products")  # B: counted after A, answered first
            await a
        finally:
            await client.aclose()
    ours = client.limiter.bucket(STORE)
    theirs = fake.bucket(STORE, token)
    with fake.lock:
        now = time.monotonic()
        ours._leak(now)
        theirs._leak(now)
        assert theirs.level > 2.9  # three requests, a fraction of one leaked
        assert ours.level + ours.inflight >= theirs.level
    assert fake.stats["throttled"] == 0


async def test_requests_the_platform_counts_late_are_not_leaked_away_meanwhile() -> None:
    """A bucketful of requests reaches the platform late (a loaded machine). Until their answers
    are back they must count as whole slots: leaking them from the moment they were reserved
    let other requests in meanwhile, and the late ones then overflowed the bucket."""
    fake = FakeTiendanube(bucket_capacity=5, leak_per_s=2.0)
    add_store(fake, store_id=STORE, name="Tienda", products=3, customers=1, orders=1)
    token = fake.token_for(STORE)
    with ThreadServer(create_app(fake)) as srv:
        client = api(srv.url)
        try:
            await client.call(STORE, token, "GET", "store")  # first contact: learns the limit
            theirs = fake.bucket(STORE, token)
            while True:  # an empty bucket to start from
                with fake.lock:
                    theirs._leak(time.monotonic())
                    if theirs.level == 0:
                        break
                await asyncio.sleep(0.05)
            for k in range(5):
                fake.hold_next(f"late={k}x", 1.5, before_count=True)
            late = [
                asyncio.create_task(client.call(STORE, token, "GET", "store", params={"late": f"{k}x"}))
                for k in range(5)
            ]
            while not all(t.done() for t in late):  # other requests go on meanwhile
                await client.call(STORE, token, "GET", "products")
            await asyncio.gather(*late)
        finally:
            await client.aclose()
    assert fake.stats["throttled"] == 0


async def test_many_requests_in_flight_answered_out_of_order_never_overflow_the_bucket() -> None:
    """Eight requests in flight at a time, one in three answered late: paced, never refused."""
    fake = FakeTiendanube(bucket_capacity=6, leak_per_s=20.0)
    add_store(fake, store_id=STORE, name="Tienda", products=3, customers=1, orders=1)
    token = fake.token_for(STORE)
    rng = random.Random(12)
    with ThreadServer(create_app(fake)) as srv:
        client = api(srv.url)
        gate = asyncio.Semaphore(8)

        async def one(k: int) -> None:
            async with gate:
                if k % 3 == 0:
                    fake.hold_next(f"n={k}x", rng.uniform(0.05, 0.2))
                await client.call(STORE, token, "GET", "store", params={"n": f"{k}x"})

        try:
            await asyncio.gather(*(one(k) for k in range(1, 241)))
        finally:
            await client.aclose()
    assert fake.stats["throttled"] == 0
    assert fake.stats["requests"] == 240


def service(url: str) -> Any:
    """tiendanube_service itself (its HTTP API: the orchestrator's way in) on the fake."""
    from tiendanube_service.app import create_app as service_app
    from tiendanube_service.config import Settings

    return service_app(
        Settings(
            nexus_env="test",
            log_level="WARNING",
            internal_api_token=INTERNAL,
            tiendanube_api_url=f"{url}/v1",
            tiendanube_auth_url=f"{url}/apps/authorize/token",
        )
    )


INTERNAL = "rate-limit-test-internal-token-0123"


async def test_an_order_update_overtakes_a_recovery_batch_waiting_for_the_bucket() -> None:
    """A recovery batch (background lane) keeps the store's bucket full with a queue of reads
    behind it; an order update's read (foreground, the default) then takes the next free slot
    instead of waiting behind the whole queue. Without the lanes it went out last."""
    fake = FakeTiendanube(bucket_capacity=4, leak_per_s=4.0)
    add_store(fake, store_id=STORE, name="Tienda", products=3, customers=1, orders=1)
    token = fake.token_for(STORE)
    order_id = next(iter(fake.stores[STORE].orders))
    batch_size = 16
    with ThreadServer(create_app(fake)) as srv:
        app = service(srv.url)
        with ThreadServer(app) as svc:
            headers = {"X-Internal-Token": INTERNAL, "X-Tiendanube-Token": token}
            background = {**headers, "X-Nexus-Lane": "background"}
            async with httpx.AsyncClient(base_url=f"{svc.url}/v1/stores/{STORE}", timeout=60) as client:
                assert (await client.get("/store", headers=headers)).status_code == 200  # learns the limit
                bucket = app.state.limiter.bucket(STORE)
                batch = [
                    asyncio.create_task(client.get("/store", params={"bg": k}, headers=background))
                    for k in range(batch_size)
                ]
                while bucket.reserved < 6:  # the bucket is full, the rest of the batch waits in line
                    await asyncio.sleep(0.005)
                reserved_before = bucket.reserved
                r = await client.get(f"/orders/{order_id}", headers=headers)
                assert r.status_code == 200, r.text
                assert all(r.status_code == 200 for r in await asyncio.gather(*batch))
    log = [path for _method, path in fake.request_log if path.startswith(("/store?", "/orders/"))]
    position = next(i for i, path in enumerate(log) if path.startswith("/orders/"))
    # Before the order's read: the probe and the batch's reads reserved when it arrived (and at
    # most the one being reserved just then); the rest of the batch after it.
    assert position <= reserved_before + 1
    assert len(log) - 1 - position >= batch_size + 1 - (reserved_before + 1)
    assert fake.stats["throttled"] == 0


async def test_an_unknown_lane_is_refused_with_a_json_error() -> None:
    fake = FakeTiendanube()
    add_store(fake, store_id=STORE, name="Tienda", products=1)
    with ThreadServer(create_app(fake)) as srv, ThreadServer(service(srv.url)) as svc:
        async with httpx.AsyncClient(base_url=svc.url) as client:
            r = await client.get(
                f"/v1/stores/{STORE}/store",
                headers={
                    "X-Internal-Token": INTERNAL,
                    "X-Tiendanube-Token": fake.token_for(STORE),
                    "X-Nexus-Lane": "vip",
                },
            )
    assert r.status_code == 422
    assert r.json()["error"]["code"]
    assert fake.stats["requests"] == 0
