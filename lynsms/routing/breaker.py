"""A circuit breaker per provider (API.md §10: ``breaker_failures``, ``breaker_cooldown``).

After ``failures`` retryable failures in a row a provider is *open*: chains skip
it (skips are not attempts) for ``cooldown`` seconds. Then one message probes
it (*half-open*): success closes the circuit, failure opens it again. A hard
error (the provider answered and refused one message) counts as healthy.
The state lives in each process; every process learns on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from prometheus_client import Gauge

from lynsms.kit.logging import get_logger

log = get_logger("lynsms.breaker")
OPEN = Gauge("lynsms_provider_circuit_open", "1 while a provider's circuit is open", ["provider"])


@dataclass
class _State:
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False


class Breaker:
    def __init__(self, failures: int, cooldown: float) -> None:
        self.failures = failures
        self.cooldown = cooldown
        self._states: dict[str, _State] = {}

    def reset(self) -> None:
        for provider in self._states:
            OPEN.labels(provider).set(0)
        self._states.clear()

    def allow(self, provider: str) -> bool:
        """Whether a message may be handed to ``provider`` now (claims the probe if half-open)."""
        state = self._states.get(provider)
        if state is None or state.opened_at is None:
            return True
        if state.probing or time.monotonic() - state.opened_at < self.cooldown:
            return False
        state.probing = True
        log.info("circuit half-open: probing", provider=provider)
        return True

    def succeeded(self, provider: str) -> None:
        state = self._states.get(provider)
        if state is None:
            return
        if state.opened_at is not None:
            log.info("circuit closed", provider=provider)
            OPEN.labels(provider).set(0)
        del self._states[provider]

    def failed(self, provider: str) -> None:
        state = self._states.setdefault(provider, _State())
        state.failures += 1
        if state.probing or (state.opened_at is None and state.failures >= self.failures):
            state.opened_at, state.probing = time.monotonic(), False
            OPEN.labels(provider).set(1)
            log.warning(
                "circuit open", provider=provider, failures=state.failures, cooldown=self.cooldown
            )

    def is_open(self, provider: str) -> bool:
        state = self._states.get(provider)
        return state is not None and state.opened_at is not None
