"""WhatsApp ids → one stable key per person (Argentina's mobile 9, Brazil's ninth digit, Mexico's 1).

Meta reports the same Argentine mobile as `549…` or `54…`, a Brazilian one with or without the
ninth digit, a Mexican one as `521…` or `52…`. The key is the E.164 mobile form, so every variant
lands on one channel identity and one customer.
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


def normalize_wa_id(raw: str) -> NormalizedPhone:
    digits = canonical_digits(raw)
    if not digits:
        return NormalizedPhone(key=raw.strip(), e164=None)
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return NormalizedPhone(key=digits, e164=None)
    if not phonenumbers.is_possible_number(parsed):
        return NormalizedPhone(key=digits, e164=None)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return NormalizedPhone(key=e164.lstrip("+"), e164=e164)
