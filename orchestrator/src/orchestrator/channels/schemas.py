"""Request bodies of the channel endpoints."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ChannelPatch(BaseModel):
    enabled: bool | None = None
    display_name: str | None = Field(default=None, max_length=200)
