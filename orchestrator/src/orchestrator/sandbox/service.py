"""Sandbox identities for the playground.

Each staff user plays one simulated customer of their store, identified by a `wa_id` that starts
with 0: no country calling code starts with 0, so it is never a real WhatsApp number (it gets no
E.164 phone and never matches a real customer). Replies to it are settled by the outbox as sent
without calling WhatsApp at all: a playground conversation never reaches a real number.
"""

from __future__ import annotations

import hashlib
import uuid

SANDBOX_PREFIX = "0"
_DIGITS = 14


def wa_id_for(tenant_id: uuid.UUID, staff: str) -> str:
    """The sandbox `wa_id` of one staff member (`staff`: the user id, or the super-admin) in a
    tenant: stable, distinct per person and tenant, 15 digits starting with 0."""
    n = int.from_bytes(hashlib.sha256(f"{tenant_id}:{staff}".encode()).digest()[:8], "big")
    return SANDBOX_PREFIX + str(n % 10**_DIGITS).zfill(_DIGITS)


def is_sandbox(recipient: str | None) -> bool:
    return bool(recipient) and str(recipient).startswith(SANDBOX_PREFIX)
