"""Phone numbers → one canonical E.164 form per person, wherever they come from.

WhatsApp reports the same mobile in several spellings (Argentina `549…`/`54…`, Brazil with or
without the ninth digit, Mexico `521…`/`52…`) and stores write free text (`+54 9 11 …`, `011 15 …`,
`11 …`). Everything is folded onto the mobile E.164 form (`+549…`, `+55xx9…`, `+52…`), so the
pipeline's channel identities, the customers' phones and the store's orders compare directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class NormalizedPhone:
    key: str  # digits of the canonical E.164 form (the channel identity's external id)
    e164: str | None  # "+549…", or None when it is not a plausible phone number


def canonical_digits(raw: str) -> str:
    d = _DIGITS.sub("", raw)
    if d.startswith("54") and not d.startswith("549") and len(d) == 12:
        # Argentina: 54 + area + number (10 national digits); mobiles carry a 9 after 54.
        return "549" + d[2:]
    if d.startswith("55") and len(d) == 12 and d[4] in "6789":
        # Brazil: 55 + DDD + 8-digit mobile from before the ninth digit was added.
        return d[:4] + "9" + d[4:]
    if d.startswith("521") and len(d) == 13:
        # Mexico: the old mobile prefix 1 is no longer dialled.
        return "52" + d[3:]
    return d


def _possible_e164(candidate: str, region: str | None) -> str | None:
    try:
        num = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def normalize_wa_id(raw: str) -> NormalizedPhone:
    """A WhatsApp `wa_id` (country code, no +) → its canonical key and E.164 form."""
    digits = canonical_digits(raw)
    if not digits:
        return NormalizedPhone(key=raw.strip(), e164=None)
    e164 = _possible_e164("+" + digits, None)
    return (
        NormalizedPhone(key=e164.lstrip("+"), e164=e164) if e164 else NormalizedPhone(key=digits, e164=None)
    )


def to_e164(raw: str | None, default_region: str = "AR") -> str | None:
    """Free text as a store or customer writes it → canonical E.164, or None."""
    if not raw:
        return None
    text = raw.strip()
    digits = _DIGITS.sub("", text)
    if len(digits) < 6:
        return None
    if text.startswith(("+", "00")):
        candidates: list[tuple[str, str | None]] = [
            ("+" + digits.removeprefix("00") if text.startswith("00") else "+" + digits, None)
        ]
    else:
        candidates = [(text, default_region)]
        if len(digits) >= 11:
            candidates.append(("+" + digits, None))  # a wa_id: country code without the +
    for candidate, region in candidates:
        if e164 := _possible_e164(candidate, region):
            return "+" + canonical_digits(e164)
    return None


def match_keys(*raws: str | None, default_region: str = "AR") -> set[str]:
    """The canonical forms of every given phone (variants of one number give one key)."""
    return {e for raw in raws if (e := to_e164(raw, default_region))}
