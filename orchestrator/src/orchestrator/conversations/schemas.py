"""Request bodies of the conversation endpoints."""

from __future__ import annotations

from pydantic import BaseModel, EmailStr, Field


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=4096)


class TranscriptIn(BaseModel):
    to: EmailStr


class PauseIn(BaseModel):
    reason: str = Field(default="manual", min_length=1, max_length=200)
