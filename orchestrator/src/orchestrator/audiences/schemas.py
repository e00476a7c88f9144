from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Tag = str


class AudienceFilter(BaseModel):
    """Who is in an audience; every key is optional and they are ANDed. Opted-out customers are
    never included, whatever the filter says."""

    model_config = ConfigDict(extra="forbid")

    channel: Literal["whatsapp", "instagram", "messenger"] | None = None
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}([_-][A-Za-z]{2})?$")
    opted_in: bool | None = None
    # Orders Nexus saw through the store's order webhooks (customer_orders); cancelled ones don't count.
    bought_product_ids: list[int] | None = Field(default=None, max_length=200)  # Tienda Nube product ids
    bought_categories: list[str] | None = Field(default=None, max_length=50)  # category names
    last_order_before: datetime | None = None
    last_order_after: datetime | None = None
    active_within_days: int | None = Field(default=None, ge=1, le=3650)
    tags: list[str] | None = Field(default=None, max_length=50)
    customer_ids: list[uuid.UUID] | None = Field(default=None, max_length=10000)


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filter: AudienceFilter = Field(default_factory=AudienceFilter)


class SampleCustomer(BaseModel):
    id: uuid.UUID
    name: str | None
    phone: str | None  # masked
    language: str | None


class PreviewResponse(BaseModel):
    count: int
    sample: list[SampleCustomer]


class RejectedRow(BaseModel):
    line: int
    reason: str


class ImportResponse(BaseModel):
    imported: int
    rejected: list[RejectedRow]
