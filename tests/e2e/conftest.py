"""End-to-end: the real dashboard in Debian's headless Chromium, driven by Playwright.

One platform per session, started exactly as `make dev` starts it (scripts/devstack, its own state
directory, shifted ports, a throwaway database): every service, the fake external servers, and
the built dashboard behind a real nginx rendered from nginx/default.conf. The browser talks to
nginx only. The UI is built by scripts/build_ui.sh (skipped when dist is fresh); Chromium is
installed by scripts/system_deps.sh when missing. Never `playwright install`: the browser is
Debian's, launched by path.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from scripts.devstack import processes, secretfile
from tests.conftest import TEST_REDIS_URL, create_database, drop_database, job_errors

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The docs' screenshots are rewritten only on request (`make screenshots`): a plain test run saves
# them beside its other temporary files, so running the suite leaves the checkout clean.
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
UPDATE_SCREENSHOTS = os.environ.get("NEXUS_UPDATE_SCREENSHOTS") == "1"
START_TIMEOUT = 120.0


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_offset() -> int:
    for _ in range(200):
        offset = random.randrange(20_000, 30_000)
        if all(_port_free(p.port + offset) for p in processes.PROCESSES):
            return offset
    raise RuntimeError("no free port offset")


def http_json(
    method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 15.0
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback only
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")


async def ahttp_json(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    import httpx

    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(timeout=15.0) as client:
        r = await client.request(method, url, json=body, headers=headers)
    try:
        return r.status_code, r.json() if r.content else None
    except ValueError:
        return r.status_code, r.text


@dataclass
class Platform:
    url: str  # nginx: the only way the browser reaches the services
    offset: int
    state_dir: Path
    admin_token: str
    env: dict[str, str]
    output: list[str] = field(default_factory=list)

    def port(self, name: str) -> int:
        return next(p.port for p in processes.PROCESSES if p.name == name) + self.offset

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        return http_json(method, f"{self.url}{path}", body, token)

    async def aapi(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        return await ahttp_json(method, f"{self.url}{path}", body, token)


@pytest.fixture(scope="session")
def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        subprocess.run(["bash", str(REPO / "scripts" / "system_deps.sh")], check=False, timeout=600)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing and could not be installed (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def ui_built() -> Path:
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "build_ui.sh")], capture_output=True, text=True, timeout=600
    )
    tail = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, f"dashboard build failed:\n{tail}"
    dist = REPO / "platform_ui" / "dist"
    assert (dist / "index.html").exists()
    return dist


@pytest.fixture(scope="session")
def platform(ui_built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The whole platform via make dev's scripts/devstack, until the session ends."""
    state = tmp_path_factory.mktemp("e2e-dev")
    db_name, dsn = create_database()
    offset = free_offset()
    managed = set(secretfile.SECRETS) | {k for p in processes.PROCESSES for k in p.env_defaults}
    env = {k: v for k, v in os.environ.items() if k not in managed and not k.startswith("NEXUS_DEV_")}
    env.update(
        {
            "NEXUS_DEV_DIR": str(state),
            "POSTGRES_DSN": dsn,
            "REDIS_URL": TEST_REDIS_URL,
            "NO_COLOR": "1",
            "APP_VERSION": "e2e",
        }
    )
    argv = [sys.executable, "-m", "scripts.devstack", "--port-offset", str(offset), "--quiet"]
    argv += ["--timeout", "90"]
    proc = subprocess.Popen(
        argv,
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip("\n"))
            if line.startswith("Nexus is running"):
                ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.wait(0.25):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("make dev did not come up:\n" + "\n".join(output[-60:]))
        secrets_env = secretfile.read_env_file(state / "secrets.env")
        url = f"http://127.0.0.1:{processes.DASHBOARD_PORT + offset}"
        yield Platform(url, offset, state, secrets_env["ADMIN_TOKEN"], env, output)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        reader.join(timeout=5)
        try:
            errors = job_errors(dsn)
        finally:
            drop_database(db_name)
        # The suite's guard: a background job that ended in error fails the run.
        assert not errors, f"jobs ended in error during the end-to-end run: {errors}"


@pytest.fixture(scope="session")
async def browser(chromium: str) -> AsyncIterator[Any]:
    # The async API on pytest-asyncio's session loop: the sync API would leave its own event loop
    # installed in this thread and break every async test that runs after this package.
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


class PageProblems:
    """Console errors and CSP violations seen by a page: a clean UI has none."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def csp(self) -> list[str]:
        return [e for e in self.errors if re.search(r"Content Security Policy|Refused to", e)]


async def new_page(
    browser: Any, *, locale: str = "en-US", viewport: dict[str, int] | None = None
) -> tuple[Any, Any, PageProblems]:
    ctx = await browser.new_context(locale=locale, viewport=viewport or {"width": 1280, "height": 860})
    page = await ctx.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems()
    problems.attach(page)
    return ctx, page, problems


def screenshots_dir() -> Path:
    if UPDATE_SCREENSHOTS:
        return DOCS_SCREENSHOTS
    return Path(os.environ.get("NEXUS_SCREENSHOTS_DIR") or "/tmp/nexus-screenshots")


async def screenshot(page: Any, name: str) -> Path:
    """Save the viewport as `name`.png: into docs/screenshots with NEXUS_UPDATE_SCREENSHOTS=1,
    else into NEXUS_SCREENSHOTS_DIR (default /tmp/nexus-screenshots) for a look after the run."""
    target = screenshots_dir()
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.png"
    await page.screenshot(path=str(path), full_page=False)
    return path
