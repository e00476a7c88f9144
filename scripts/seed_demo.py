"""Seed the local demo (run by `make dev` after every service is ready; idempotent).

Installs the fake Tienda Nube's demo store through the real OAuth callback (tenant, encrypted
token, webhooks, first catalog sync), connects a WhatsApp number served by the fake Graph API,
and creates the demo store owner the dashboard logs in with.
"""

from __future__ import annotations

import os
import sys

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the repo's fakes/
from fakes.tiendanube import connect_demo_tenant  # noqa: E402

DEMO_OWNER_EMAIL = "owner@demo-store.example.com"
DEMO_OWNER_PASSWORD = "nexus-demo-owner"  # noqa: S105 - development only, printed by make dev
DEMO_PHONE_NUMBER_ID = "100000000000001"


def main() -> int:
    orchestrator = os.environ["ORCHESTRATOR_URL"]
    fake_tiendanube = os.environ["NEXUS_DEMO_TIENDANUBE_URL"]
    admin = {"Authorization": f"Bearer {os.environ['ADMIN_TOKEN']}"}
    tenant_id = connect_demo_tenant(orchestrator, fake_tiendanube)
    with httpx.Client(base_url=orchestrator, headers=admin, timeout=30) as client:
        r = client.put(
            f"/api/v1/tenants/{tenant_id}/channels/whatsapp",
            json={
                "phone_number_id": DEMO_PHONE_NUMBER_ID,
                "access_token": "demo-whatsapp-access-token",
                "app_secret": "demo-whatsapp-app-secret",
                "verify_token": "demo-whatsapp-verify-token",
            },
        )
        r.raise_for_status()
        r = client.post(
            f"/api/v1/tenants/{tenant_id}/users",
            json={
                "email": DEMO_OWNER_EMAIL,
                "password": DEMO_OWNER_PASSWORD,
                "role": "owner",
                "name": "Demo",
            },
        )
        if r.status_code not in (201, 409):
            r.raise_for_status()
    print(f"dev: demo store tenant {tenant_id}")
    print(f"dev: demo owner login: {DEMO_OWNER_EMAIL} / {DEMO_OWNER_PASSWORD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
