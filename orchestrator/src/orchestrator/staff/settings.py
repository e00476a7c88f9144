"""Tenant, users, channel settings, agent settings and write-only credentials."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Path, Query, Request, Response, status
from nexus_common.errors import Conflict, NotFound
from pydantic import BaseModel, EmailStr, Field, field_validator
from redis.exceptions import RedisError
from sqlalchemy import delete, func, select

from ..analytics import service as analytics
from ..audit import service as audit
from ..auth import Admin, Owner, SuperAdmin, Viewer
from ..auth import service as auth_service
from ..auth.endpoints import user_out
from ..auth.schemas import Password, UserOut
from ..credentials import service as credentials
from ..db import Session
from ..deps import AppSettings
from ..models import ChannelAccount, Credential, Tenant, User

router = APIRouter(prefix="/api/v1", tags=["settings"])

RoleName = Literal["owner", "admin", "agent", "viewer"]
AGENT_SETTING_KEYS = (
    "persona",
    "language",
    "timezone",
    "business_hours",
    "handoff_emails",
    "handoff_timeout_minutes",
)


class BusinessHours(BaseModel):
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    open: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    close: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class AgentSettings(BaseModel):
    persona: str | None = Field(default=None, max_length=4000)
    language: Literal["es", "pt", "en"] = "es"
    timezone: str = "UTC"
    business_hours: list[BusinessHours] = Field(default_factory=list, max_length=21)
    handoff_emails: list[EmailStr] = Field(default_factory=list, max_length=10)
    handoff_timeout_minutes: int | None = Field(default=None, ge=5, le=7 * 24 * 60)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone") from None
        return v


def agent_settings_of(tenant: Tenant) -> AgentSettings:
    raw = {k: v for k, v in (tenant.settings or {}).items() if k in AGENT_SETTING_KEYS}
    return AgentSettings.model_validate(raw)


class TenantOut(BaseModel):
    id: uuid.UUID
    name: str
    status: str
    tiendanube_store_id: int | None
    created_at: datetime


class TenantPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: Literal["active", "disabled"] | None = None


class InviteIn(BaseModel):
    email: EmailStr
    role: RoleName
    name: str | None = Field(default=None, max_length=200)


class UserCreateIn(BaseModel):
    email: EmailStr
    password: str = Password
    role: RoleName
    name: str | None = Field(default=None, max_length=200)


class UserPatch(BaseModel):
    role: RoleName | None = None
    is_active: bool | None = None
    name: str | None = Field(default=None, max_length=200)


class ChannelPatch(BaseModel):
    enabled: bool | None = None
    display_name: str | None = Field(default=None, max_length=200)


class CredentialIn(BaseModel):
    value: str = Field(min_length=1, max_length=8192)
    scope: str = Field(default="", max_length=128)


KIND = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


def _tenant_out(t: Tenant) -> TenantOut:
    return TenantOut.model_validate(t, from_attributes=True)


async def _tenant(session: Session, tenant_id: uuid.UUID) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


# --- the caller's tenant -------------------------------------------------------------------------


@router.get("/tenant")
async def get_tenant(principal: Viewer, session: Session) -> TenantOut:
    """The tenant you work in."""
    return _tenant_out(await _tenant(session, principal.tenant))


@router.patch("/tenant")
async def patch_tenant(body: TenantPatch, principal: Owner, session: Session) -> TenantOut:
    """Rename the tenant (owner). Disabling a tenant is for the platform super-admin."""
    tenant = await _tenant(session, principal.tenant)
    if body.name:
        tenant.name = body.name
    await audit.record(session, actor=principal.actor, action="tenant.updated", tenant_id=tenant.id)
    return _tenant_out(tenant)


@router.get("/settings/agent")
async def get_agent_settings(principal: Viewer, session: Session) -> AgentSettings:
    """Persona, language, time zone, business hours, handoff e-mails and the pause timeout."""
    return agent_settings_of(await _tenant(session, principal.tenant))


@router.put("/settings/agent")
async def put_agent_settings(
    body: AgentSettings, principal: Admin, session: Session, request: Request
) -> AgentSettings:
    """Replace the agent settings (admin). `handoff_timeout_minutes` returns paused conversations to
    the AI after that long without a human reply (unset: never)."""
    tenant = await _tenant(session, principal.tenant)
    merged = {k: v for k, v in (tenant.settings or {}).items() if k not in AGENT_SETTING_KEYS}
    old_timezone = (tenant.settings or {}).get("timezone")
    merged.update(body.model_dump(mode="json"))
    tenant.settings = merged
    if old_timezone != body.timezone:
        # Cached analytics were cut into days of the old zone.
        with contextlib.suppress(RedisError):
            await analytics.clear_cache(request.app.state.redis, tenant.id)
    await audit.record(
        session,
        actor=principal.actor,
        action="settings.agent_updated",
        tenant_id=tenant.id,
        payload={"keys": sorted(body.model_fields_set)},
    )
    return body


# --- channels ---------------------------------------------------------------------------------------


def _channel_out(c: ChannelAccount) -> dict[str, Any]:
    return {
        "id": c.id,
        "channel": c.channel,
        "external_id": c.external_id,
        "display_name": c.display_name,
        "enabled": c.enabled,
        "created_at": c.created_at,
    }


@router.get("/channels")
async def list_channels(principal: Viewer, session: Session) -> dict[str, Any]:
    """The tenant's WhatsApp numbers and Instagram/Messenger pages (secrets are never shown)."""
    rows = (
        await session.scalars(
            select(ChannelAccount)
            .where(ChannelAccount.tenant_id == principal.tenant)
            .order_by(ChannelAccount.created_at)
        )
    ).all()
    return {"items": [_channel_out(c) for c in rows], "next_cursor": None}


