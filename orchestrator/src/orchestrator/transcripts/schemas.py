from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TranscriptDomains(BaseModel):
    """E-mail domains (besides the tenant's staff and the customer) a transcript may be sent to."""

    model_config = ConfigDict(extra="forbid")
    domains: list[str] = Field(
        default_factory=list,
        max_length=20,
        json_schema_extra={"items": {"pattern": r"^[a-z0-9.-]+\.[a-z]{2,}$"}},
    )
