"""Fake Meta Graph API server for tests and `make dev` (`python -m fakes.meta_graph --port N`)."""

from .app import FakeState, create_app
from .payloads import encode, meta_message, sign, signed, wa_message, wa_status, wa_user_preferences

__all__ = [
    "FakeState",
    "create_app",
    "encode",
    "meta_message",
    "sign",
    "signed",
    "wa_message",
    "wa_status",
    "wa_user_preferences",
]
