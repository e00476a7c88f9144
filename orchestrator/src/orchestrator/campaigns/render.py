"""A template's variables, filled per recipient; a recipient with an empty one is skipped.

`variables` names the field for `{{1}}`, `{{2}}`, … Every field must resolve to a non-empty
text, or the recipient is skipped with the reason (never a template with a blank hole).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nexus_common.errors import NexusError

TEST_COUPON_CODE = "NXTEST"  # test sends before the campaign's code exists
DEFAULT_VARIABLES = ["customer.first_name", "store.name"]
FIELDS = {
    "customer.first_name": "the customer's first name",
    "customer.name": "the customer's full name",
    "store.name": "the store's name",
}
COUPON_FIELDS = {
    "coupon.code": "the campaign's coupon code",
    "coupon.percent": "the coupon's discount, e.g. 15%",
}


def validate(variables: list[str], parameters: int | None, *, coupon: bool = False) -> list[str]:
    unknown = [v for v in variables if v not in FIELDS and v not in COUPON_FIELDS]
    if unknown:
        raise NexusError(
            f"unknown variable field(s): {', '.join(unknown)}",
            code="unknown_variable",
            status_code=422,
            details={"allowed": sorted([*FIELDS, *COUPON_FIELDS])},
        )
    if not coupon and any(v in COUPON_FIELDS for v in variables):
        raise NexusError(
            "a coupon variable needs a coupon on the campaign (set `coupon`)",
            code="coupon_variable_without_coupon",
            status_code=422,
        )
    if parameters is not None and len(variables) != parameters:
        raise NexusError(
            f"the template has {parameters} variable(s) but {len(variables)} were mapped",
            code="variable_count",
            status_code=422,
        )
    return variables


@dataclass(frozen=True)
class Context:
    customer_name: str | None
    store_name: str | None
    coupon_code: str | None = None
    coupon_percent: str | None = None


def value(field: str, ctx: Context) -> str | None:
    name = (ctx.customer_name or "").strip()
    if field == "customer.first_name":
        return name.split()[0] if name else None
    if field == "customer.name":
        return name or None
    if field == "store.name":
        return (ctx.store_name or "").strip() or None
    if field == "coupon.code":
        return ctx.coupon_code or None
    if field == "coupon.percent":
        return f"{ctx.coupon_percent}%" if ctx.coupon_percent else None
    return None


def coupon_context(coupon: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(code, percent) of a campaign's coupon once issued; the percent without trailing zeros."""
    if not coupon or not coupon.get("code"):
        return None, None
    pct = str(coupon.get("percent") or "")
    if "." in pct:
        pct = pct.rstrip("0").rstrip(".")
    return str(coupon["code"]), pct or None


def render(variables: list[str], ctx: Context) -> tuple[list[str] | None, str | None]:
    """The parameter texts, or (None, reason) when one is empty."""
    out: list[str] = []
    for i, field in enumerate(variables, start=1):
        v = value(field, ctx)
        if not v:
            return None, f"variable {{{{{i}}}}} ({field}) is empty"
        out.append(v[:1024])
    return out, None


def components(params: list[str]) -> list[dict[str, Any]]:
    if not params:
        return []
    return [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}]
