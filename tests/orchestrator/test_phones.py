"""One canonical form per phone, whether WhatsApp or a store wrote it."""

from __future__ import annotations

import pytest
from orchestrator.phones import match_keys, normalize_wa_id, to_e164


@pytest.mark.parametrize(
    ("wa_id", "store_text", "region", "e164"),
    [
        ("5491123456789", "011 15 2345-6789", "AR", "+5491123456789"),  # Argentina: mobile 9 / 15
        ("541123456789", "+54 9 11 2345-6789", "AR", "+5491123456789"),
        ("551187654321", "+55 11 98765-4321", "BR", "+5511987654321"),  # Brazil: ninth digit
        ("5215512345678", "+52 55 1234 5678", "MX", "+525512345678"),  # Mexico: old mobile 1
    ],
)
def test_whatsapp_and_store_spellings_meet(wa_id: str, store_text: str, region: str, e164: str) -> None:
    assert normalize_wa_id(wa_id).e164 == e164
    assert normalize_wa_id(wa_id).key == e164.lstrip("+")
    assert to_e164(store_text, region) == e164
    assert match_keys(wa_id, store_text, default_region=region) == {e164}


def test_not_a_phone() -> None:
    assert to_e164("123", "AR") is None
    assert to_e164(None) is None
    assert normalize_wa_id("abc").e164 is None
