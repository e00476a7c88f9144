from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class TemplateOut(BaseModel):
    name: str
    language: str
    category: str
    status: str
    parameters: int  # how many {{n}} variables the body takes
    body: str | None = None
    updated_at: datetime | None = None


class TemplateList(BaseModel):
    items: list[TemplateOut]


class SyncResult(BaseModel):
    synced: int
    removed: int
