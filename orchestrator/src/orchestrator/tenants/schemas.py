"""Request and response bodies of the tenant endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, EmailStr, Field, field_validator

from ..models import Tenant


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


class TenantOut(BaseModel):
    id: uuid.UUID
    name: str
    status: str
    tiendanube_store_id: int | None
    created_at: datetime


class TenantPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: Literal["active", "disabled"] | None = None


def tenant_out(t: Tenant) -> TenantOut:
    return TenantOut.model_validate(t, from_attributes=True)
