"""Orchestrator settings: the variables of DESIGN.md §2 it needs."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from nexus_common.crypto import Crypto, KeyConfigError
from nexus_common.settings import BaseServiceSettings
from pydantic import AnyHttpUrl, SecretStr, field_validator


class Settings(BaseServiceSettings):
    admin_token: SecretStr
    encryption_key: SecretStr
    postgres_dsn: SecretStr
    redis_url: SecretStr | None = None
    agent_service_url: AnyHttpUrl = AnyHttpUrl("http://agent_service:8001")
    whatsapp_service_url: AnyHttpUrl = AnyHttpUrl("http://whatsapp_service:8002")
    tiendanube_service_url: AnyHttpUrl = AnyHttpUrl("http://tiendanube_service:8003")
    bff_url: AnyHttpUrl = AnyHttpUrl("http://bff:3000")
    api_base_url: str = "http://localhost"
    nexus_v3_enabled: bool = True
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    smtp_url: SecretStr | None = None
    mail_from: str = "Nexus <no-reply@localhost>"
    chroma_url: str | None = None
    data_dir: Path = Path("/app/data")
    # Job workers inside this replica (procrastinate on Postgres); several replicas are safe.
    nexus_worker_enabled: bool = True
    nexus_worker_concurrency: int = 4
    # Where alembic's migrations/ lives; found automatically in the repo and in the image.
    nexus_migrations_dir: Path | None = None
    # Tienda Nube (issue 4): the app secret signs webhooks; installs redirect to the dashboard.
    tiendanube_client_secret: SecretStr | None = None
    dashboard_url: str | None = None
    tiendanube_sync_stall_seconds: float = 300.0
    # Staff accounts (issue 6). AUTH_SECRET signs staff tokens; unset = derived from ADMIN_TOKEN.
    auth_secret: SecretStr | None = None
    auth_access_ttl_seconds: int = 900
    auth_refresh_ttl_seconds: int = 30 * 24 * 3600
    # Failed sign-ins (issue 11): no lockout. After the free failures (per account from one address,
    # and per address across accounts) each attempt waits a delay doubling from the base up to the
    # max; counts are forgotten after LOGIN_WINDOW_SECONDS without a failure.
    login_free_failures_per_account: int = 3
    login_free_failures_per_ip: int = 30
    login_delay_base_seconds: float = 1.0
    login_delay_max_seconds: float = 900.0
    login_window_seconds: int = 3600
    # Password-reset mails per e-mail address per hour (more are silently dropped), and requests
    # per client address per hour (more answer 429).
    password_reset_max_per_account_hour: int = 3
    password_reset_max_per_ip_hour: int = 20
    analytics_cache_seconds: int = 300
    # Retrieval (issue 5): the offline embedding model when no OpenAI key is set ("e5" or "use"),
    # and the OpenAI embedding model used when one is.
    embedding_local_model: str = "e5"
    openai_embedding_model: str = "text-embedding-3-small"
    # Issue 14: the embedding provider's circuit breaker (like the LLM chain's). A query embedding
    # waits at most `embedding_timeout_seconds` (no retries); after `embedding_breaker_failures`
    # consecutive failures the provider is not called for `embedding_breaker_cooldown_seconds`.
    embedding_timeout_seconds: float = 3.0
    embedding_index_timeout_seconds: float = 30.0  # one batch of documents while indexing
    embedding_breaker_failures: int = 3
    embedding_breaker_cooldown_seconds: float = 30.0
    # --- message pipeline (issue 3) ---
    # Customer messages within this window (sliding, capped) get one answer.
    nexus_debounce_seconds: float = 3.0
    nexus_debounce_max_seconds: float = 15.0
    # Scheduled jobs (debounce turns, send retries) are found by polling this often.
    nexus_worker_poll_seconds: float = 0.5
    # A replica that stops heartbeating for `stalled` seconds is dead: its jobs are retried.
    nexus_worker_heartbeat_seconds: float = 10.0
    nexus_worker_stalled_seconds: float = 30.0
    # An outbox row stuck in `sending` this long (crash or timeout mid-send) with no status
    # webhook naming it is assumed unsent and queued again.
    nexus_outbox_grace_seconds: float = 60.0
    nexus_outbox_max_attempts: int = 8
    # Abandoned-checkout recovery: how often each store's /checkouts is read (Tienda Nube has no
    # webhook for them), paced by the store's rate limit.
    nexus_checkout_poll_seconds: float = 600.0
    nexus_agent_timeout_seconds: float = 300.0
    # Transcript e-mails per sliding hour (issue 11): per staff user, and per tenant.
    transcript_max_per_user_hour: int = 10
    transcript_max_per_tenant_hour: int = 50
    # The internal listener's port (listeners/serve.py sets it): /internal/* answers only there.
    # Unset (tests, a bare `uvicorn`): no listener split.
    nexus_internal_port: int | None = None
    # The BFF's restricted database role (nexus_bff: read `events`, LISTEN) signs in with this;
    # unset: the role stays unable to sign in.
    bff_db_password: SecretStr | None = None
    # --- data retention (issue 11): days to keep, 0 = forever; pruned hourly in small batches ---
    retention_events_days: int = 3
    retention_inbound_events_days: int = 30
    retention_audit_log_days: int = 365
    retention_agent_runs_days: int = 90
    retention_analytics_terms_days: int = 400
    retention_webhook_rejections_days: int = 30
    retention_batch_size: int = 1000
    retention_max_batches: int = 200

    @field_validator("encryption_key")
    @classmethod
    def _valid_fernet_keys(cls, v: SecretStr) -> SecretStr:
        raw = v.get_secret_value()
        if raw.strip().lower().startswith("change-me"):
            return v  # the placeholder check (production only) names it properly
        try:
            Crypto(raw)
        except KeyConfigError as exc:
            raise ValueError(str(exc).removeprefix("ENCRYPTION_KEY ")) from None
        return v

    @field_validator("postgres_dsn")
    @classmethod
    def _valid_dsn(cls, v: SecretStr) -> SecretStr:
        raw = v.get_secret_value()
        if not raw.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
            raise ValueError("must be a postgresql:// URL")
        return v

    @field_validator("admin_token")
    @classmethod
    def _long_admin_token(cls, v: SecretStr) -> SecretStr:
        if len(v.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return v

    @field_validator("auth_secret")
    @classmethod
    def _long_auth_secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return v

    @cached_property
    def crypto(self) -> Crypto:
        return Crypto(self.encryption_key.get_secret_value())

    @property
    def async_dsn(self) -> str:
        return to_async_dsn(self.postgres_dsn.get_secret_value())


def to_async_dsn(dsn: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if dsn.startswith(prefix):
            return "postgresql+asyncpg://" + dsn[len(prefix) :]
    return dsn
