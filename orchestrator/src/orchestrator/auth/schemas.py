from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field

Password = Field(min_length=10, max_length=256, description="At least 10 characters")


class LoginIn(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=20, max_length=200)


class UserOut(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    email: str
    name: str | None
    role: str
    is_active: bool
    last_login_at: datetime | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name
    expires_at: datetime
    expires_in: int
    refresh_token: str


class MeOut(BaseModel):
    kind: Literal["user", "super_admin"]
    role: str
    tenant_id: uuid.UUID | None
    user: UserOut | None = None


class ResetRequestIn(BaseModel):
    email: EmailStr


class ResetConfirmIn(BaseModel):
    token: str = Field(min_length=20, max_length=200)
    password: str = Password


class AcceptInviteIn(BaseModel):
    token: str = Field(min_length=20, max_length=200)
    password: str = Password
    name: str | None = Field(default=None, max_length=200)


class VerifyOut(BaseModel):
    kind: Literal["user", "super_admin"]
    role: str
    tenant_id: uuid.UUID | None
    user_id: uuid.UUID | None
    # When the access token stops being valid (None: the platform admin token, no expiry).
    expires_at: datetime | None = None
