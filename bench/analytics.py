# ruff: noqa: E501 - SQL reads better unwrapped
"""Analytics overview over 1,000,000 messages / 50,000 conversations (one tenant).

Targets (issue 6): cold (no cache) p50 < 300 ms, warm (Redis) p50 < 5 ms.
Builds a throwaway database on the local Postgres, generates rows with INSERT ... SELECT
generate_series (the rollup triggers fire as in production), then calls the real endpoint
in-process. Usage: uv run python bench/analytics.py [--messages 1000000] [--runs 30]
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

import httpx
import psycopg
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import TEST_REDIS_URL, create_database, drop_database  # noqa: E402

GENERATE = [
    # 50,000 customers and conversations spread over 90 days.
    """INSERT INTO customers (id, tenant_id, name, phone_number)
       SELECT md5('cu' || g)::uuid, %(t)s, 'Cliente ' || g, '+54911' || lpad(g::text, 8, '0')
       FROM generate_series(1, %(convs)s) g""",
    """INSERT INTO chat_conversations (id, tenant_id, customer_id, channel, status, created_at)
       SELECT md5('cv' || g)::uuid, %(t)s, md5('cu' || g)::uuid, 'whatsapp', 'resolved',
              timestamptz '2026-01-01 00:00+00' + (g %% 90) * interval '1 day' + (g %% 1440) * interval '1 minute'
       FROM generate_series(1, %(convs)s) g""",
    # Messages alternate customer / reply (AI, sometimes a human), a couple of minutes apart.
    """INSERT INTO chat_messages (tenant_id, conversation_id, channel, direction, sender, text, status, created_at)
       SELECT %(t)s, md5('cv' || g)::uuid, 'whatsapp',
              CASE WHEN i %% 2 = 0 THEN 'inbound' ELSE 'outbound' END,
              CASE WHEN i %% 2 = 0 THEN 'customer' WHEN i %% 7 = 1 THEN 'human' ELSE 'ai' END,
              'mensaje ' || i, CASE WHEN i %% 2 = 0 THEN 'received' ELSE 'sent' END,
              timestamptz '2026-01-01 00:00+00' + (g %% 90) * interval '1 day' + (g %% 1440) * interval '1 minute'
                + (i %% %(per)s) * interval '2 minutes' + (i %% 2) * interval '17 seconds'
       FROM generate_series(0, %(msgs)s - 1) i, LATERAL (SELECT 1 + i / %(per)s AS g) x""",
    # One AI turn per customer message, some falling back, each searching the catalog.
    """INSERT INTO agent_runs (tenant_id, conversation_id, outcome, fallback_used, steps, created_at)
       SELECT %(t)s, md5('cv' || g)::uuid,
              CASE WHEN i %% 25 = 0 THEN 'fallback' WHEN i %% 40 = 0 THEN 'handoff' ELSE 'answered' END,
              i %% 25 = 0,
              jsonb_build_array(jsonb_build_object('kind', 'tool_call', 'name', 'search_products',
                  'detail', jsonb_build_object('query', (ARRAY['zapatillas','remera','buzo','campera','short',
                  'medias','gorra','mochila','jean','vestido'])[1 + i %% 10]))),
              timestamptz '2026-01-01 00:00+00' + (g %% 90) * interval '1 day' + (g %% 1440) * interval '1 minute'
       FROM generate_series(0, %(msgs)s / 2 - 1) i, LATERAL (SELECT 1 + (2 * i) / %(per)s AS g) x""",
    """INSERT INTO handoffs (tenant_id, conversation_id, source, reason, actor, created_at)
       SELECT %(t)s, md5('cv' || g)::uuid, 'ai', (ARRAY['asked_for_human','repeated_failures','agent_tool'])[1 + g %% 3],
              'ai', timestamptz '2026-01-01 00:00+00' + (g %% 90) * interval '1 day' + interval '3 minutes'
       FROM generate_series(1, %(convs)s, 20) g""",
    "ANALYZE",
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--conversations", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()

    name, dsn = create_database()
    try:
        env = {
            "nexus_env": "test",
            "postgres_dsn": dsn,
            "redis_url": TEST_REDIS_URL,
            "admin_token": "bench-admin-token-0123456789",
            "internal_api_token": "bench-internal-token-0123456789",
            "encryption_key": Fernet.generate_key().decode(),
            "nexus_migrations_dir": str(REPO / "migrations"),
            "nexus_worker_enabled": "false",
            "log_level": "ERROR",
        }
        from orchestrator.app import create_app
        from orchestrator.config import Settings

        app = create_app(Settings(**env))
        async with app.router.lifespan_context(app):
            tenant = uuid.uuid4()
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("INSERT INTO tenants (id, name) VALUES (%s, 'Bench store')", (tenant,))
                started = time.perf_counter()
                params = {
                    "t": tenant,
                    "convs": args.conversations,
                    "msgs": args.messages,
                    "per": args.messages // args.conversations,
                }
                for sql in GENERATE:
                    conn.execute(sql, params)
                gen_s = time.perf_counter() - started
                n_msgs = conn.execute("SELECT count(*) FROM chat_messages").fetchone()[0]  # type: ignore[index]
                n_convs = conn.execute("SELECT count(*) FROM chat_conversations").fetchone()[0]  # type: ignore[index]
            headers = {"Authorization": "Bearer bench-admin-token-0123456789", "X-Tenant-Id": str(tenant)}
            ranges = [
                ("2026-01-01", "2026-03-31"),
                ("2026-02-01", "2026-02-28"),
                ("2026-03-25", "2026-03-31"),
            ]
            results: dict[str, tuple[list[float], list[float]]] = {}
            last: dict | None = None
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o") as c:
                for start, end in ranges:
                    url = f"/api/v1/analytics/overview?from={start}&to={end}"
                    cold: list[float] = []
                    warm: list[float] = []
                    for _ in range(args.runs):
                        await app.state.redis.delete(f"nexus:analytics:{tenant}:{start}:{end}")
                        t0 = time.perf_counter()
                        r = await c.get(url, headers=headers)
                        cold.append((time.perf_counter() - t0) * 1000)
                        assert r.status_code == 200 and r.headers["X-Cache"] == "miss", r.text
                    for _ in range(args.runs * 5):
                        t0 = time.perf_counter()
                        r = await c.get(url, headers=headers)
                        warm.append((time.perf_counter() - t0) * 1000)
                        assert r.headers["X-Cache"] == "hit"
                    results[f"{start}..{end}"] = (cold, warm)
                    if last is None:
                        last = r.json()["totals"]
        print(
            f"\nanalytics overview — {n_msgs:,} messages, {n_convs:,} conversations "
            f"(generated in {gen_s:.1f} s), {args.runs} cold / {args.runs * 5} warm calls per range\n"
        )
        print(f"{'range':<24} {'cold p50':>9} {'cold p95':>9} {'warm p50':>9} {'warm p95':>9}  target")
        ok = True
        for label, (cold, warm) in results.items():
            c50, w50 = statistics.median(cold), statistics.median(warm)
            ok = ok and c50 < 300 and w50 < 5
            print(
                f"{label:<24} {c50:>7.1f}ms {pct(cold, 95):>7.1f}ms {w50:>7.2f}ms {pct(warm, 95):>7.2f}ms  "
                f"cold<300ms {'✓' if c50 < 300 else '✗'}  warm<5ms {'✓' if w50 < 5 else '✗'}"
            )
        print(
            f"\nfull-range totals: messages_in={last['messages_in']:,} messages_out={last['messages_out']:,} "
            f"median_frt={last['median_first_response_seconds']}s fallback_rate={last['fallback_rate']}"
        )
        print("RESULT:", "PASS" if ok else "FAIL")
    finally:
        drop_database(name)


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    asyncio.run(main())
