"""Retry policy as a value: attempts, exponential backoff, jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: float  # seconds before the first retry
    factor: float = 2.0
    cap: float = 3600.0  # longest wait between tries
    jitter: float = 0.2  # ± fraction

    def delay(self, attempts_so_far: int) -> timedelta:
        raw = min(self.cap, self.base * self.factor ** max(0, attempts_so_far - 1))
        spread = raw * self.jitter
        return timedelta(seconds=max(0.0, raw + random.uniform(-spread, spread)))


# A message whose whole provider chain failed retryably: 15 s, 30 s, 1 min, … up to 1 h.
DISPATCH_RETRY = RetryPolicy(base=15.0)

# A message that only waited for a provider's throughput limit: about a second, not a backoff.
THROTTLED_RETRY = RetryPolicy(base=1.0, factor=1.0, cap=1.0, jitter=0.5)
