"""The HTTP transport the provider adapters share: several small connection pools.

httpcore's pool looks at every connection it holds on each request it starts and
finishes (an ``is_idle`` scan per idle connection, quadratic in the pool size, and a
``poll()`` per idle socket for expiry: encode/httpcore#1035, unfixed in 1.0.9). With
one pool of 100 keep-alive connections that bookkeeping was ~40 % of the worker's
CPU, capping dispatch at ~150 messages/s here. Requests are spread round-robin over
``shards`` pools of ``per_shard`` connections each: the same total, scans 1/shards as
long.
"""

from __future__ import annotations

import itertools

import httpx


class ShardedTransport(httpx.AsyncBaseTransport):
    def __init__(self, shards: int = 8, per_shard: int = 16) -> None:
        limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        self._shards = [httpx.AsyncHTTPTransport(limits=limits) for _ in range(shards)]
        self._next = itertools.cycle(self._shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._next).handle_async_request(request)

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


def provider_client() -> httpx.AsyncClient:
    """The client every adapter is given (``lynsms.runtime``)."""
    return httpx.AsyncClient(transport=ShardedTransport(), follow_redirects=False)
