"""bff settings (DESIGN.md §2)."""

from __future__ import annotations

from nexus_common.settings import BaseServiceSettings
from pydantic import AnyHttpUrl, SecretStr


class Settings(BaseServiceSettings):
    orchestrator_url: AnyHttpUrl = AnyHttpUrl("http://orchestrator:8000")
    redis_url: SecretStr | None = None
    # The orchestrator's database, read-only use of `events` (replay and LISTEN nexus_events).
    postgres_dsn: SecretStr | None = None
    sse_heartbeat_seconds: float = 15.0
    # Events replayed after a reconnect (Last-Event-ID); older ones are pruned by the orchestrator.
    sse_replay_limit: int = 5000
    # A browser that cannot keep up is disconnected (it resumes from Last-Event-ID).
    sse_queue_size: int = 1000
    # An open stream re-checks its token this often (logout, deactivation, revoked session) and
    # ends when the token expires.
    sse_recheck_seconds: float = 30.0
