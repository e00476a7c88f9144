from __future__ import annotations

import io
import json
import logging

import structlog
from nexus_common.logging import configure_logging, mask_phone, redact


def _lines(buf: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


def test_logged_payload_with_secrets_comes_out_masked() -> None:
    buf = io.StringIO()
    configure_logging("INFO", "test", stream=buf)
    key = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"
    structlog.get_logger("t").info(
        "webhook.received",
        payload={
            "user": {"email": "maria.gomez@example.com", "password": "hunter2-very-secret"},
            "headers": {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.abc.def"},
            "note": f"customer pasted {key} into chat",
            "phone": "+5491123456789",
            "nested": [{"api_key": "abc123def456"}],
        },
        access_token="EAAGm0PX4ZCpsBAKZCxyz0123456789abcdef",
    )
    out = buf.getvalue()
    for secret in (
        "hunter2-very-secret",
        "eyJhbGciOiJIUzI1NiJ9",
        key,
        "abc123def456",
        "EAAGm0PX4ZCpsBAKZCxyz0123456789abcdef",
        "maria.gomez@",
        "91123456",
    ):
        assert secret not in out, secret
    line = _lines(buf)[0]
    assert line["event"] == "webhook.received"
    assert line["access_token"] == "***"
    payload = line["payload"]
    assert isinstance(payload, dict)
    assert payload["user"]["password"] == "***"
    assert payload["headers"]["Authorization"] == "***"
    assert payload["phone"] == "+54*******6789"
    assert payload["user"]["email"] == "m***@example.com"
    assert "***" in payload["note"]


def test_stdlib_loggers_are_redacted_and_crlf_stripped() -> None:
    buf = io.StringIO()
    configure_logging("INFO", "test", stream=buf)
    logging.getLogger("sqlalchemy.engine").warning(
        "connect failed postgresql://nexus:pw@db/nexus\r\nFAKE LINE"
    )
    out = buf.getvalue()
    assert "pw@db" not in out
    assert out.count("\n") == 1  # one line, the CR/LF inside the value did not split it
    assert "FAKE LINE" in out


def test_mask_phone_keeps_country_and_last_digits() -> None:
    assert mask_phone("+5511987654321") == "+55*******4321"
    assert redact("call 5511987654321 now") == "call 55*******4321 now"
    # Order numbers and short ids are not phone numbers.
    assert redact("order #12345") == "order #12345"
    # The job queue's periodic-job lines stay readable; a phone right after "=" is still masked.
    line = "Job recovery:tick[7](timestamp=1795789920) ended with status: Error"
    assert redact(line) == line
    assert redact("phone=5511987654321") == "phone=55*******4321"
