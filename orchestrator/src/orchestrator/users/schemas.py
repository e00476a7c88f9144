"""Request bodies of the user endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from ..auth.schemas import Password

RoleName = Literal["owner", "admin", "agent", "viewer"]


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
