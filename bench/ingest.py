"""Webhook ingestion benchmark (issue 3). Prints a table.

1. Ack path: N signed WhatsApp webhooks (each a distinct message) posted from a separate process
   over loopback with C keep-alive connections, to (a) the orchestrator — signature check, raw
   event + job committed in Postgres, 200 — and (b) a bare FastAPI endpoint that parses the same
   body and returns 200, in the same invocation. Rows are counted in Postgres afterwards.
2. End to end: webhook → ingest → turn (agent_service's instant offline responder) → outbox →
   whatsapp_service → the fake Graph's send call, one message at a time, debounce 0.

Usage: uv run python bench/ingest.py [--count 3000] [--concurrency 32] [--e2e 100]
Needs the local Postgres (TEST_POSTGRES_DSN, default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN = "bench-admin-token-0123456789"
INTERNAL = "bench-internal-token-0123456789"
PHONE_ID = "106540352242922"
SECRET = "bench-app-secret"  # noqa: S105 - a throwaway local secret

BARE_APP = """
import json
from fastapi import FastAPI, Request
app = FastAPI()
@app.post("/webhooks/whatsapp")
async def hook(request: Request):
    json.loads(await request.body())
    return {"status": "received"}
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# ---------------------------------------------------------------- load generator (own process)
async def _load(port: int, bodies: list[tuple[bytes, str]], concurrency: int) -> dict[str, object]:
    queue: asyncio.Queue[tuple[bytes, str]] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def conn() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while True:
            try:
                body, sig = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            req = (
                f"POST /webhooks/whatsapp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"X-Hub-Signature-256: {sig}\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            t0 = time.perf_counter()
            writer.write(req)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            code = int(head.split(b" ", 2)[1])
            statuses[code] = statuses.get(code, 0) + 1
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(conn() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    return {"elapsed": elapsed, "latencies": latencies, "statuses": statuses}


def load_main(argv: list[str]) -> None:
    port, count, concurrency, seed = int(argv[0]), int(argv[1]), int(argv[2]), argv[3]
    from fakes.meta_graph import sign, wa_message
    from fakes.meta_graph.payloads import encode

    bodies = []
    for i in range(count):
        wa = f"54911{(hash(seed) % 1000):03d}{i:05d}"[:13]
        body = encode(wa_message(PHONE_ID, wa, text=f"hola {i}", message_id=f"wamid.BENCH.{seed}.{i}"))
        bodies.append((body, sign(body, SECRET)))
    res = asyncio.run(_load(port, bodies, concurrency))
    print(json.dumps(res))


def run_load(port: int, count: int, concurrency: int) -> dict[str, Any]:
    import resource

    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    pg0 = postgres_cpu_seconds()
    out = subprocess.run(
        [sys.executable, __file__, "_load", str(port), str(count), str(concurrency), uuid.uuid4().hex[:8]],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    res: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The machine's other two consumers in the same round: Postgres (every backend, the WAL
    # writer...) and the load generator (this subprocess).
    res["pg_cpu_ms_per_req"] = (postgres_cpu_seconds() - pg0) * 1000 / count
    res["load_cpu_ms_per_req"] = (
        (children.ru_utime + children.ru_stime - children0.ru_utime - children0.ru_stime) * 1000 / count
    )
    return res


def postgres_cpu_seconds() -> float:
    """User + system CPU time of every `postgres` process on this host (Linux /proc)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:
            continue
        name, _, rest = raw.partition(") ")
        if name.endswith("(postgres"):
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- orchestration
def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, env={**os.environ, **env}, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_http(url: str, timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"not ready: {url}")


def uvicorn_cmd(target: str, port: int, factory: bool = True) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return cmd[:3] + ["--factory"] + cmd[3:] if factory else cmd


def start_py_spy(binary: str, pid: int) -> tuple[subprocess.Popen[bytes], Path]:
    out = Path(tempfile.gettempdir()) / f"nexus_bench_ingest_{pid}.stacks"
    proc = subprocess.Popen(
        [binary, "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--nonblocking"]
        + ["--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # attached before the load starts
    return proc, out


ON_ACK_PATH = (
    "orchestrator/",
    "nexus_common/",
    "sqlalchemy/",
    "asyncpg/",
    "starlette/",
    "fastapi/",
    "uvicorn/",
)


def stop_py_spy(spy: tuple[subprocess.Popen[bytes], Path]) -> tuple[Path, list[str]]:
    """Stop the sampler (it writes on SIGINT) and summarise the collapsed stacks."""
    import signal

    proc, out = spy
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    self_n: dict[str, int] = {}
    incl_n: dict[str, int] = {}
    total = 0
    for line in out.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        count = int(n)
        total += count
        frames = stack.split(";")
        # "func (file:line)" → "func (file)": one entry per function, not per line.
        names = [f.split(":")[0] + ")" if "(" in f else f for f in frames]
        self_n[names[-1]] = self_n.get(names[-1], 0) + count
        for name in set(names):
            incl_n[name] = incl_n.get(name, 0) + count
    lines = [f"py-spy, {total} samples of the orchestrator during the ingest run; self time:"]
    for name, n in sorted(self_n.items(), key=lambda kv: -kv[1])[:15]:
        lines.append(f"  {100 * n / total:5.1f}%  {name}")
    lines.append("inclusive (frames of this repo and the libraries on the ack path):")
    shown = 0
    for name, n in sorted(incl_n.items(), key=lambda kv: -kv[1]):
        if any(k in name for k in ON_ACK_PATH):
            lines.append(f"  {100 * n / total:5.1f}%  {name}")
            shown += 1
            if shown == 25:
                break
    return out, lines


class Stack:
    """The fakes, the bare endpoint and one database per orchestrator run; stopped in `close`."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.dbs: list[str] = []
        self.dirs: list[Path] = []

    def database(self) -> str:
        import psycopg

        name = f"nexus_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        self.dbs.append(name)
        return ADMIN_DSN.rsplit("/", 1)[0] + "/" + name

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def close(self) -> None:
        import shutil

        import psycopg

        for p in list(self.procs):
            self.stop(p)
        with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
            for name in self.dbs:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)


def checkout(ref: str, stack: Stack) -> str:
    """`ref`'s orchestrator and nexus_common, extracted (git archive) for a PYTHONPATH that wins over
    the editable installs of this tree: the "before" column runs the old code in this same run."""
    out = Path(tempfile.mkdtemp(prefix="nexus_bench_before_"))
    stack.dirs.append(out)
    archive = subprocess.run(
        ["git", "archive", ref, "orchestrator", "libs", "migrations", "alembic.ini"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return os.pathsep.join([str(out / "orchestrator" / "src"), str(out / "libs" / "nexus_common" / "src")])


def start_orchestrator(
    stack: Stack, env: dict[str, str], pythonpath: str | None
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    extra = {"PYTHONPATH": pythonpath} if pythonpath else {}
    proc = spawn(uvicorn_cmd("orchestrator.app:create_app", port), {**env, **extra})
    stack.procs.append(proc)
    wait_http(f"http://127.0.0.1:{port}/health/ready")
    return proc, port


def connect_channel(port: int) -> None:
    import httpx

    auth = {"Authorization": f"Bearer {ADMIN}"}
    tid = httpx.post(f"http://127.0.0.1:{port}/api/v1/tenants", json={"name": "Bench"}, headers=auth).json()[
        "id"
    ]
    httpx.put(
        f"http://127.0.0.1:{port}/api/v1/tenants/{tid}/channels/whatsapp",
        headers=auth,
        json={
            "phone_number_id": PHONE_ID,
            "access_token": "EAAG-bench-token-000",
            "app_secret": SECRET,
            "verify_token": "bench-verify-token",
        },
    ).raise_for_status()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): cost per ack, steadier than the rate
    when other work shares the cores."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ingest_runs(
    stack: Stack,
    base_env: dict[str, str],
    versions: list[tuple[str, str | None]],
    a: argparse.Namespace,
    bare: tuple[subprocess.Popen[bytes], int],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Phase 1: acks only (no worker competes for the cores). Every version's orchestrator is up at
    once (idle ones cost nothing) and the rounds alternate between them, so a burst of load from
    elsewhere hits all versions alike; each version's median round is reported."""
    import psycopg

    started = []
    for label, path in versions:
        dsn = stack.database()
        env = {**base_env, "POSTGRES_DSN": dsn, "NEXUS_WORKER_ENABLED": "false"}
        orch, port = start_orchestrator(stack, env, path)
        connect_channel(port)
        run_load(port, 200, a.concurrency)  # warm-up (connections, caches)
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("TRUNCATE inbound_events")
            c.execute("SET search_path TO procrastinate, public; DELETE FROM procrastinate_jobs")
        started.append((label, path, dsn, orch, port))
    rounds: dict[str, list[dict[str, Any]]] = {label: [] for label, *_ in started}
    bare_rounds: list[dict[str, Any]] = []
    profiles: dict[str, Any] = {}
    run_load(bare[1], 200, a.concurrency)
    for n in range(a.rounds):
        cpu0 = cpu_seconds(bare[0].pid)
        bare_rounds.append(run_load(bare[1], a.count, a.concurrency))
        bare_rounds[-1]["cpu_ms_per_ack"] = (cpu_seconds(bare[0].pid) - cpu0) * 1000 / a.count
        for label, path, _, orch, port in started:
            spy = a.py_spy if (path is None and n == a.rounds - 1) else ""
            sampler = start_py_spy(spy, orch.pid) if spy else None
            cpu0 = cpu_seconds(orch.pid)
            res: dict[str, Any] = run_load(port, a.count, a.concurrency)
            res["cpu_ms_per_ack"] = (cpu_seconds(orch.pid) - cpu0) * 1000 / a.count
            if sampler:
                profiles[label] = stop_py_spy(sampler)
            rounds[label].append(res)

    def median_round(runs: list[dict[str, Any]]) -> dict[str, Any]:
        by_rate = sorted(runs, key=lambda r: len(r["latencies"]) / r["elapsed"])
        res = dict(by_rate[len(runs) // 2])
        for k in ("cpu_ms_per_ack", "pg_cpu_ms_per_req", "load_cpu_ms_per_req"):
            res[k] = statistics.median(r[k] for r in runs)
        res["rates"] = [len(r["latencies"]) / r["elapsed"] for r in runs]
        return res

    out: dict[str, dict[str, Any]] = {}
    for label, _, dsn, orch, _ in started:
        res = median_round(rounds[label])
        res["profile"] = profiles.get(label)
        with psycopg.connect(dsn) as c:
            res["events"], res["distinct"] = c.execute(
                "SELECT count(*), count(DISTINCT "
                "payload->'entry'->0->'changes'->0->'value'->'messages'->0->>'id') FROM inbound_events"
            ).fetchone()  # type: ignore[misc]
            res["jobs"] = c.execute("SELECT count(*) FROM procrastinate.procrastinate_jobs").fetchone()[0]  # type: ignore[index]
        stack.stop(orch)
        out[label] = res
    return median_round(bare_rounds), out


def e2e_runs(
    stack: Stack, base_env: dict[str, str], versions: list[tuple[str, str | None]], n: int, graph_port: int
) -> dict[str, tuple[list[float], list[dict[str, Any]]]]:
    """Phase 2: webhook → the fake Graph's send call, one message at a time, alternating between
    the versions message by message (same load for each). Returns, per version, the latencies and,
    when that version records them, each run's per-hop timings (from its thinking log)."""
    import httpx

    from fakes.meta_graph import signed, wa_message

    started = []
    for label, path in versions:
        dsn = stack.database()
        orch, port = start_orchestrator(stack, {**base_env, "POSTGRES_DSN": dsn}, path)
        connect_channel(port)
        started.append((label, dsn, orch, port))
    prefix = uuid.uuid4().hex[:4]
    e2e: dict[str, list[float]] = {label: [] for label, *_ in started}
    with httpx.Client(timeout=30) as client:
        for i in range(n + 5):
            for v, (label, _, _, port) in enumerate(started):
                wa = f"5511{v}{int(prefix, 16) % 100:02d}{i:06d}"
                body, headers = signed(wa_message(PHONE_ID, wa, text="hola"), SECRET)
                t0 = time.time()
                r = client.post(f"http://127.0.0.1:{port}/webhooks/whatsapp", content=body, headers=headers)
                assert r.status_code == 200, r.text
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    sent = client.get(f"http://127.0.0.1:{graph_port}/_fake/sent", params={"to": wa}).json()
                    if sent:
                        if i >= 5:  # the first few warm the pools
                            e2e[label].append(sent[0]["at"] - t0)
                        break
                    time.sleep(0.002)
                else:
                    raise SystemExit("e2e: no reply within 30 s")
    time.sleep(0.5)  # the last run's closing steps commit after the send
    out = {}
    for label, dsn, orch, _ in started:
        out[label] = (e2e[label], read_hops(dsn, skip=5))
        stack.stop(orch)
    return out


def read_hops(dsn: str, skip: int) -> list[dict[str, Any]]:
    """Per-hop timings of each traced run, oldest first (empty for code that does not trace):
    the `timing` steps the orchestrator wrote into each agent run's thinking log."""
    import psycopg

    with psycopg.connect(dsn) as c:
        rows = c.execute(
            "SELECT steps FROM agent_runs WHERE jsonb_path_exists(steps, '$[*] ? (@.kind == \"timing\")') "
            "ORDER BY created_at"
        ).fetchall()
    return [
        {st["name"]: float(st["duration_ms"]) for st in steps if st.get("kind") == "timing"}
        for (steps,) in rows[skip:]
    ]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        load_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--e2e", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3, help="ingest rounds per version (median reported)")
    ap.add_argument(
        "--before",
        default="",
        help="a git revision: also run its orchestrator (same fakes, same load, same invocation) "
        "and print it as the 'before' rows",
    )
    ap.add_argument(
        "--py-spy",
        default="",
        help="path of a py-spy binary: sample the orchestrator during the ingest run and print "
        "its top frames (self and inclusive); the raw stacks go to a file next to the table",
    )
    a = ap.parse_args()

    from cryptography.fernet import Fernet

    stack = Stack()
    versions: list[tuple[str, str | None]] = []
    try:
        if a.before:
            versions.append((f"before ({a.before})", checkout(a.before, stack)))
        versions.append(("this tree", None))
        gp, agp, wp, bp = (free_port() for _ in range(4))
        common = {"NEXUS_ENV": "test", "INTERNAL_API_TOKEN": INTERNAL, "LOG_LEVEL": "WARNING"}
        stack.procs.append(spawn([sys.executable, "-m", "fakes.meta_graph", "--port", str(gp)], {}))
        # The instant agent: the benchmark measures the pipeline, not an LLM.
        stack.procs.append(spawn(uvicorn_cmd("fakes.instant_agent:create_app", agp), common))
        stack.procs.append(
            spawn(
                uvicorn_cmd("whatsapp_service.app:create_app", wp),
                {**common, "WHATSAPP_GRAPH_URL": f"http://127.0.0.1:{gp}/v21.0"},
            )
        )
        bare_dir = Path(tempfile.mkdtemp(prefix="nexus_bench_bare_"))
        stack.dirs.append(bare_dir)
        (bare_dir / "bare_app.py").write_text(BARE_APP)
        bare_proc = subprocess.Popen(
            uvicorn_cmd("bare_app:app", bp, factory=False),
            cwd=bare_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.procs.append(bare_proc)
        for port in (gp, agp, wp, bp):
            wait_http(
                f"http://127.0.0.1:{port}/health/live" if port in (agp, wp) else f"http://127.0.0.1:{port}/"
            )
        orch_env = {
            **common,
            "ADMIN_TOKEN": ADMIN,
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
            "AGENT_SERVICE_URL": f"http://127.0.0.1:{agp}",
            "WHATSAPP_SERVICE_URL": f"http://127.0.0.1:{wp}",
            "NEXUS_DEBOUNCE_SECONDS": "0",
            "NEXUS_WORKER_POLL_SECONDS": "0.5",
        }
        bare, ingest = ingest_runs(stack, orch_env, versions, a, (bare_proc, bp))
        e2e = e2e_runs(stack, orch_env, versions, a.e2e, gp)
    finally:
        stack.close()

    def row(r: dict[str, Any]) -> tuple[float, float, float, str]:
        lat = [x * 1000 for x in r["latencies"]]
        return len(lat) / r["elapsed"], pct(lat, 50), pct(lat, 99), json.dumps(r["statuses"])

    load = os.getloadavg()
    print(
        f"\nIngestion: {a.count} signed webhooks, {a.concurrency} connections, loopback, separate load "
        f"process; load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"{os.cpu_count()} cores"
    )
    print(
        f"{'target':34} {'acks/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'vs bare':>7} {'CPU ms/ack':>10} "
        f"{'PG ms':>6} {'load ms':>7}  rounds acks/s; statuses"
    )
    bare_rate = row(bare)[0]
    rate, p50, p99, st = row(bare)
    rates = "/".join(f"{x:.0f}" for x in bare["rates"])
    print(
        f"{'bare FastAPI (parse + 200)':34} {rate:7.0f} {p50:7.2f} {p99:7.2f} {'1.00x':>7} "
        f"{bare['cpu_ms_per_ack']:10.3f} {bare['pg_cpu_ms_per_req']:6.3f} {bare['load_cpu_ms_per_req']:7.3f}"
        f"  {rates}; {st}"
    )
    for label, r in ingest.items():
        rate, p50, p99, st = row(r)
        name = f"orchestrator, {label}"
        rates = "/".join(f"{x:.0f}" for x in r["rates"])
        print(
            f"{name:34} {rate:7.0f} {p50:7.2f} {p99:7.2f} {rate / bare_rate:6.2f}x "
            f"{r['cpu_ms_per_ack']:10.3f} {r['pg_cpu_ms_per_req']:6.3f} {r['load_cpu_ms_per_req']:7.3f}"
            f"  {rates}; {st}"
        )
    print(
        "(median round of each version; rounds alternate between versions. CPU ms per request: the "
        "server, every postgres process, the load generator; 2 cores = 2 ms of CPU per ms)"
    )
    print("goals: ≥ 1,000 acks/s, ≥ 0.5x the bare endpoint, p99 < 50 ms")
    for label, r in ingest.items():
        print(
            f"Postgres ({label}): inbound_events={r['events']} distinct message ids={r['distinct']} "
            f"jobs={r['jobs']} expected={a.count * a.rounds} → lost={a.count * a.rounds - r['distinct']} "
            f"duplicated={r['events'] - r['distinct']}"
        )
    for r in ingest.values():
        if r["profile"]:
            print(f"\n(raw stacks: {r['profile'][0]})")
            print("\n".join(r["profile"][1]))
    print(
        "\nEnd to end: webhook → the fake Graph's send call, instant agent, debounce 0, one at a time, "
        "versions alternating"
    )
    print(f"{'code':40} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}")
    for label, (lat, _) in e2e.items():
        ms = [x * 1000 for x in lat]
        print(f"{label:40} {len(ms):5d} {statistics.median(ms):8.1f} {pct(ms, 99):8.1f}")
    print("goals: p50 < 150 ms, p99 < 300 ms")
    for label, (_, hops) in e2e.items():
        if hops:
            print_hops(label, hops)


def print_hops(label: str, runs: list[dict[str, Any]]) -> None:
    names: list[str] = []
    for r in runs:
        for k in r:
            if k not in names:
                names.append(k)
    print(f"\nPer hop ({label}, from the runs' recorded timings), ms:")
    print(f"{'hop':40} {'n':>5} {'p50':>8} {'p99':>8}")
    for k in names:
        vals = [r[k] for r in runs if k in r]
        print(f"{k:40} {len(vals):5d} {pct(vals, 50):8.1f} {pct(vals, 99):8.1f}")


if __name__ == "__main__":
    main()
