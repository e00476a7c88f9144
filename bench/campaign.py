# ruff: noqa: E501 - SQL reads better unwrapped
"""A campaign to 100,000 recipients against the fake Graph, at 80 and at 1,000 messages/s.

Targets (issue 13): achieved rate within 5% of the limit, 0 × 130429, 0 duplicates after a kill -9
of the orchestrator mid-run, orchestrator memory flat (RSS at start, middle, end).

Real processes on loopback: the fake Graph (enforcing the throughput limit with a token bucket,
answering 130429 above it, posting batched `sent` status webhooks that it redelivers until
accepted), whatsapp_service and the orchestrator (uvicorn); a throwaway database on the local
Postgres. Customers are generated in SQL (opted in, one WhatsApp identity each); everything else
goes through the public API. Half way through, the orchestrator gets SIGKILL and is started again
on the same port; the rate is measured at the fake, before the kill and after the restart (the
baseline ratio is achieved / limit). delivered/read statuses are off here (they are exercised by
the tests) so the machine's cores go to the sends.

Usage: uv run python bench/campaign.py [--recipients 100000] [--rates 80,1000] [--no-kill]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fakes.meta_graph.templates import template  # noqa: E402
from tests.conftest import ADMIN_DSN, free_port  # noqa: E402

ADMIN = "bench-admin-token-0123456789"
INTERNAL = "bench-internal-token-0123456789"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
APP_SECRET = "bench-app-secret"  # noqa: S105 - a loopback fake's secret

GENERATE = [
    """INSERT INTO customers (id, tenant_id, name, phone_number, locale)
       SELECT md5(%(salt)s || g)::uuid, %(t)s, 'Cliente ' || g, '+54911' || lpad(g::text, 8, '0'), 'es'
       FROM generate_series(1, %(n)s) g""",
    """INSERT INTO channel_identities (tenant_id, customer_id, channel, external_id)
       SELECT %(t)s, md5(%(salt)s || g)::uuid, 'whatsapp', '54911' || lpad(g::text, 8, '0')
       FROM generate_series(1, %(n)s) g""",
    """INSERT INTO customer_consents (tenant_id, customer_id, channel, state, source, at)
       SELECT %(t)s, md5(%(salt)s || g)::uuid, 'whatsapp', 'opted_in', 'import', now()
       FROM generate_series(1, %(n)s) g""",
    "ANALYZE",
]


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """user + system CPU seconds of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_of(comm: str) -> float:
    """CPU seconds of every process with this name (Postgres backends come and go with pools;
    the machine's other Postgres users count too, so the bench wants a quiet machine)."""
    total = 0.0
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() == comm:
                    total += cpu_s(int(d.name))
            except OSError:
                continue
    return total


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def spawn(args: list[str], env: dict[str, str], log: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env={**os.environ, **env}, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)  # type: ignore[arg-type]


