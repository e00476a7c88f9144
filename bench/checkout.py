"""Checkout-link benchmark (issue 15): from the customer's "finalizar compra" to the link sent.

Everything is real and on loopback (tests/sales/conftest.py starts it): the fake Tienda Nube with
its production rate limit (a 40-request bucket leaking 2 requests/s per store) behind
tiendanube_service, the fake Graph behind whatsapp_service, agent_service with no LLM key (the
platform's own offline responder answers), and the orchestrator with its job workers.

For N customers with one item in their cart:
- baseline: "hola" → the greeting sent (the same pipeline, no Tienda Nube call);
- sequential: each customer writes "finalizar compra" after the previous link went out;
- burst: all N write "finalizar compra" at once (2 Tienda Nube calls each: the live product read
  and the draft order; past the bucket the service paces instead of being refused).
Prints p50/p99 per phase, the ratio to the baseline, and the 429s the fake answered (must be 0).

    uv run python bench/checkout.py [--customers 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.sales.conftest import AURORA_VARIANTS, Shop, open_shop  # noqa: E402

ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def make_db() -> tuple[str, str]:
    name = f"nexus_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return name, ADMIN_DSN.rpartition("/")[0] + "/" + name


def drop_db(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def wait_sent(shop: Shop, wa: str, count: int, kind: str | None, timeout: float = 120.0) -> float:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mine = [m for m in shop.graph.sent if m["to"] == wa]
        if len(mine) >= count and (
            kind is None
            or any(m["body"].get("interactive", {}).get("type") == kind for m in mine[count - 1 :])
        ):
            return time.monotonic()
        await asyncio.sleep(0.005)
    raise TimeoutError(f"nothing sent to {wa}")


async def timed(shop: Shop, wa: str, text: str, kind: str | None) -> float:
    before = len([m for m in shop.graph.sent if m["to"] == wa])
    started = time.monotonic()
    await shop.say(text, wa=wa)
    return (await wait_sent(shop, wa, before + 1, kind)) - started


async def main(customers: int) -> None:
    name, dsn = make_db()
    try:
        async with open_shop(dsn, Fernet.generate_key().decode(), os.environ.__setitem__) as shop:
            wa_ids = [f"54911666{n:05d}" for n in range(customers)]
            baseline = [await timed(shop, wa, "hola", None) for wa in wa_ids]
            variant = AURORA_VARIANTS[("M", "Blanco")][0]

            async def prepare() -> None:
                with psycopg.connect(dsn) as c:
                    c.execute(
                        "UPDATE customers SET name = 'Ana Pérez', email = 'ana' || id || '@example.com'"
                    )
                    convs = [r[0] for r in c.execute("SELECT id FROM chat_conversations").fetchall()]
                for conv in convs:
                    r = await shop.api(
                        "PUT",
                        f"/api/v1/conversations/{conv}/cart",
                        {"items": [{"variant_id": variant, "quantity": 1}]},
                    )
                    assert r.status_code == 200, r.text

            shop.fake.reset_stats()
            await prepare()
            sequential = [await timed(shop, wa, "finalizar compra", "cta_url") for wa in wa_ids]
            await prepare()
            burst = await asyncio.gather(*(timed(shop, wa, "finalizar compra", "cta_url") for wa in wa_ids))
            throttled = shop.fake.stats["throttled"]
            links = len(
                [m for m in shop.graph.sent if m["body"].get("interactive", {}).get("type") == "cta_url"]
            )
    finally:
        drop_db(name)
    base50 = statistics.median(baseline)
    print(f"checkout link benchmark: {customers} customers, Tienda Nube bucket 40 leaking 2/s")
    print(f"{'phase':<34}{'p50 ms':>10}{'p99 ms':>10}{'p50 / baseline':>16}")
    for label, values in (
        ('baseline "hola" → greeting', baseline),
        ('"finalizar compra" → link, serial', sequential),
        ('"finalizar compra" → link, burst', list(burst)),
    ):
        p50 = statistics.median(values)
        print(f"{label:<34}{p50 * 1000:>10.0f}{pct(values, 99) * 1000:>10.0f}{p50 / base50:>16.2f}")
    print(f"links sent: {links} of {2 * customers}; Tienda Nube 429 answers: {throttled}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=30)
    asyncio.run(main(parser.parse_args().customers))
