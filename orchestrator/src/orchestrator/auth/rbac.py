"""Who is calling and what they may do: one typed dependency per route.

Every `/api/v1` route declares its least role by depending on exactly one of the aliases below
(`Viewer`, `Agent`, `Admin`, `Owner`, `SuperAdmin`, or `Public` for sign-in routes). The
dependency object carries `nexus_min_role`, which `declared_role(route)` reads back and the
route-table test checks for every route.

Roles: owner > admin > agent > viewer within a tenant; the platform super-admin (`ADMIN_TOKEN` as
a bearer token) is above all of them and names the tenant it acts on with `X-Tenant-Id`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import Depends, Request, routing
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from nexus_common.errors import BadRequest, Forbidden, NotFound, Unauthorized
from nexus_common.security import token_matches
from sqlalchemy import select

from ..db import Session
from ..models import AuthSession, Tenant, User
from .tokens import decode_access_token

Role = Literal["viewer", "agent", "admin", "owner"]
DeclaredRole = Literal["public", "viewer", "agent", "admin", "owner", "super_admin"]
RANK: dict[str, int] = {"viewer": 1, "agent": 2, "admin": 3, "owner": 4, "super_admin": 5}
TENANT_HEADER = "X-Tenant-Id"

_bearer = HTTPBearer(auto_error=False, description="A staff access token, or ADMIN_TOKEN (super-admin)")


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "super_admin"]
    role: str
    tenant_id: uuid.UUID | None
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    email: str | None = None

    @property
    def actor(self) -> str:
        return "super_admin" if self.kind == "super_admin" else f"user:{self.user_id}"

    @property
    def tenant(self) -> uuid.UUID:
        """The tenant every query of this request is scoped to."""
        if self.tenant_id is None:
            raise BadRequest(f"super-admin requests on tenant data must name the tenant in {TENANT_HEADER}")
        return self.tenant_id

    def at_least(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


def _unauthorized(message: str = "missing, invalid, expired or revoked token") -> Unauthorized:
    return Unauthorized(message, headers={"WWW-Authenticate": "Bearer"})


async def authenticate(request: Request, session: Any, token: str | None) -> Principal:
    """Resolve a bearer token to a principal (checks signature, expiry, revocation, account)."""
    if not token:
        raise _unauthorized("missing bearer token")
    settings = request.app.state.settings
    if token_matches(token, settings.admin_token.get_secret_value()):
        raw = request.headers.get(TENANT_HEADER)
        tenant_id: uuid.UUID | None = None
        if raw:
            try:
                tenant_id = uuid.UUID(raw)
            except ValueError:
                raise BadRequest(f"{TENANT_HEADER} must be a UUID") from None
            if await session.get(Tenant, tenant_id) is None:
                raise NotFound("tenant not found")
        return Principal(kind="super_admin", role="super_admin", tenant_id=tenant_id)
    claims = decode_access_token(settings, token)
    if claims is None:
        raise _unauthorized()
    row = (
        await session.execute(
            select(User.id, User.tenant_id, User.role, User.email, User.is_active, Tenant.status)
            .join(AuthSession, AuthSession.user_id == User.id)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(
                AuthSession.id == claims.session_id,
                AuthSession.user_id == claims.user_id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > datetime.now(UTC),
            )
        )
    ).one_or_none()
    if row is None or not row.is_active or row.status != "active" or row.tenant_id != claims.tenant_id:
        raise _unauthorized()
    return Principal(
        kind="user",
        role=row.role,
        tenant_id=row.tenant_id,
        user_id=row.id,
        session_id=claims.session_id,
        email=row.email,
    )


class RoleRequirement:
    """The dependency every `/api/v1` route declares (through the aliases below)."""

    def __init__(self, role: DeclaredRole) -> None:
        self.nexus_min_role: DeclaredRole = role

    def __repr__(self) -> str:
        return f"require_role({self.nexus_min_role!r})"

    async def __call__(
        self,
        request: Request,
        session: Session,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        principal = await authenticate(request, session, credentials.credentials if credentials else None)
        if not principal.at_least(self.nexus_min_role):
            raise Forbidden(f"this needs the {self.nexus_min_role} role")
        if self.nexus_min_role != "super_admin":
            principal.tenant  # noqa: B018 - tenant routes need a tenant (super-admin: X-Tenant-Id)
        request.state.principal = principal
        return principal


class PublicRoute:
    """Declares a route open to anyone (sign-in, password reset); it still must be declared."""

    nexus_min_role: DeclaredRole = "public"

    def __repr__(self) -> str:
        return "public"

    async def __call__(self) -> None:
        return None


@cache
def require_role(role: DeclaredRole) -> RoleRequirement:
    """The single dependency: `Depends(require_role("agent"))` → a Principal with at least that role."""
    return RoleRequirement(role)


require_super_admin = require_role("super_admin")
public = PublicRoute()

Viewer = Annotated[Principal, Depends(require_role("viewer"))]
Agent = Annotated[Principal, Depends(require_role("agent"))]
Admin = Annotated[Principal, Depends(require_role("admin"))]
Owner = Annotated[Principal, Depends(require_role("owner"))]
SuperAdmin = Annotated[Principal, Depends(require_super_admin)]
Public = Depends(public)


@dataclass(frozen=True)
class RouteEntry:
    path: str
    methods: frozenset[str]
    role: DeclaredRole | None


def route_table(app: Any) -> list[RouteEntry]:
    """Every API route as OpenAPI sees it (routers included at any depth), with its declared role."""
    entries = []
    for ctx in routing.iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            entries.append(
                RouteEntry(ctx.path_format or "", frozenset(ctx.methods or ()), declared_role(ctx))
            )
    return entries


def declared_role(route: Any) -> DeclaredRole | None:
    """The least role a route declared (found anywhere in its dependency tree), or None."""
    found: list[DeclaredRole] = []

    def walk(dependant: Any) -> None:
        call = getattr(dependant, "call", None)
        role = getattr(call, "nexus_min_role", None)
        if role is not None:
            found.append(role)
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    if not found:
        return None
    # Several declarations (router-level and route-level): the strictest applies.
    order = ["public", "viewer", "agent", "admin", "owner", "super_admin"]
    return max(found, key=order.index)
