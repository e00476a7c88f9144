"""SMTP client: `SMTP_URL` parsing, STARTTLS/TLS and auth, retries, an outcome instead of an exception.

`SMTP_URL` forms: `smtp://user:pass@host:587?starttls=1` (STARTTLS required), `smtp://host:25`
(STARTTLS when the server offers it), `smtp://host:25?starttls=0` (plain), `smtps://user:pass@host:465`
(implicit TLS). `?timeout=10` sets the per-attempt timeout in seconds.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import structlog
from nexus_common.logging import mask_email
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

log = structlog.get_logger("orchestrator.mail")


class MailConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None  # None: upgrade when offered
    timeout: float
    validate_certs: bool


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailConfigError("SMTP_URL must look like smtp://user:pass@host:587?starttls=1")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}

    def flag(name: str) -> bool | None:
        if name not in query:
            return None
        return query[name].lower() in ("1", "true", "yes", "on")

    use_tls = parts.scheme == "smtps" or bool(flag("tls"))
    return SmtpConfig(
        host=parts.hostname,
        port=parts.port or (465 if use_tls else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=False if use_tls else flag("starttls"),
        timeout=float(query.get("timeout", "10")),
        validate_certs=flag("verify") is not False,
    )


@dataclass(frozen=True)
class Mail:
    to: list[str]
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class MailOutcome:
    ok: bool
    attempts: int
    error: str | None = None


def _transient(exc: BaseException) -> bool:
    """Network trouble and 4xx replies are worth another try; 5xx (bad login, refused) are not."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 400 <= exc.code < 500
    return isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError)


def build_message(mail: Mail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(mail.to)
    msg["Subject"] = mail.subject
    msg["Message-ID"] = make_msgid(domain="nexus.local")
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg


async def send(
    smtp_url: str | None, sender: str, mail: Mail, *, attempts: int = 3, max_wait: float = 4.0
) -> MailOutcome:
    """Send with retries; never raises (the caller records the outcome)."""
    if not smtp_url:
        return MailOutcome(ok=False, attempts=0, error="SMTP_URL is not set")
    try:
        cfg = parse_smtp_url(smtp_url)
    except (MailConfigError, ValueError) as exc:
        return MailOutcome(ok=False, attempts=0, error=str(exc))
    message = build_message(mail, sender)
    tls_context = ssl.create_default_context()
    if not cfg.validate_certs:
        tls_context.check_hostname = False
        tls_context.verify_mode = ssl.CERT_NONE
    tried = 0
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.5, max=max_wait),
            retry=retry_if_exception(_transient),
            reraise=True,
        ):
            with attempt:
                tried += 1
                await aiosmtplib.send(
                    message,
                    hostname=cfg.host,
                    port=cfg.port,
                    username=cfg.username,
                    password=cfg.password,
                    use_tls=cfg.use_tls,
                    start_tls=cfg.start_tls,
                    timeout=cfg.timeout,
                    tls_context=tls_context,
                )
    except Exception as exc:  # noqa: BLE001 - reported as the outcome
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
        log.warning("mail.failed", to=[mask_email(t) for t in mail.to], attempts=tried, error=error)
        return MailOutcome(ok=False, attempts=tried, error=error)
    log.info("mail.sent", to=[mask_email(t) for t in mail.to], attempts=tried)
    return MailOutcome(ok=True, attempts=tried)
