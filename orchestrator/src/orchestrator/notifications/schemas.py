from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

ORDER_EVENTS = ("order_paid", "order_packed", "order_fulfilled", "order_cancelled")
ALL_EVENTS = (*ORDER_EVENTS, "cart_recovery")


class EventSetting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    template: str | None = Field(default=None, min_length=1, max_length=512)
    # Empty: the customer's language.
    language: str = Field(default="", max_length=15, pattern=r"^([a-zA-Z]{2}([_-][a-zA-Z]{2})?)?$")


class RecoverySetting(EventSetting):
    enabled: bool = False  # marketing: off until the owner turns it on
    delay_minutes: int = Field(default=60, ge=10, le=7 * 24 * 60)
    cooldown_days: int = Field(default=7, ge=0, le=365)


class NotificationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_paid: EventSetting = Field(default_factory=EventSetting)
    order_packed: EventSetting = Field(default_factory=EventSetting)
    order_fulfilled: EventSetting = Field(default_factory=EventSetting)
    order_cancelled: EventSetting = Field(default_factory=EventSetting)
    cart_recovery: RecoverySetting = Field(default_factory=RecoverySetting)


class NotificationSettingsPatch(BaseModel):
    """Any subset; inside an event too (what is not sent keeps its value)."""

    model_config = ConfigDict(extra="forbid")

    order_paid: dict[str, object] | None = None
    order_packed: dict[str, object] | None = None
    order_fulfilled: dict[str, object] | None = None
    order_cancelled: dict[str, object] | None = None
    cart_recovery: dict[str, object] | None = None
