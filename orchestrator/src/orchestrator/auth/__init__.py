"""Staff authentication and role-based access control.

Other domains import the dependency from here: `require_role("agent")`, `require_super_admin`,
or the typed aliases `Viewer`, `Agent`, `Admin`, `Owner`, `SuperAdmin`, `Public`.
"""

from .rbac import (
    RANK,
    TENANT_HEADER,
    Admin,
    Agent,
    Owner,
    Principal,
    Public,
    RouteEntry,
    SuperAdmin,
    Viewer,
    declared_role,
    require_role,
    require_super_admin,
    route_table,
)

__all__ = [
    "RANK",
    "TENANT_HEADER",
    "Admin",
    "Agent",
    "Owner",
    "Principal",
    "Public",
    "SuperAdmin",
    "Viewer",
    "RouteEntry",
    "declared_role",
    "require_role",
    "require_super_admin",
    "route_table",
]
