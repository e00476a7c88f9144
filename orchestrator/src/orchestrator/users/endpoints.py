"""The tenant's staff users (owner/admin), and users created by the platform super-admin."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response, status
from nexus_common.errors import Conflict, NotFound
from sqlalchemy import func, select

from ..audit import service as audit
from ..auth import Admin, Owner, SuperAdmin
from ..auth import service as auth_service
from ..auth.endpoints import user_out
from ..auth.schemas import UserOut
from ..db import Session
from ..deps import AppSettings
from ..models import User
from ..tenants.service import get_tenant
from .schemas import InviteIn, UserCreateIn, UserPatch

router = APIRouter(prefix="/api/v1", tags=["settings"])


@router.get("/users")
async def list_users(principal: Admin, session: Session) -> dict[str, list[UserOut] | None]:
    """The tenant's staff (admin)."""
    rows = (
        await session.scalars(
            select(User).where(User.tenant_id == principal.tenant).order_by(User.created_at)
        )
    ).all()
    return {"items": [user_out(u) for u in rows], "next_cursor": None}


@router.post("/users/invite", status_code=status.HTTP_201_CREATED)
async def invite(body: InviteIn, principal: Owner, session: Session, settings: AppSettings) -> dict[str, Any]:
    """Invite a person by e-mail (owner): they get a link (72 h) to set their password."""
    user, outcome = await auth_service.invite_user(
        session, settings, principal.tenant, str(body.email), body.role, body.name
    )
    await audit.record(
        session,
        actor=principal.actor,
        action="user.invited",
        tenant_id=principal.tenant,
        target_type="user",
        target_id=str(user.id),
        payload={"role": body.role},
    )
    return {"user": user_out(user), "mail": "sent" if outcome.ok else "failed"}


async def _tenant_user(session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID) -> User:
    user = await session.scalar(
        select(User).where(User.id == user_id, User.tenant_id == tenant_id).with_for_update()
    )
    if user is None:
        raise NotFound("user not found")
    return user


async def _keep_an_owner(session: Session, tenant_id: uuid.UUID, leaving: uuid.UUID) -> None:
    others = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.tenant_id == tenant_id, User.role == "owner", User.is_active, User.id != leaving)
    )
    if not others:
        raise Conflict("a tenant keeps at least one active owner")


@router.patch("/users/{user_id}")
async def patch_user(user_id: uuid.UUID, body: UserPatch, principal: Owner, session: Session) -> UserOut:
    """Change a user's role, name, or deactivate them (owner). Deactivation signs them out."""
    user = await _tenant_user(session, principal.tenant, user_id)
    if user.role == "owner" and (body.role not in (None, "owner") or body.is_active is False):
        await _keep_an_owner(session, user.tenant_id, user.id)
    if body.role is not None:
        user.role = body.role
    if body.name is not None:
        user.name = body.name
    if body.is_active is not None:
        user.is_active = body.is_active
        if not body.is_active:
            await auth_service.revoke_all_sessions(session, user.id)
    await audit.record(
        session,
        actor=principal.actor,
        action="user.updated",
        tenant_id=user.tenant_id,
        target_type="user",
        target_id=str(user.id),
        payload=body.model_dump(exclude_none=True),
    )
    await session.flush()
    return user_out(user)


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(user_id: uuid.UUID, principal: Owner, session: Session) -> Response:
    """Remove a user (owner)."""
    user = await _tenant_user(session, principal.tenant, user_id)
    if user.role == "owner":
        await _keep_an_owner(session, user.tenant_id, user.id)
    await session.delete(user)
    await audit.record(
        session,
        actor=principal.actor,
        action="user.deleted",
        tenant_id=principal.tenant,
        target_id=str(user_id),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/tenants/{tenant_id}/users", status_code=status.HTTP_201_CREATED)
async def create_user(
    tenant_id: uuid.UUID, body: UserCreateIn, principal: SuperAdmin, session: Session
) -> UserOut:
    """Create a user with a password (super-admin; same as `nexus create-user`)."""
    await get_tenant(session, tenant_id)
    user = await auth_service.create_user(
        session, tenant_id, str(body.email), body.role, body.password, body.name
    )
    await audit.record(
        session,
        actor=principal.actor,
        action="user.created",
        tenant_id=tenant_id,
        target_type="user",
        target_id=str(user.id),
        payload={"role": body.role},
    )
    return user_out(user)
