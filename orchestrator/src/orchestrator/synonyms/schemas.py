"""The synonym editor's body: groups of words the product search treats as one."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

Word = Annotated[str, Field(min_length=1, max_length=60)]


class Synonyms(BaseModel):
    groups: list[Annotated[list[Word], Field(min_length=2, max_length=30)]] = Field(
        default_factory=list, max_length=200
    )
