"""Phone numbers as stores write them (free text) → E.164, and the keys that make variants match.

WhatsApp's `wa_id` for Argentina is 549+area+number while stores write +54 9 11 ..., 011 15 ...
or 11 ...; Mexico has 521/52; Brazil's old 8-digit mobiles lack the 9th digit. `match_keys`
folds those variants onto one key so "the customer writing" and "the order's contact" compare.
"""

from __future__ import annotations

import re

import phonenumbers

_DIGITS = re.compile(r"\D")


def to_e164(raw: str | None, default_region: str = "AR") -> str | None:
    if not raw:
        return None
    digits = _DIGITS.sub("", raw)
    if len(digits) < 6:
        return None
    candidates = []
    if raw.strip().startswith("+") or raw.strip().startswith("00"):
        candidates.append("+" + digits.removeprefix("00") if raw.strip().startswith("00") else "+" + digits)
    else:
        candidates.append(raw)
        if len(digits) >= 11:
            candidates.append("+" + digits)  # a wa_id: country code without the +
    for cand in candidates:
        try:
            num = phonenumbers.parse(cand, None if cand.startswith("+") else default_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(num):
            return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return None


def match_key(e164: str) -> str:
    if e164.startswith("+549") and len(e164) == 14:
        return "+54" + e164[4:]
    if e164.startswith("+521") and len(e164) == 14:
        return "+52" + e164[4:]
    if e164.startswith("+55") and len(e164) == 14 and e164[5] == "9":
        return e164[:5] + e164[6:]
    return e164


def match_keys(*raws: str | None, default_region: str = "AR") -> set[str]:
    keys = set()
    for raw in raws:
        e = to_e164(raw, default_region)
        if e:
            keys.add(match_key(e))
    return keys


def stored_forms(key: str) -> set[str]:
    """The E.164 spellings a match key may be stored under (inverse of `match_key`)."""
    forms = {key}
    if key.startswith("+54") and len(key) == 13:
        forms.add("+549" + key[3:])
    elif key.startswith("+52") and len(key) == 13:
        forms.add("+521" + key[3:])
    elif key.startswith("+55") and len(key) == 13:
        forms.add(key[:5] + "9" + key[5:])
    return forms
