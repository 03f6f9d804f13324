"""Prometheus metrics of one process (``GET /metrics``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from prometheus_client import Counter, Histogram

MESSAGES_ACCEPTED = Counter("lynsms_messages_accepted_total", "Messages accepted", ["mode"])
PROVIDER_ATTEMPTS = Counter(
    "lynsms_provider_attempts_total", "Provider hand-overs by outcome", ["provider", "outcome"]
)
PROVIDER_LATENCY = Histogram(
    "lynsms_provider_latency_seconds",
    "Provider call latency",
    ["provider"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
STATUS_CHANGES = Counter("lynsms_message_status_total", "Messages reaching a status", ["status"])
WRITER_BATCH = Histogram(
    "lynsms_writer_batch_size",
    "Write operations per group commit",
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
)
KEY_CACHE_MISSES = Counter(
    "lynsms_key_cache_misses_total", "API-key lookups that read the database"
)


@lru_cache(maxsize=1024)
def child(metric: Any, *labels: str) -> Any:
    """The labelled child of ``metric`` (``labels()`` costs a lock and a lookup every call)."""
    return metric.labels(*labels)
