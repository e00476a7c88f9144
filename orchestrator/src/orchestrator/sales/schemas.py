"""Bodies of the sales endpoints (staff and internal)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class CartItemIn(BaseModel):
    # Prices never come from a client or a model: only what and how many.
    model_config = ConfigDict(extra="forbid")

    variant_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=100)


class CartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[CartItemIn] = Field(max_length=50)


class CartLine(BaseModel):
    variant_id: int
    product_id: str | None
    quantity: int
    name: str | None
    variant: str | None
    price: Decimal | None
    subtotal: Decimal | None
    available: bool


class CartOut(BaseModel):
    items: list[CartLine]
    subtotal: Decimal
    currency: str | None


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    lastname: str | None = Field(default=None, min_length=1, max_length=100)
    email: EmailStr | None = None


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[CartItemIn] | None = Field(default=None, max_length=50)
    coupon_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{4,40}$")
    contact: Contact | None = None


class CheckoutOut(BaseModel):
    checkout_url: str
    draft_order_id: int
    total: Decimal | None
    currency: str | None
    coupon_code: str | None = None


class AddItemIn(BaseModel):
    """The agent's add-to-cart: a product (and a variant when it knows it) plus option words."""

    product_id: str = Field(min_length=1, max_length=64)
    variant_id: int | None = Field(default=None, ge=1)
    options: list[str] = Field(default_factory=list, max_length=5)
    quantity: int = Field(default=1, ge=1, le=100)


class ChangeItemIn(BaseModel):
    variant_id: int = Field(ge=1)
    quantity: int = Field(ge=0, le=100)  # 0 removes the line


class CouponPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    max_percent: Decimal = Field(default=Decimal("10"), ge=0, le=100, decimal_places=2)
    min_purchase: Decimal = Field(default=Decimal("0"), ge=0, decimal_places=2)
    valid_hours: int = Field(default=48, ge=1, le=24 * 90)
    daily_cap: int = Field(default=20, ge=0, le=100_000)
    on_request: bool = True
    on_recovery: bool = False
    on_campaign: bool = False  # a campaign may carry a coupon (one shared code, issue 13)


class CouponRequestIn(BaseModel):
    reason: Literal["on_request", "on_recovery"] = "on_request"
    percent: Decimal | None = Field(default=None, ge=0, le=100)
