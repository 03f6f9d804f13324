"""The worker: due and scheduled messages, retries, reports, expiry, and webhooks.

Runs in-process under ``lynsms serve`` (unless ``--no-worker``) or alone as
``lynsms worker``. Two loops: messages (dispatch, simulated and early delivery
reports, expiry) and webhooks (fan-out, delivery), so a slow customer endpoint
never delays a send. Every pass claims work with a lease (``locked_until``), so
a worker that dies loses nothing: its lease runs out and another pass takes the
work again. Between passes a loop sleeps until its next job falls due, or until
it is woken (``wakeup.py``), at most ``poll_interval``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from lynsms.accounts.repository import TOUCH_KEYS
from lynsms.campaigns import expansion
from lynsms.database import session_scope
from lynsms.kit.clock import utcnow
from lynsms.kit.logging import get_logger
from lynsms.media import service as media_service
from lynsms.messages.dispatch import deadline_in, dispatch_each
from lynsms.messages.expiry import expire_due
from lynsms.messages.reports import EARLY_REPORT_TTL, record_reports, replay_early
from lynsms.messages.repository import MessageRepository
from lynsms.providers.simulator import SimulatorProvider
from lynsms.routing.service import SIMULATOR
from lynsms.runtime import Runtime
from lynsms.webhooks.repository import DeliveryRepository
from lynsms.webhooks.tasks import deliver_due, fan_out_events
from lynsms.worker.wakeup import Listener
from lynsms.writer import WriteOp

log = get_logger("lynsms.worker")
BATCH = 500
EARLY_REPORT_WATCH = timedelta(minutes=1)  # reports this young are checked again quickly
EARLY_REPORT_RECHECK = timedelta(seconds=0.1)
MIN_PAUSE = 0.002  # seconds: never spin on a job that is due right now but held by a lease
BUSY_PAUSE = 0.02  # a breath between busy passes, so request writers are not starved
MEDIA_PURGE_INTERVAL = 60.0  # seconds between purges of expired media, per worker
WEBHOOK_PAUSE = 0.1  # webhook passes take bigger batches: fewer write transactions under load


class Worker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.poll_interval = settings.worker.poll_interval or (0.2 if settings.is_sqlite else 2.0)
        self.wakeup = runtime.wakeup
        self.listener = None if settings.is_sqlite else Listener(settings, self.wakeup)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._media_purged_at = -math.inf  # Media and MMS: monotonic time of the last media purge

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self.listener is not None:
            self.listener.start()
        self._tasks = [
            loop.create_task(
                self.run("messages", self.tick, self.next_message_due, BUSY_PAUSE), name="worker"
            ),
            # Webhooks in their own loop: a slow customer endpoint never delays dispatch.
            loop.create_task(
                self.run("webhooks", self.webhook_tick, self.next_delivery_due, WEBHOOK_PAUSE),
                name="webhooks",
            ),
        ]

    async def stop(self, timeout: float | None = None) -> None:
        """Stop claiming; let passes in flight finish within ``timeout``."""
        timeout = self.runtime.settings.worker.shutdown_timeout if timeout is None else timeout
        self._stopping.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=timeout)
            for task in pending:
                log.warning("worker did not stop in time", task=task.get_name())
                task.cancel()
        if self.listener is not None:
            await self.listener.stop()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run(
        self,
        name: str,
        tick: Callable[[], Awaitable[bool]],
        next_due: Callable[[datetime], Awaitable[datetime | None]],
        busy_pause: float,
    ) -> None:
        while not self.stopping:
            try:
                busy = await tick()
                pause = busy_pause if busy else await self._idle_pause(next_due)
            except Exception:
                log.exception("worker pass failed", loop=name)
                busy, pause = False, self.poll_interval
            if busy:  # a breath, so request writers are not starved; no wake-up shortens it
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), pause)
            else:
                await self.wakeup.wait(name, pause, self._stopping)

    async def _idle_pause(
        self, next_due: Callable[[datetime], Awaitable[datetime | None]]
    ) -> float:
        """Until the next job falls due, at most the poll interval."""
        now = utcnow()
        when = await next_due(now)
        if when is None:
            return self.poll_interval
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return min(self.poll_interval, max(MIN_PAUSE, (when - now).total_seconds()))

    async def next_message_due(self, now: datetime) -> datetime | None:
        async with session_scope(self.runtime.database, write=False) as session:
            repository = MessageRepository(session)
            if await repository.any_early_reports_since(now - EARLY_REPORT_WATCH):
                return now + EARLY_REPORT_RECHECK  # its send is being recorded: look again soon
            due = await repository.next_due(now)
        campaign = await expansion.next_due(self.runtime)
        return due if campaign is None else campaign if due is None else min(due, campaign)

    async def next_delivery_due(self, now: datetime) -> datetime | None:
        async with session_scope(self.runtime.database, write=False) as session:
            return await DeliveryRepository(session).next_due(now)

    async def tick(self) -> bool:
        """One pass over every kind of due message work; whether there was any."""
        expanded = await expansion.advance_due(self.runtime)
        sent = await self.dispatch_due()
        reported = await self.simulate_reports()
        replayed = await self.replay_early_reports()
        expired = await self.expire_due()
        await self.flush_key_usage()
        await self.purge_media_if_due()
        return bool(expanded or sent or reported or replayed or expired)

    async def purge_media_if_due(self) -> None:
        """Media and MMS: remove expired media (files and rows) every MEDIA_PURGE_INTERVAL."""
        if time.monotonic() - self._media_purged_at < MEDIA_PURGE_INTERVAL:
            return
        self._media_purged_at = time.monotonic()
        try:
            await media_service.purge_expired(
                self.runtime.database, media_service.store_of(self.runtime), utcnow()
            )
        except Exception:
            log.exception("expired media not purged")

    async def webhook_tick(self) -> bool:
        fanned = await fan_out_events(self.runtime)
        delivered = await deliver_due(self.runtime)
        return bool(fanned or delivered)

    async def dispatch_due(self) -> int:
        settings = self.runtime.settings.routing
        now = utcnow()
        lease = now + timedelta(seconds=settings.send_budget + settings.provider_timeout + 5)
        async with session_scope(self.runtime.database, write=False) as session:
            if not await MessageRepository(session).any_due(now):  # a read: no write lock
                return 0
        async with session_scope(self.runtime.database, write=True) as session:
            rows = await MessageRepository(session).claim_due(now, lease, BATCH)
        claimed = [dict(row) for row in rows]
        # Each outcome committed as soon as it is known: a crash re-sends at most the
        # messages in flight (one per lane), never the claim.
        deadline = deadline_in(settings.send_budget)
        await dispatch_each(self.runtime, claimed, deadline, self._stopping)
        return len(claimed)

    async def simulate_reports(self) -> int:
        """Play the simulator's delivery reports that are due, through the real report path."""
        async with session_scope(self.runtime.database, write=False) as session:
            due = await MessageRepository(session).due_reports(SIMULATOR, utcnow(), BATCH)
        if not due:
            return 0
        reports, silent = [], []
        for row in due:
            report = SimulatorProvider.report_for(row["provider_message_id"], row["to_number"])
            if report is None:
                silent.append(row["id"])
            else:
                reports.append(report)
        # In a session on the event loop, not through the writer: a step of 500 reports in
        # the writer's thread holds the GIL and made scheduled sends late (p99 39 -> 142 ms).
        async with session_scope(self.runtime.database, write=True) as session:
            await MessageRepository(session).clear_due(silent)
            await record_reports(session, SIMULATOR, reports)
        return len(due)

    async def replay_early_reports(self) -> int:
        """Apply delivery reports that arrived before their send was recorded."""
        async with session_scope(self.runtime.database, write=False) as session:
            if not await MessageRepository(session).any_early_work(utcnow() - EARLY_REPORT_TTL):
                return 0
        async with session_scope(self.runtime.database, write=True) as session:
            replayed = await replay_early(session, BATCH)
        return replayed

    async def expire_due(self) -> int:
        async with session_scope(self.runtime.database, write=False) as session:
            if not await MessageRepository(session).any_expired(utcnow()):
                return 0
        async with session_scope(self.runtime.database, write=True) as session:
            return await expire_due(session, BATCH)

    async def flush_key_usage(self) -> None:
        used = self.runtime.key_cache.take_used()
        if used:
            rows = [{"kid": key_id, "at": at} for key_id, at in used.items()]
            await self.runtime.database.writer.submit(WriteOp().update(TOUCH_KEYS, rows))
