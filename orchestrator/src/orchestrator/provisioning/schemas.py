from __future__ import annotations

import uuid

from pydantic import BaseModel, Field, SecretStr, model_validator

_ID = r"^[0-9A-Za-z_.-]{1,64}$"


class TenantCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class TenantCreated(BaseModel):
    id: uuid.UUID


class Template(BaseModel):
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(default="es", max_length=15)


class WhatsAppChannel(BaseModel):
    phone_number_id: str = Field(pattern=_ID)
    access_token: SecretStr = Field(min_length=8, max_length=4096)
    app_secret: SecretStr = Field(min_length=8, max_length=512)
    verify_token: SecretStr = Field(min_length=8, max_length=512)
    display_name: str | None = Field(default=None, max_length=200)
    # Sent instead of free text outside the 24-hour customer-care window.
    reengagement_template: Template | None = None
    # The WhatsApp Business Account whose message templates the number uses.
    waba_id: str | None = Field(default=None, pattern=_ID)


class MetaChannel(BaseModel):
    page_id: str | None = Field(default=None, pattern=_ID)  # Messenger
    instagram_account_id: str | None = Field(default=None, pattern=_ID)
    access_token: SecretStr = Field(min_length=8, max_length=4096)
    app_secret: SecretStr = Field(min_length=8, max_length=512)
    verify_token: SecretStr = Field(min_length=8, max_length=512)
    display_name: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _one_account(self) -> MetaChannel:
        if not self.page_id and not self.instagram_account_id:
            raise ValueError("page_id or instagram_account_id is required")
        return self


class ChannelAccountOut(BaseModel):
    id: uuid.UUID
    channel: str
    external_id: str
    display_name: str | None
    access_token: str  # masked
    app_secret: str  # masked
    verify_token: str  # masked


class ChannelsOut(BaseModel):
    items: list[ChannelAccountOut]
