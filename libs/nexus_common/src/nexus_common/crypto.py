"""Encryption at rest for third-party credentials: MultiFernet over ENCRYPTION_KEY.

ENCRYPTION_KEY holds one or more comma-separated Fernet keys; the first encrypts, all decrypt, so
a key is rotated by prepending a new one and running `nexus rotate-keys`.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class KeyConfigError(ValueError):
    pass


class DecryptionError(Exception):
    """A ciphertext none of the configured keys can open (wrong ENCRYPTION_KEY)."""


def parse_keys(raw: str) -> list[Fernet]:
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise KeyConfigError("ENCRYPTION_KEY is empty; generate one with Fernet.generate_key()")
    out = []
    for i, k in enumerate(keys, start=1):
        try:
            out.append(Fernet(k.encode()))
        except (ValueError, TypeError):
            raise KeyConfigError(
                f"ENCRYPTION_KEY key #{i} is not a valid Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
    return out


class Crypto:
    def __init__(self, raw_keys: str) -> None:
        self._keys = parse_keys(raw_keys)
        self._fernet = MultiFernet(self._keys)

    @property
    def key_count(self) -> int:
        return len(self._keys)

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(ciphertext)).decode("utf-8")
        except InvalidToken:
            raise DecryptionError(
                "stored credential cannot be decrypted with ENCRYPTION_KEY (wrong or removed key)"
            ) from None

    def rotate(self, ciphertext: bytes) -> bytes:
        """Re-encrypt with the first key (keeps the original timestamp)."""
        try:
            return self._fernet.rotate(bytes(ciphertext))
        except InvalidToken:
            raise DecryptionError(
                "stored credential cannot be decrypted with ENCRYPTION_KEY (wrong or removed key)"
            ) from None

    def encrypted_with_primary(self, ciphertext: bytes) -> bool:
        try:
            self._keys[0].decrypt(bytes(ciphertext))
            return True
        except InvalidToken:
            return False
