"""The worker's webhook jobs: fan events out to endpoints, and deliver what is due.

Both first probe with a read (no write lock on SQLite) and return 0 at once
when there is nothing to do. A delivery is claimed under a lease long enough
for a whole pass; a worker that dies mid-pass loses nothing: the lease runs
out and another pass sends again (at-least-once; ``webhook-id`` lets receivers
deduplicate).
"""

from __future__ import annotations

import math
from datetime import timedelta

import httpx
from httpx_aiohttp import AiohttpTransport

from lynsms.database import session_scope
from lynsms.dialects.sinch import callbacks as sinch_callbacks
from lynsms.kit.clock import utcnow
from lynsms.kit.logging import get_logger
from lynsms.runtime import Runtime
from lynsms.webhooks import delivery, service
from lynsms.webhooks.repository import DeliveryRepository, FanOutRepository
from lynsms.webhooks.signing import server_key

log = get_logger("lynsms.webhooks")
FAN_OUT_BATCH = 500
DELIVERY_BATCH = 256
LEASE_MARGIN = 15.0  # seconds, beyond the longest pass, to record its outcomes
_CLIENTS = "webhook_clients"  # the attribute of the runtime holding the shared clients
# httpx's connection pool slows down as more requests share it (measured: 32 concurrent
# requests on one client are 2.5x slower than on four clients of 8): lanes share a few clients.
CLIENT_COUNT = 4


def http_clients(runtime: Runtime) -> list[httpx.AsyncClient]:
    """The runtime's webhook clients: no redirects, no proxies from the environment."""
    clients: list[httpx.AsyncClient] | None = runtime.__dict__.get(_CLIENTS)
    if clients is None or any(client.is_closed for client in clients):
        clients = [_new_client(runtime.settings.webhooks.timeout) for _ in range(CLIENT_COUNT)]
        runtime.__dict__[_CLIENTS] = clients
    return clients


def _new_client(timeout: float) -> httpx.AsyncClient:
    """httpx's API over aiohttp's pool (``lynsms.providers.http`` says why)."""
    limits = httpx.Limits(max_connections=delivery.CONCURRENCY)
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,  # the SSRF check must vet the host actually connected to
        transport=AiohttpTransport(limits=limits, trust_env=False),
    )


async def close_http_clients(runtime: Runtime) -> None:
    for client in runtime.__dict__.pop(_CLIENTS, None) or []:
        await client.aclose()


def lease(timeout: float) -> timedelta:
    """Long enough for every lane to spend the full timeout on each of its deliveries: a
    worker that dies mid-pass holds its deliveries this long, then another sends them."""
    rounds = math.ceil(DELIVERY_BATCH / delivery.CONCURRENCY)
    return timedelta(seconds=timeout * rounds + LEASE_MARGIN)


async def fan_out_events(runtime: Runtime) -> int:
    """Create the deliveries of up to ``FAN_OUT_BATCH`` new events; how many events."""
    async with session_scope(runtime.database, write=False) as session:
        if not await FanOutRepository(session).any_pending():  # a read: no write lock
            return 0
    async with session_scope(runtime.database, write=True) as session:
        return await service.fan_out(session, FAN_OUT_BATCH)


async def deliver_due(runtime: Runtime) -> int:
    """POST the due deliveries (up to ``DELIVERY_BATCH``) and record them; how many."""
    settings = runtime.settings
    now = utcnow()
    async with session_scope(runtime.database, write=False) as session:
        if not await DeliveryRepository(session).any_due(now):
            return 0
    async with session_scope(runtime.database, write=True) as session:
        rows = await DeliveryRepository(session).claim_due(
            now, now + lease(settings.webhooks.timeout), DELIVERY_BATCH
        )
    jobs = [delivery.Job.from_row(row) for row in rows]
    jobs = await sinch_callbacks.prepare(runtime.database, jobs)  # their Sinch bodies
    if not jobs:
        return 0
    outcomes = await delivery.attempt_all(
        http_clients(runtime),
        jobs,
        server_key(settings),
        settings.webhooks_allow_private,
        settings.webhooks.timeout,
    )
    done = utcnow()
    result = delivery.plan(jobs, outcomes, done, settings.webhooks.retry_schedule)
    async with session_scope(runtime.database, write=True) as session:
        await delivery.record(session, result, done)
    for endpoint_id, reason in result.disable.items():
        log.warning("webhook endpoint disabled", endpoint_id=endpoint_id, reason=reason)
    return len(jobs)
