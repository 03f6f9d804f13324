"""Per-provider throughput limits: ``rate`` messages per second from ``[providers.<name>]``.

A moving window of one second (the ``limits`` library): never more than
``rate`` submissions to a provider in any second. The window lives in Redis
when ``LYNSMS_REDIS_URL`` is set, so every API process and worker on every
machine shares it; otherwise in this process's memory (right for SQLite's single
process; on PostgreSQL without Redis each process keeps its own window, and the
worker says so when it starts). If Redis cannot be reached the limit is not
enforced (logged): a provider refusing excess traffic with 429 is retried and
handed off like any other retryable error, whereas refusing to send would stall
every message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from limits import RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from lynsms.kit.logging import get_logger

log = get_logger("lynsms.routing")
NAMESPACE = "lynsms:provider"
RATE_KEY = "rate"  # the key of a provider section giving its messages per second


def rates_from(providers: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """``{provider: messages per second}`` for the sections that set a positive ``rate``."""
    rates = {}
    for name, section in providers.items():
        rate = section.get(RATE_KEY)
        if rate is not None:
            if not isinstance(rate, int) or isinstance(rate, bool) or rate < 1:
                raise ValueError(f"[providers.{name}] rate: a whole number of messages per second")
            rates[name] = rate
    return rates


def storage_uri(redis_url: str | None) -> str:
    if redis_url:
        return redis_url if redis_url.startswith("async+") else "async+" + redis_url
    return "async+memory://"


class Throttle:
    def __init__(self, rates: Mapping[str, int], redis_url: str | None) -> None:
        self.shared = bool(redis_url)
        self._items = {name: RateLimitItemPerSecond(rate) for name, rate in rates.items()}
        storage: Storage | None = None
        if self._items:
            made = storage_from_string(storage_uri(redis_url))
            assert isinstance(made, Storage)
            storage = made
        self._limiter = MovingWindowRateLimiter(storage) if storage is not None else None

    def limited(self, provider: str) -> bool:
        return provider in self._items

    async def take(self, provider: str, deadline: float) -> bool:
        """Take one submission slot, waiting for it until ``deadline`` (monotonic) at most."""
        item = self._items.get(provider)
        if item is None or self._limiter is None:
            return True
        while True:
            try:
                if await self._limiter.hit(item, NAMESPACE, provider):
                    return True
                stats = await self._limiter.get_window_stats(item, NAMESPACE, provider)
            except Exception as exc:  # the shared window is unreachable: do not stall sends
                log.warning("provider throttle unavailable", provider=provider, error=str(exc))
                return True
            wait = max(0.001, stats.reset_time - time.time())
            if time.monotonic() + wait > deadline:
                return False
            await asyncio.sleep(wait)
