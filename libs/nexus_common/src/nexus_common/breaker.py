"""A circuit breaker per provider (and key): stop calling a provider that keeps failing.

Used by agent_service's LLM chain and by the orchestrator's embedding provider."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class _State:
    failures: int = 0
    opened_at: float | None = None


class CircuitBreakers:
    """Closed → (N consecutive failures) → open for `cooldown` → half-open: one trial call."""

    def __init__(self, failures: int = 3, cooldown: float = 30.0) -> None:
        self.threshold = failures
        self.cooldown = cooldown
        self._states: dict[str, _State] = {}

    def allow(self, key: str) -> bool:
        st = self._states.get(key)
        if st is None or st.opened_at is None:
            return True
        if time.monotonic() - st.opened_at >= self.cooldown:
            st.opened_at = time.monotonic()  # half-open: let this one call through
            return True
        return False

    def success(self, key: str) -> bool:
        """Record a success; True when this closed a circuit that had opened (a recovery)."""
        st = self._states.pop(key, None)
        return st is not None and st.opened_at is not None

    def failure(self, key: str) -> None:
        st = self._states.setdefault(key, _State())
        st.failures += 1
        if st.failures >= self.threshold:
            st.opened_at = time.monotonic()

    def is_open(self, key: str) -> bool:
        st = self._states.get(key)
        return bool(st and st.opened_at is not None and time.monotonic() - st.opened_at < self.cooldown)
