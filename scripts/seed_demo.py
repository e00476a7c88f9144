#!/usr/bin/env python3
"""Seed `make dev`'s demo: the demo store, its owner, and a WhatsApp number for the playground.

Run by scripts/dev.py once every process is ready (a SEED_STEPS entry), with dev.py's environment.
Idempotent: the tenant id is remembered in <state>/demo.json and reused while it exists.

1. The demo store (fakes/tiendanube/demo.py, "Nube Indumentaria") is installed through the real
   OAuth callback, exactly as a merchant would: tenant, encrypted token, webhooks, first sync.
2. The demo owner signs in to the dashboard with DEMO_EMAIL / DEMO_PASSWORD (printed by dev.py).
3. A WhatsApp number whose replies go to the fake Graph server, so the dashboard's playground can
   play the customer (POST /api/v1/playground/messages).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEMO_EMAIL = "demo.owner@nexus.example.com"
DEMO_PASSWORD = "nexus-demo-owner"  # noqa: S105 - local development only, printed on purpose
DEMO_PHONE_NUMBER_ID = "100000000001"
# Also signs the fake Graph server's status webhooks (scripts/dev.py), so delivery ticks update.
DEMO_APP_SECRET = "demo-app-secret-0123456789"  # noqa: S105 - local development only


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


def say(msg: str) -> None:
    print(f"seed-demo: {msg}", flush=True)


def main() -> int:
    api = os.environ["ORCHESTRATOR_URL"].rstrip("/")
    admin = os.environ["ADMIN_TOKEN"]
    state_file = Path(os.environ.get("NEXUS_DEV_DIR") or REPO / ".dev") / "demo.json"
    state: dict[str, Any] = json.loads(state_file.read_text()) if state_file.exists() else {}

    tenant = state.get("tenant_id")
    if tenant:
        status, page = call("GET", f"{api}/api/v1/tenants?limit=200", token=admin)
        if status == 200 and tenant not in {t["id"] for t in page["items"]}:
            tenant = None  # a reset database: install again
    if not tenant:
        sys.path.insert(0, str(REPO))
        from fakes.tiendanube.demo import connect_demo_tenant

        fake = os.environ["TIENDANUBE_API_URL"].rstrip("/").removesuffix("/v1")
        tenant = connect_demo_tenant(api, fake)
        say(f"installed the demo store as tenant {tenant} (catalog sync started)")
    state["tenant_id"] = tenant

    status, body = call(
        "POST",
        f"{api}/api/v1/tenants/{tenant}/users",
        {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "role": "owner", "name": "Demo owner"},
        admin,
    )
    if status in (200, 201):
        say(f"created the demo owner {DEMO_EMAIL}")
    elif status == 409:
        pass  # already there
    else:
        say(f"could not create the demo owner: HTTP {status} {body}")
        return 1

    status, body = call(
        "PUT",
        f"{api}/api/v1/tenants/{tenant}/channels/whatsapp",
        {
            "phone_number_id": DEMO_PHONE_NUMBER_ID,
            "access_token": "EAAG-demo-access-token-for-the-fake-graph",
            "app_secret": DEMO_APP_SECRET,
            "verify_token": "demo-verify-token",
        },
        admin,
    )
    if status not in (200, 201):
        say(f"could not configure the demo WhatsApp number: HTTP {status} {body}")
        return 1
    state_file.write_text(json.dumps(state))
    return 0


if __name__ == "__main__":
    sys.exit(main())