@router.patch("/channels/{channel_id}")
async def patch_channel(
    channel_id: uuid.UUID, body: ChannelPatch, principal: Admin, session: Session
) -> dict[str, Any]:
    """Enable/disable a channel or rename it (admin)."""
    c = await session.scalar(
        select(ChannelAccount).where(
            ChannelAccount.id == channel_id, ChannelAccount.tenant_id == principal.tenant
        )
    )
    if c is None:
        raise NotFound("channel not found")
    if body.enabled is not None:
        c.enabled = body.enabled
    if body.display_name is not None:
        c.display_name = body.display_name
    await audit.record(
        session,
        actor=principal.actor,
        action="channel.updated",
        tenant_id=c.tenant_id,
        target_type="channel_account",
        target_id=str(c.id),
        payload=body.model_dump(exclude_none=True),
    )
    return _channel_out(c)


# --- credentials (write-only) -------------------------------------------------------------------------


@router.get("/credentials")
async def list_credentials(principal: Owner, session: Session) -> dict[str, Any]:
    """Stored credentials, masked (last 4 characters at most). Values are never returned."""
    rows = (
        await session.scalars(
            select(Credential)
            .where(Credential.tenant_id == principal.tenant)
            .order_by(Credential.kind, Credential.scope)
        )
    ).all()
    return {
        "items": [
            {"kind": c.kind, "scope": c.scope, "value": credentials.mask(c.hint), "updated_at": c.updated_at}
            for c in rows
        ],
        "next_cursor": None,
    }


@router.put("/credentials/{kind}")
async def put_credential(
    kind: KIND, body: CredentialIn, principal: Owner, session: Session, settings: AppSettings
) -> dict[str, Any]:
    """Store or replace a credential (owner). Stored encrypted; answered masked."""
    await credentials.put(session, settings.crypto, principal.tenant, kind, body.value, body.scope)
    await audit.record(
        session,
        actor=principal.actor,
        action="credential.put",
        tenant_id=principal.tenant,
        target_type="credential",
        target_id=kind,
        payload={"scope": body.scope},
    )
    hint = body.value[-4:] if len(body.value) >= 12 else None
    return {"kind": kind, "scope": body.scope, "value": credentials.mask(hint)}


@router.delete("/credentials/{kind}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_credential(
    kind: KIND, principal: Owner, session: Session, scope: Annotated[str, Query(max_length=128)] = ""
) -> Response:
    """Delete a credential (owner)."""
    result = await session.execute(
        delete(Credential).where(
            Credential.tenant_id == principal.tenant, Credential.kind == kind, Credential.scope == scope
        )
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("credential not found")
    await audit.record(
        session,
        actor=principal.actor,
        action="credential.deleted",
        tenant_id=principal.tenant,
        target_id=kind,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- users ------------------------------------------------------------------------------------------------


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


# --- platform super-admin ---------------------------------------------------------------------------


@router.get("/tenants")
async def list_tenants(
    principal: SuperAdmin,
    session: Session,
    cursor: Annotated[uuid.UUID | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> dict[str, Any]:
    """Every tenant (super-admin)."""
    stmt = select(Tenant).order_by(Tenant.id).limit(limit + 1)
    if cursor:
        stmt = stmt.where(Tenant.id > cursor)
    rows = (await session.scalars(stmt)).all()
    return {
        "items": [_tenant_out(t) for t in rows[:limit]],
        "next_cursor": str(rows[limit - 1].id) if len(rows) > limit else None,
    }


@router.patch("/tenants/{tenant_id}")
async def patch_any_tenant(
    tenant_id: uuid.UUID, body: TenantPatch, principal: SuperAdmin, session: Session
) -> TenantOut:
    """Rename, disable or re-enable a tenant (super-admin). A disabled tenant's staff cannot sign in."""
    tenant = await _tenant(session, tenant_id)
    if body.name:
        tenant.name = body.name
    if body.status:
        tenant.status = body.status
        tenant.platform_disabled_at = datetime.now(UTC) if body.status == "disabled" else None
    await audit.record(
        session,
        actor=principal.actor,
        action="tenant.updated",
        tenant_id=tenant.id,
        payload=body.model_dump(exclude_none=True),
    )
    return _tenant_out(tenant)


@router.post("/tenants/{tenant_id}/users", status_code=status.HTTP_201_CREATED)
async def create_user(
    tenant_id: uuid.UUID, body: UserCreateIn, principal: SuperAdmin, session: Session
) -> UserOut:
    """Create a user with a password (super-admin; same as `nexus create-user`)."""
    await _tenant(session, tenant_id)
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
