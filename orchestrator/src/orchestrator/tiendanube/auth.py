"""Platform super-admin check for the provisioning route (issue 6 replaces it with RBAC)."""

from __future__ import annotations

from fastapi import Depends, Request
from nexus_common.errors import Unauthorized
from nexus_common.security import token_matches


async def require_super_admin(request: Request) -> None:
    """`Authorization: Bearer $ADMIN_TOKEN`, compared in constant time."""
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    expected = request.app.state.settings.admin_token.get_secret_value()
    if scheme.lower() != "bearer" or not token_matches(presented.strip(), expected):
        raise Unauthorized("super-admin token required", headers={"WWW-Authenticate": "Bearer"})


SuperAdmin = Depends(require_super_admin)
