"""Everything one process shares between requests and background work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import Request

from lynsms.accounts.auth import KeyCache
from lynsms.billing.prices import PriceList
from lynsms.config import Settings
from lynsms.conventions.idempotency import IdempotencyStore
from lynsms.conventions.ratelimit import RateLimiter
from lynsms.database import Database
from lynsms.providers.http import provider_client
from lynsms.providers.registry import build_providers
from lynsms.routing.service import Router
from lynsms.senders.service import ApprovalCache
from lynsms.worker.wakeup import Wakeup, work_wakeup


@dataclass
class Runtime:
    settings: Settings
    database: Database
    router: Router
    prices: PriceList
    key_cache: KeyCache
    limiter: RateLimiter
    idempotency: IdempotencyStore
    approvals: ApprovalCache = field(default_factory=ApprovalCache)
    wakeup: Wakeup = field(default_factory=work_wakeup)  # tells this process's worker of work


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """Database (with its writer), the shared HTTP client, the provider adapters, the limiter."""
    database = Database(settings)
    async with provider_client() as client:
        runtime = Runtime(
            settings=settings,
            database=database,
            router=Router(settings, build_providers(settings, client)),
            prices=PriceList(settings.prices),
            key_cache=KeyCache(settings.key_cache_seconds if settings.is_sqlite else 0),
            limiter=RateLimiter(settings.redis_url),
            idempotency=IdempotencyStore(database),
        )
        await database.start()
        try:
            yield runtime
        finally:
            from lynsms.webhooks.tasks import close_http_clients  # webhooks import the runtime

            await close_http_clients(runtime)
            await runtime.limiter.close()
            await database.close()
