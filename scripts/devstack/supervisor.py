"""Running the processes: each in its own process group (stopped with it, even when `make dev` is
killed), its output in <state>/logs/<name>.log and, unless quiet, in the terminal prefixed by its
name; readiness polled until every ready URL answers 200."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import HOST, REPO, DevError, first_line, say
from .processes import Proc

STOP_GRACE_SECONDS = 10.0


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if make dev dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(Exception):
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


try:
    _PRCTL: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None

COLORS = ["36", "33", "35", "32", "34", "91", "96", "93"]


@dataclass
class Running:
    proc: Proc
    port: int
    popen: subprocess.Popen[bytes]
    log_path: Path
    color: str
    ready: bool = False
    reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ready_url(self) -> str:
        return self.url + self.proc.ready_path


def render_line(raw: str) -> str:
    """A JSON log line as `time level event key=value ...`; anything else unchanged."""
    if not raw.startswith("{"):
        return raw
    try:
        rec = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(rec, dict) or "event" not in rec:
        return raw
    ts = str(rec.pop("timestamp", ""))[11:19]
    level = str(rec.pop("level", ""))
    event = rec.pop("event")
    rec.pop("service", None)
    rest = " ".join(f"{k}={v}" for k, v in rec.items())
    return f"{ts} {level:<7} {event} {rest}".rstrip()


class Supervisor:
    def __init__(self, processes: list[Proc], state_dir: Path, env: dict[str, str], *, stream: bool) -> None:
        self.processes = processes
        self.state_dir = state_dir
        self.logs_dir = state_dir / "logs"
        self.env = env
        self.stream = stream
        self.color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.running: list[Running] = []
        self.width = max((len(p.name) for p in processes), default=10)

    # -- start -------------------------------------------------------------------------------
    def start_all(self, offset: int) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        for proc in self.processes:
            if proc.prepare is not None:
                proc.prepare()
        # Spawn everything before any reader thread exists (preexec_fn and threads don't mix).
        for i, proc in enumerate(self.processes):
            port = proc.port + offset
            log_path = self.logs_dir / f"{proc.name}.log"
            try:
                popen = subprocess.Popen(
                    proc.argv(port),
                    cwd=REPO,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # own process group: we stop it, not the terminal
                    preexec_fn=_die_with_parent if _PRCTL is not None else None,
                )
            except OSError as exc:
                raise DevError(f"could not start {proc.name}: {first_line(exc)}") from None
            self.running.append(Running(proc, port, popen, log_path, COLORS[i % len(COLORS)]))
        for r in self.running:
            r.reader = threading.Thread(target=self._pump, args=(r,), name=f"log-{r.proc.name}", daemon=True)
            r.reader.start()

    def _pump(self, r: Running) -> None:
        assert r.popen.stdout is not None
        with open(r.log_path, "ab") as log:
            log.write(f"----- {time.strftime('%Y-%m-%d %H:%M:%S')} make dev started {r.proc.name}\n".encode())
            log.flush()
            for raw in iter(r.popen.stdout.readline, b""):
                log.write(raw)
                log.flush()
                if self.stream:
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    name = r.proc.name.ljust(self.width)
                    prefix = f"\033[{r.color}m{name} |\033[0m" if self.color else f"{name} |"
                    say(f"{prefix} {render_line(line)}")

    def tail(self, r: Running, lines: int = 25) -> str:
        try:
            text = r.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(f"    {line}" for line in text[-lines:])

    # -- readiness ---------------------------------------------------------------------------
    @staticmethod
    def probe(url: str) -> tuple[int | None, str]:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (http://127.0.0.1 only)
                return resp.status, resp.read(2000).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(2000).decode("utf-8", "replace")
        except (OSError, ValueError) as exc:
            return None, first_line(exc)

    def wait_ready(self, timeout: float) -> None:
        started = time.monotonic()
        deadline = started + timeout
        while True:
            if (dead := self.first_exited()) is not None:
                code = dead.popen.returncode
                time.sleep(0.2)  # let the reader drain the last lines into the log
                say(f"dev: {dead.proc.name} exited (code {code}) before all were ready; last log lines:")
                say(self.tail(dead))
                raise DevError(f"{dead.proc.name} exited with code {code} before all services were ready")
            for r in self.running:
                if r.ready:
                    continue
                status, _ = self.probe(r.ready_url)
                if status == 200:
                    r.ready = True
                    say(f"dev: ready: {r.proc.name} {r.ready_url} ({time.monotonic() - started:.1f} s)")
            if all(r.ready for r in self.running):
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.25)

        waiting = [r for r in self.running if not r.ready]
        for r in waiting:
            status, body = self.probe(r.ready_url)
            say(f"dev: NOT READY: {r.proc.name} {r.ready_url} -> {status or 'no answer'}: {body.strip()}")
            say(f"dev: last lines of {r.log_path}:")
            say(self.tail(r))
        names = ", ".join(r.proc.name for r in waiting)
        raise DevError(f"not ready after {timeout:.0f} s: {names}")

    def first_exited(self) -> Running | None:
        for r in self.running:
            if r.popen.poll() is not None:
                return r
        return None

    # -- stop --------------------------------------------------------------------------------
    def stop_all(self) -> None:
        alive = [r for r in self.running if r.popen.poll() is None]
        for r in self.running:
            # Signal the whole group: a leader that already exited may have left children.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(r.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for r in alive:
            with contextlib.suppress(subprocess.TimeoutExpired):
                r.popen.wait(max(0.0, deadline - time.monotonic()))
        for r in self.running:
            if r.popen.poll() is None:
                say(f"dev: {r.proc.name} did not stop in {STOP_GRACE_SECONDS:.0f} s: killing it")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(r.popen.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                r.popen.wait(5)
        for r in self.running:
            if r.reader is not None:
                r.reader.join(timeout=2)
            if r.popen.stdout is not None:
                r.popen.stdout.close()
        self.running = []