def uvicorn(target: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--no-access-log"]  # fmt: skip


def wait_ready(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"not ready: {url}")


def snapshot(procs: dict[str, int], sent: int) -> dict[str, float]:
    t = os.times()
    snap = {name: cpu_s(pid) for name, pid in procs.items()}
    snap.update(postgres=cpu_of("postgres"), redis=cpu_of("redis-server"), bench=t.user + t.system)
    snap.update(wall=time.monotonic(), sent=float(sent))
    return snap


def cpu_per_message(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    """ms of CPU per accepted message for each process between two snapshots, and in all."""
    n = max(b["sent"] - a["sent"], 1.0)
    out = {k: (b[k] - a[k]) * 1000 / n for k in a if k not in ("wall", "sent")}
    out["all"] = sum(out.values())
    out["messages"] = n
    out["wall_s"] = b["wall"] - a["wall"]
    return out


def py_spy(pid: int, seconds: int, out: str) -> subprocess.Popen[bytes] | None:
    """Sample a process for `seconds` (collapsed stacks, idle frames left out)."""
    exe = os.environ.get("PY_SPY", "py-spy")
    try:
        return subprocess.Popen(
            [exe, "record", "-p", str(pid), "-d", str(seconds), "-r", "50", "-f", "raw", "-o", out],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None


def run_one(rate: int, n: int, kill: bool, log: object, profile: int = 0) -> dict[str, object]:
    dbname = f"nexus_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{dbname}"')
    dsn = ADMIN_DSN.rsplit("/", 1)[0] + "/" + dbname
    procs: list[subprocess.Popen[bytes]] = []
    try:
        gp, wp, op = free_port(), free_port(), free_port()
        graph = f"http://127.0.0.1:{gp}"
        orch = f"http://127.0.0.1:{op}"
        common = {"NEXUS_ENV": "test", "INTERNAL_API_TOKEN": INTERNAL, "LOG_LEVEL": "WARNING"}
        fake = spawn([sys.executable, "-m", "fakes.meta_graph", "--port", str(gp)], {}, log)
        procs.append(fake)
        wa = spawn(
            uvicorn("whatsapp_service.app:create_app", wp),
            {**common, "WHATSAPP_GRAPH_URL": f"{graph}/v21.0"},
            log,
        )
        procs.append(wa)
        env = {
            **common,
            "POSTGRES_DSN": dsn,
            "ADMIN_TOKEN": ADMIN,
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
            "AGENT_SERVICE_URL": "http://127.0.0.1:9",
            "WHATSAPP_SERVICE_URL": f"http://127.0.0.1:{wp}",
            "NEXUS_OUTBOX_GRACE_SECONDS": "60",
        }
        orchestrator = spawn(uvicorn("orchestrator.app:create_app", op), env, log)
        procs.append(orchestrator)
        wait_ready(f"{graph}/_fake/sent?to=none")
        wait_ready(f"{orch}/health/ready")
        admin = {"Authorization": f"Bearer {ADMIN}"}
        with httpx.Client(timeout=60) as client:
            tenant = client.post(
                f"{orch}/api/v1/tenants", json={"name": "Tienda Bench"}, headers=admin
            ).json()["id"]
            h = {**admin, "X-Tenant-Id": tenant}
            client.put(
                f"{orch}/api/v1/tenants/{tenant}/channels/whatsapp",
                json={
                    "phone_number_id": PHONE_NUMBER_ID,
                    "access_token": "EAAG-bench",
                    "app_secret": APP_SECRET,
                    "verify_token": "bench-verify",
                    "waba_id": WABA_ID,
                },
                headers=admin,
            ).raise_for_status()
            promo = template(
                "promo_bench", "es_AR", body="Hola {{1}}, ofertas en {{2}}", category="MARKETING"
            )
            client.post(
                f"{graph}/_fake/templates",
                json={"waba_id": WABA_ID, "templates": [promo], "phone_number_id": PHONE_NUMBER_ID},
            ).raise_for_status()
            client.post(
                f"{graph}/_fake/config",
                json={
                    "throughput": rate,
                    "record_bodies": False,
                    "template_statuses": [],
                    "status_webhook": {"url": f"{orch}/webhooks/whatsapp", "app_secret": APP_SECRET},
                },
            ).raise_for_status()
            client.post(f"{orch}/api/v1/templates/sync", headers=h).raise_for_status()
            client.put(
                f"{orch}/api/v1/settings/sending",
                json={"messages_per_second": rate, "unlimited": True},
                headers=h,
            ).raise_for_status()
            t0 = time.monotonic()
            with psycopg.connect(dsn, autocommit=True) as c:
                for sql in GENERATE:
                    c.execute(sql, {"t": tenant, "n": n, "salt": "bench"})  # type: ignore[arg-type]
            seeded = time.monotonic() - t0
            cid = client.post(
                f"{orch}/api/v1/campaigns",
                json={"name": "Bench", "template": "promo_bench", "language": "es_AR"},
                headers=h,
            ).json()["id"]
            r = client.post(f"{orch}/api/v1/campaigns/{cid}/start", headers=h)
            r.raise_for_status()
            rss = {"start": rss_mb(orchestrator.pid)}

            def sent() -> int:
                return int(client.get(f"{graph}/_fake/count").json()["sent"])

            def pids() -> dict[str, int]:
                return {"orchestrator": orchestrator.pid, "whatsapp_service": wa.pid, "fake_graph": fake.pid}

            cpu_start = snapshot(pids(), sent())
            cpu_mid: dict[str, float] | None = None
            spies: list[subprocess.Popen[bytes] | None] = []
            profiles: dict[str, str] = {}

            kill_at = n // 2 if kill else None
            trace: list[str] = []
            killed_epoch = restart_epoch = None
            polls = 0
            while True:
                done = sent()
                if profile and not spies and done >= n // 10:
                    for name, pid in pids().items():
                        profiles[name] = f"{tempfile.gettempdir()}/campaign_{rate}_{name}.txt"
                        spies.append(py_spy(pid, profile, profiles[name]))
                if cpu_mid is None and done >= n // 2:
                    cpu_mid = snapshot(pids(), done)
                if kill_at is not None and done >= kill_at:
                    rss["middle (before kill)"] = rss_mb(orchestrator.pid)
                    killed_epoch = time.time()
                    orchestrator.send_signal(signal.SIGKILL)
                    orchestrator.wait()
                    orchestrator = spawn(uvicorn("orchestrator.app:create_app", op), env, log)
                    procs.append(orchestrator)
                    wait_ready(f"{orch}/health/ready")
                    restart_epoch = time.time()
                    rss["after restart"] = rss_mb(orchestrator.pid)
                    kill_at = None
                if not kill and "middle" not in rss and done >= n // 2:
                    rss["middle"] = rss_mb(orchestrator.pid)
                if done >= len(trace) * n // 10:  # the orchestrator's RSS at every tenth sent
                    trace.append(f"{done}:{rss_mb(orchestrator.pid):.0f}")
                if done >= n:
                    break
                polls += 1
                if polls % 10 == 0:  # the campaign's counts are not free: look now and then
                    status = client.get(f"{orch}/api/v1/campaigns/{cid}", headers=h).json()["status"]
                    if status in ("done", "paused", "cancelled") and done < n:
                        raise SystemExit(f"campaign {status} at {done}/{n}")
                time.sleep(0.5)
            deadline = time.monotonic() + 120
            while client.get(f"{orch}/api/v1/campaigns/{cid}", headers=h).json()["status"] != "done":
                if time.monotonic() > deadline:
                    raise SystemExit("campaign did not finish")
                time.sleep(0.5)
            rss["end"] = rss_mb(orchestrator.pid)
            time.sleep(2)  # room for a late duplicate
            total = client.get(f"{graph}/_fake/stats").json()
            if killed_epoch is not None and restart_epoch is not None:
                before = client.get(f"{graph}/_fake/stats", params={"until": killed_epoch}).json()
                after = client.get(f"{graph}/_fake/stats", params={"since": restart_epoch}).json()
            else:
                before, after = total, None
            counts = client.get(f"{orch}/api/v1/campaigns/{cid}", headers=h).json()["counts"]
            for spy in spies:
                if spy is not None:
                    spy.wait(timeout=profile + 30)
        cpu = cpu_per_message(cpu_start, cpu_mid) if cpu_mid else {}
        return {"rate": rate, "n": n, "seeded_s": seeded, "total": total, "before": before, "after": after,
                "rss": rss, "counts": counts, "cpu": cpu, "profiles": profiles, "trace": trace}  # fmt: skip
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipients", type=int, default=100_000)
    ap.add_argument("--rates", default="80,1000")
    ap.add_argument("--no-kill", action="store_true")
    ap.add_argument("--profile", type=int, default=0, help="py-spy each service for N s from 10%% sent")
    a = ap.parse_args()
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    results = []
    with tempfile.NamedTemporaryFile(prefix="bench_campaign_", suffix=".log", delete=False) as log:
        for rate in [int(x) for x in a.rates.split(",")]:
            print(f"running {a.recipients} recipients at {rate} msg/s ...", flush=True)
            results.append(run_one(rate, a.recipients, not a.no_kill, log, a.profile))
        print(f"(service logs: {log.name})")
    print()
    print(
        "| limit msg/s | recipients | sent | duplicates | 130429 | rate before kill | rate after restart | ratio (before/after ÷ limit) | RSS MB start / middle / after restart / end |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        total, before, after = r["total"], r["before"], r["after"]  # type: ignore[index]
        rb = before["rate"] or 0.0  # type: ignore[index]
        ra = (after or {}).get("rate") or 0.0  # type: ignore[union-attr]
        rss = r["rss"]  # type: ignore[index]
        print(
            f"| {r['rate']} | {r['n']} | {total['sent']} | {total['duplicates']} | {total['rejected'].get('130429', 0)} "  # type: ignore[index]
            f"| {rb:.1f} | {ra:.1f} | {rb / r['rate']:.3f} / {ra / r['rate']:.3f} "  # type: ignore[operator]
            f"| {' / '.join(f'{v:.0f}' for v in rss.values())} |"  # type: ignore[union-attr]
        )
    for r in results:
        print(f"counts at {r['rate']} msg/s: {r['counts']}")
        print(f"orchestrator RSS MB by messages sent at {r['rate']} msg/s: {' '.join(r['trace'])}")  # type: ignore[arg-type]
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print()
    print(
        "CPU ms per accepted message, first half (campaign start → half sent; Postgres and Redis: all their processes)"
    )
    names = ["orchestrator", "whatsapp_service", "fake_graph", "postgres", "redis", "bench", "all"]
    print("| limit msg/s | messages | wall s | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for r in results:
        c = r["cpu"]  # type: ignore[index]
        if c:
            print(
                f"| {r['rate']} | {c['messages']:.0f} | {c['wall_s']:.1f} | "
                + " | ".join(f"{c[k]:.2f}" for k in names)
                + " |"
            )  # type: ignore[index]
        for name, path in r["profiles"].items():  # type: ignore[attr-defined]
            print(f"py-spy {name} at {r['rate']} msg/s: {path}")


if __name__ == "__main__":
    main()
