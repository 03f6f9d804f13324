"""The HTTP client the provider adapters share: httpx's API over aiohttp's connection pool.

The adapters speak httpx (``post``, ``httpx.Response``, httpx's exceptions; their tests
drive them with ``httpx.MockTransport``). Underneath, httpcore's pool looks at every
connection it holds on each request it starts and finishes (an ``is_idle`` scan per idle
connection, quadratic in the pool size, and a ``poll()`` per idle socket:
encode/httpcore#1035, unfixed in 1.0.9): with 100 keep-alive connections that
bookkeeping was ~40 % of the worker's CPU and dispatch stalled at ~150 messages/s here.
``httpx-aiohttp`` (by an httpx maintainer) swaps that pool for aiohttp's connector and
C HTTP parser; requests, responses and exceptions stay httpx's.
"""

from __future__ import annotations

import httpx
from httpx_aiohttp import AiohttpTransport

MAX_CONNECTIONS = 256  # above the worker's lanes plus the send path's own dispatches


def provider_client() -> httpx.AsyncClient:
    """The client every adapter is given (``lynsms.runtime``)."""
    limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=128)
    transport = AiohttpTransport(limits=limits, trust_env=False)
    return httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)
