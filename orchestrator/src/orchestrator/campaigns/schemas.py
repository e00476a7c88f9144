from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..audiences.schemas import AudienceFilter

CampaignStatus = Literal["draft", "scheduled", "running", "paused", "done", "cancelled"]


class Audience(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filter: AudienceFilter = Field(default_factory=AudienceFilter)


class CampaignCoupon(BaseModel):
    """A discount for the campaign, within the owner's coupon policy (checked on create and on
    start). One code is created in Tienda Nube when sending starts and shared by the recipients
    (template variable `coupon.code`)."""

    model_config = ConfigDict(extra="forbid")
    percent: Decimal = Field(gt=0, le=100, decimal_places=2)


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    template: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(min_length=2, max_length=15, pattern=r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")
    audience: Audience = Field(default_factory=Audience)
    variables: list[str] | None = Field(default=None, max_length=20)
    # A naive time is in the store's time zone; an aware one is taken as given.
    schedule_at: datetime | None = None
    coupon: CampaignCoupon | None = None


class CampaignUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    template: str | None = Field(default=None, min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str | None = Field(default=None, min_length=2, max_length=15)
    audience: Audience | None = None
    variables: list[str] | None = Field(default=None, max_length=20)
    schedule_at: datetime | None = None
    coupon: CampaignCoupon | None = None  # null removes it


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Required when the plan spreads the sends over several days (the daily limit).
    accept_spread: bool = False


class TestSendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(min_length=6, max_length=32)
    name: str = Field(default="Test", max_length=200)


class Counts(BaseModel):
    total: int = 0
    queued: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    replied: int = 0
    failed: int = 0
    opted_out: int = 0
    skipped: int = 0
    cancelled: int = 0


class Plan(BaseModel):
    audience: int
    messages_per_second: float
    daily_unique_limit: int | None
    available_today: int | None
    days: int
    spread: bool
    estimated_seconds: float
    note: str


class CampaignOut(BaseModel):
    id: uuid.UUID
    name: str
    template: str
    language: str
    audience: dict[str, Any]
    variables: list[str]
    status: CampaignStatus
    schedule_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    paused_reason: str | None
    plan: dict[str, Any] | None
    coupon: dict[str, Any] | None = None  # percent; once sending started: code, valid_until
    created_at: datetime
    counts: Counts | None = None


class Report(BaseModel):
    counts: Counts
    failed_by_code: dict[str, int]
    skipped_by_reason: dict[str, int]
    # Paid orders credited to the campaign (an order within 7 days of its message to that
    # customer, or one using its coupon): their total, count and currency.
    revenue: Decimal
    orders: int
    paid_orders: int
    currency: str | None
    revenue_note: str


class SendingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages_per_second: int = Field(default=80, ge=1, le=1000)
    # Unique users per rolling 24 h (Meta's tier: 250, 2000, 10000, 100000); null = unlimited.
    daily_unique_limit: int | None = Field(default=1000, ge=1)
    # What limits campaigns: "graph" = the portfolio's messaging limit read from Meta (`tier`,
    # `tier_limit`, refreshed every 10 minutes); "owner" = `daily_unique_limit` above, used while
    # the Graph API cannot be read. Written by Nexus, not by the owner.
    daily_limit_source: Literal["graph", "owner"] = "owner"
    tier: str | None = None  # Meta's value, e.g. TIER_2K
    tier_limit: int | None = None  # the tier's unique users per 24 h; null = unlimited
    tier_checked_at: datetime | None = None

    def effective_limit(self) -> int | None:
        return self.tier_limit if self.daily_limit_source == "graph" else self.daily_unique_limit


class SendingSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages_per_second: int | None = Field(default=None, ge=1, le=1000)
    daily_unique_limit: int | None = Field(default=None, ge=1)
    unlimited: bool | None = None
