"""The demo `make dev` ends with: the demo store, its owner, and a WhatsApp number for the playground.

Run once every process is ready, against this run's orchestrator, as the super-admin. Each step
is idempotent (the tenant id is remembered in <state>/demo.json and reused while it exists).

1. demo store: the fake Tienda Nube's store ("Nube Indumentaria", fakes/tiendanube/demo.py) is
   installed through the real OAuth callback, exactly as a merchant would: tenant, encrypted
   token, webhooks, first sync.
2. demo owner: signs in to the dashboard with DEMO_EMAIL / DEMO_PASSWORD.
3. demo WhatsApp number: its replies go to the fake Graph server, so the dashboard's playground
   can play the customer (POST /api/v1/playground/messages).

A step that needs a fake is skipped, with one line saying why, when that fake is replaced (its
URL variable points elsewhere); a step that fails says what failed and the platform keeps running.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import first_line, say

DEMO_EMAIL = "demo.owner@nexus.example.com"
DEMO_PASSWORD = "nexus-demo-owner"  # noqa: S105 - local development only, printed on purpose
DEMO_PHONE_NUMBER_ID = "100000000001"
# Also signs the fake Graph server's status webhooks (processes.fake_graph_argv), so delivery ticks update.
DEMO_APP_SECRET = "demo-app-secret-0123456789"  # noqa: S105 - local development only


class SeedError(Exception):
    """A seed step that could not do its work, explained in one line."""


def call(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback URLs
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, None


@dataclass
class Demo:
    """What the steps share: this run's environment and what earlier steps produced."""

    env: dict[str, str]
    state_file: Path
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return self.env["ORCHESTRATOR_URL"].rstrip("/")

    @property
    def admin(self) -> str:
        return self.env["ADMIN_TOKEN"]

    @property
    def tenant(self) -> str:
        return str(self.state["tenant_id"])

    def save(self) -> None:
        self.state_file.write_text(json.dumps(self.state))


def demo_store(demo: Demo) -> str:
    tenant = demo.state.get("tenant_id")
    if tenant:
        status, page = call("GET", f"{demo.api}/api/v1/tenants?limit=200", token=demo.admin)
        if status == 200 and tenant in {t["id"] for t in page["items"]}:
            return f"tenant {tenant} (already installed)"
    from fakes.tiendanube.demo import connect_demo_tenant

    fake = demo.env["TIENDANUBE_API_URL"].rstrip("/").removesuffix("/v1")
    tenant = connect_demo_tenant(demo.api, fake)
    demo.state["tenant_id"] = tenant
    demo.save()
    return f"installed as tenant {tenant} (catalog sync started)"


def demo_owner(demo: Demo) -> str:
    status, body = call(
        "POST",
        f"{demo.api}/api/v1/tenants/{demo.tenant}/users",
        {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "role": "owner", "name": "Demo owner"},
        demo.admin,
    )
    if status in (200, 201):
        return f"created {DEMO_EMAIL}"
    if status == 409:
        return f"{DEMO_EMAIL} (already there)"
    raise SeedError(f"POST /api/v1/tenants/{demo.tenant}/users -> HTTP {status} {body}")


def demo_whatsapp_number(demo: Demo) -> str:
    status, body = call(
        "PUT",
        f"{demo.api}/api/v1/tenants/{demo.tenant}/channels/whatsapp",
        {
            "phone_number_id": DEMO_PHONE_NUMBER_ID,
            "access_token": "EAAG-demo-access-token-for-the-fake-graph",
            "app_secret": DEMO_APP_SECRET,
            "verify_token": "demo-verify-token",
        },
        demo.admin,
    )
    if status not in (200, 201):
        raise SeedError(f"PUT /api/v1/tenants/{demo.tenant}/channels/whatsapp -> HTTP {status} {body}")
    return f"phone_number_id {DEMO_PHONE_NUMBER_ID}, replies go to the fake Graph server"


@dataclass(frozen=True)
class Step:
    """One seed step. `needs_fakes`: the fakes (processes.PROCESSES names) it talks to;
    `needs_steps`: the steps that must have succeeded first."""

    name: str
    run: Callable[[Demo], str]
    needs_fakes: tuple[str, ...] = ()
    needs_steps: tuple[str, ...] = ()


SEED_STEPS: list[Step] = [
    Step("demo store", demo_store, needs_fakes=("fake_tiendanube",)),
    Step("demo owner", demo_owner, needs_steps=("demo store",)),
    Step(
        "demo WhatsApp number",
        demo_whatsapp_number,
        needs_fakes=("fake_meta_graph",),
        needs_steps=("demo store",),
    ),
]


@dataclass
class SeedResult:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def run_steps(env: dict[str, str], state_dir: Path, replaced: dict[str, str]) -> SeedResult:
    """Every step in order. `replaced`: fake name -> the variable that replaces it."""
    state_file = state_dir / "demo.json"
    try:
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
    except ValueError:
        state = {}
    demo = Demo(env, state_file, state)
    result = SeedResult()
    for step in SEED_STEPS:
        fake = next((f for f in step.needs_fakes if f in replaced), None)
        missing = next((s for s in step.needs_steps if s not in result.done), None)
        if fake is not None:
            say(f"dev: seed: {step.name}: skipped, {replaced[fake]} replaces the {fake} it needs")
            result.skipped.append(step.name)
        elif missing is not None:
            say(f"dev: seed: {step.name}: skipped, it needs the {missing} step")
            result.skipped.append(step.name)
        else:
            try:
                line = step.run(demo)
            except Exception as exc:  # any failure: said in one line, the platform stays up
                reason = (
                    str(exc) if isinstance(exc, SeedError) else f"{type(exc).__name__}: {first_line(exc)}"
                )
                say(f"dev: seed: {step.name} FAILED: {reason}")
                result.failed.append(step.name)
            else:
                say(f"dev: seed: {step.name}: {line}")
                result.done.append(step.name)
    return result
