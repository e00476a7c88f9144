"""Platform super-admin check (ADMIN_TOKEN bearer) until the staff RBAC of issue 6 replaces it."""

from __future__ import annotations

from fastapi import Depends, Request
from nexus_common.errors import Unauthorized
from nexus_common.security import token_matches


async def require_super_admin(request: Request) -> None:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    expected = request.app.state.settings.admin_token.get_secret_value()
    if scheme.lower() != "bearer" or not token_matches(token.strip(), expected):
        raise Unauthorized("missing or invalid bearer token")


SuperAdmin = Depends(require_super_admin)
