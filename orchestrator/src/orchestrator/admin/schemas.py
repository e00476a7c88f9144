"""Request bodies of the admin actions (unknown fields are refused)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class NoBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConversationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    conversation_id: uuid.UUID


class HandoffBody(ConversationBody):
    reason: str = Field(default="manual", min_length=1, max_length=200)


class TranscriptBody(ConversationBody):
    to: EmailStr
