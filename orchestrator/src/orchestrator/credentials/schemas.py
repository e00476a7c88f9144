"""Request bodies of the credential endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field

KIND = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


class CredentialIn(BaseModel):
    value: str = Field(min_length=1, max_length=8192)
    scope: str = Field(default="", max_length=128)
