"""structlog JSON logging with a redaction processor.

Nothing secret reaches a log line: values under sensitive keys are masked, values that look like
keys or bearer tokens are masked wherever they appear, phone numbers and e-mails are partly masked,
and CR/LF are stripped so a logged value cannot forge a log line.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.types import EventDict, WrappedLogger

MASK = "***"

SENSITIVE_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "private_key",
    "encryption_key",
    "cookie",
    "dsn",
    "credential",
    "signature",
    "hub.verify_token",
    # Payment cards and national identity documents (AR DNI/CUIT/CUIL, BR CPF/CNPJ, passports).
    "card_number",
    "cardnumber",
    "credit_card",
    "cvv",
    "cvc",
    "dni",
    "cpf",
    "cnpj",
    "cuit",
    "cuil",
    "document_number",
    "passport",
)

# Values that look like credentials, wherever they appear in a string.
_SECRET_PATTERNS = [
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}"),  # OpenAI / Anthropic keys
    re.compile(r"\bEAA[A-Za-z0-9]{20,}"),  # Meta access tokens
    re.compile(r"\bgAAAAA[A-Za-z0-9_=-]{20,}"),  # Fernet tokens
    re.compile(r"(?i)\b(postgres(?:ql)?(?:\+\w+)?|redis|rediss|smtps?|amqp)://[^\s'\"]+"),  # URLs w/ creds
    re.compile(r"(?i)\bsha256=[0-9a-f]{32,}"),
]
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
# 10-15 digits, optionally with a leading + and single separators: E.164 and local forms. A Unix
# time named as such (the job queue logs "timestamp=1795789920") is not a phone number.
_PHONE = re.compile(r"(?<![\w.])(?<!timestamp=)\+?\d(?:[ -]?\d){9,14}(?![\w.])")
_CRLF = re.compile(r"[\r\n]+")
# 13-19 digits with optional single spaces/dashes, not a "+" phone number: a card when Luhn holds.
_CARD = re.compile(r"(?<![\w.+])\d(?:[ -]?\d){12,18}(?![\w.])")
# Formatted identity numbers: BR CPF and CNPJ, AR CUIT/CUIL and dotted DNI.
_DOCUMENTS = [
    re.compile(r"(?<![\w.])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\w.])"),
    re.compile(r"(?<![\w.])\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}(?![\w.])"),
    re.compile(r"(?<![\w.-])(?:20|23|24|27|30|33|34)-?\d{8}-?\d(?![\w.-])"),
    re.compile(r"(?<![\w.])\d{1,2}\.\d{3}\.\d{3}(?![\w.])"),
]


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"{MASK}{digits[-4:]}" if luhn_valid(digits) else match.group(0)


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) < 6:
        return MASK
    prefix = "+" if value.strip().startswith("+") else ""
    return f"{prefix}{digits[:2]}{'*' * (len(digits) - 6)}{digits[-4:]}"


def mask_email(value: str) -> str:
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", value)


def redact_text(value: str) -> str:
    out = _CRLF.sub(" ", value)
    for pat in _SECRET_PATTERNS:
        out = pat.sub(MASK, out)
    out = _CARD.sub(_mask_card, out)
    for pat in _DOCUMENTS:
        out = pat.sub(MASK, out)
    out = mask_email(out)
    out = _PHONE.sub(lambda m: mask_phone(m.group(0)), out)
    return out


def is_sensitive_key(key: str) -> bool:
    k = key.lower()
    return any(part in k for part in SENSITIVE_KEY_PARTS)


def redact(value: Any, _depth: int = 0) -> Any:
    """Return a copy of `value` safe to log or store."""
    if _depth > 12:
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (
                MASK
                if isinstance(k, str) and is_sensitive_key(k) and v not in (None, "")
                else redact(v, _depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set):
        return [redact(v, _depth + 1) for v in value]
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))


def redaction_processor(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    return {
        key: (MASK if is_sensitive_key(key) and val not in (None, "") else redact(val))
        for key, val in event_dict.items()
    }


def configure_logging(level: str = "INFO", service: str = "nexus", stream: Any = None) -> None:
    """JSON logs on stdout (or `stream`), one object per line, redacted last before rendering."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[
            *shared,
            _add_service(service),
            redaction_processor,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stdout),
        cache_logger_on_first_use=False,
    )
    # Route stdlib logging (uvicorn, sqlalchemy, alembic) through the same redaction.
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, _add_service(service)],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redaction_processor,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        # Access lines carry query strings (Meta's hub.verify_token); our middleware logs paths only.
        logging.getLogger(noisy).disabled = True


def _add_service(service: str) -> Any:
    def proc(_l: WrappedLogger, _n: str, ev: EventDict) -> EventDict:
        ev.setdefault("service", service)
        return ev

    return proc
