"""Rate limits per API key (API.md §7): fixed one-minute windows aligned to the clock.

Each request makes one call to a ``limits`` storage: ``incr`` of the key's counter
for the current minute. Its answer is the count, hence the remaining quota, and the
reset is the end of the minute, so no second call is needed for the headers. The
counters live in Redis when ``LYNSMS_REDIS_URL`` is set, so that the limit holds
across processes and nodes; otherwise in this process (``LocalWindows``: ``limits``'
memory storage starts an expiry thread every 10 ms while counting, measured at 4 % of
the event loop under load; a dict of this minute's counters needs none).

Redis unreachable: requests are not refused (a limit protects the service; it is no
reason to stop it). This process counts alone, in memory, and tries Redis again every
``REDIS_RETRY`` seconds; the start and the end of that are logged.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits.aio.storage import RedisStorage
from limits.errors import StorageError
from redis.asyncio import ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from lynsms.kit.logging import get_logger

log = get_logger("lynsms.ratelimit")
WINDOW = 60  # seconds
REDIS_TIMEOUT = 0.25  # seconds to connect or to answer before counting locally
REDIS_RETRY = 5.0  # seconds of counting locally before Redis is tried again


@dataclass(frozen=True, slots=True)
class Quota:
    """Where one key stands in the current window, this request counted."""

    limit: int
    used: int
    reset_at: int  # Unix epoch seconds: the end of the window
    now: float

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def reset_in(self) -> int:
        """Whole seconds until the window ends, at least 1 (``Retry-After``)."""
        return max(1, math.ceil(self.reset_at - self.now))

    def headers(self) -> list[tuple[bytes, bytes]]:
        """GitHub's ``X-RateLimit-*`` (reset as epoch seconds) and the IETF draft's pair."""
        remaining = self.remaining
        return [
            (b"x-ratelimit-limit", b"%d" % self.limit),
            (b"x-ratelimit-remaining", b"%d" % remaining),
            (b"x-ratelimit-reset", b"%d" % self.reset_at),
            (b"ratelimit-policy", b'"default";q=%d;w=%d' % (self.limit, WINDOW)),
            (b"ratelimit", b'"default";r=%d;t=%d' % (remaining, self.reset_in)),
        ]


class LocalWindows:
    """This process's counters of the current window; the previous window's are dropped
    when a new one starts (keys carry their window number)."""

    def __init__(self) -> None:
        self._window: str | None = None
        self._counts: dict[str, int] = {}

    def incr(self, key: str, window: str) -> int:
        if window != self._window:
            self._window, self._counts = window, {}
        used = self._counts.get(key, 0) + 1
        self._counts[key] = used
        return used

    def reset(self) -> None:
        """Forget every count, as a new window would."""
        self._window, self._counts = None, {}


class RateLimiter:
    """Counts requests per key and minute: in Redis when configured, else in this process."""

    def __init__(self, redis_url: str | None) -> None:
        self.local = LocalWindows()
        self.pool = _redis_pool(redis_url) if redis_url else None
        self.shared = _redis_storage(redis_url, self.pool) if redis_url and self.pool else None
        self._local_until = 0.0  # monotonic time before which Redis is not tried
        self._degraded = False

    async def hit(self, key_id: str, limit: int) -> Quota:
        now = time.time()
        window = int(now // WINDOW)
        used = await self._incr(f"lynsms/{key_id}/{window}", str(window))
        return Quota(limit=limit, used=used, reset_at=(window + 1) * WINDOW, now=now)

    async def _incr(self, key: str, window: str) -> int:
        if self.shared is not None and time.monotonic() >= self._local_until:
            try:
                used = await self.shared.incr(key, WINDOW)
            except StorageError as exc:
                self._fall_back(exc)
            else:
                if self._degraded:
                    self._degraded = False
                    log.info("redis answers again: rate limits are shared again")
                return used
        return self.local.incr(key, window)

    def _fall_back(self, exc: StorageError) -> None:
        self._local_until = time.monotonic() + REDIS_RETRY
        if not self._degraded:
            self._degraded = True
            log.warning(
                "redis unreachable: rate limits are counted per process until it answers",
                error=repr(exc.storage_error),
            )

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()


def _redis_pool(url: str) -> ConnectionPool:
    """Short timeouts and no retries: a request never waits long on a missing Redis."""
    return ConnectionPool.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )


def _redis_storage(url: str, pool: ConnectionPool) -> RedisStorage:
    return RedisStorage(
        "async+" + url,
        implementation="redispy",
        wrap_exceptions=True,
        connection_pool=pool,  # type: ignore[arg-type]
    )
