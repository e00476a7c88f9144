from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from nexus_common.crypto import Crypto, DecryptionError, KeyConfigError


def test_encrypt_decrypt_round_trip_is_not_plaintext() -> None:
    c = Crypto(Fernet.generate_key().decode())
    ct = c.encrypt("EAAG-secret-token")
    assert b"EAAG" not in ct
    assert c.decrypt(ct) == "EAAG-secret-token"


def test_first_key_encrypts_all_decrypt_and_rotate_moves_to_first() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    ct_old = Crypto(old).encrypt("value")
    both = Crypto(f"{new},{old}")
    assert both.key_count == 2
    assert both.decrypt(ct_old) == "value"
    assert not both.encrypted_with_primary(ct_old)
    rotated = both.rotate(ct_old)
    assert both.encrypted_with_primary(rotated)
    assert Crypto(new).decrypt(rotated) == "value"
    with pytest.raises(DecryptionError):
        Crypto(old).decrypt(rotated)


def test_wrong_key_is_a_clear_error() -> None:
    ct = Crypto(Fernet.generate_key().decode()).encrypt("value")
    with pytest.raises(DecryptionError, match="ENCRYPTION_KEY"):
        Crypto(Fernet.generate_key().decode()).decrypt(ct)


@pytest.mark.parametrize("raw", ["", " , ", "short", "x" * 44])
def test_malformed_keys_are_refused(raw: str) -> None:
    with pytest.raises(KeyConfigError, match="ENCRYPTION_KEY"):
        Crypto(raw)
