"""Waking the worker when work arrives, instead of polling hot.

On PostgreSQL, triggers (migration 0008) ``NOTIFY lynsms_work`` with the table's
name whenever messages or events are inserted, by any process on any machine;
each worker ``LISTEN``s on its own connection and wakes the loop concerned.
Missed notifications (the listener reconnecting after a database restart) cost
at most one idle period: the loops still look for work every poll interval.
Within one process the send path also wakes the worker directly when it
schedules a message, so the worker sleeps until the next due time, not less.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg

from lynsms.config import Settings
from lynsms.kit.logging import get_logger

log = get_logger("lynsms.worker")
CHANNEL = "lynsms_work"
RECONNECT_DELAY = 2.0
CHECK_EVERY = 5.0  # seconds between checks that the connection is still open


class Wakeup:
    """One event per loop, set by notifications for the tables that loop serves."""

    def __init__(self, tables: dict[str, str]) -> None:
        self.events = {loop: asyncio.Event() for loop in set(tables.values())}
        self._tables = tables  # table name -> loop name

    def notify(self, table: str) -> None:
        loop = self._tables.get(table)
        if loop is not None:
            self.events[loop].set()

    async def wait(self, loop: str, timeout: float, stopping: asyncio.Event) -> None:
        """Sleep up to ``timeout`` seconds, less if notified or stopping."""
        event = self.events[loop]
        waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stopping.wait())]
        try:
            await asyncio.wait(waiters, timeout=max(0.0, timeout), return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
            event.clear()


def work_wakeup() -> Wakeup:
    """The worker's two loops: messages (dispatch, reports, expiry) and webhooks (events)."""
    return Wakeup(
        {
            "messages": "messages",
            "early_reports": "messages",
            "campaign_recipients": "messages",  # a launched campaign: expand it
            "events": "webhooks",
        }
    )


class Listener:
    """Keeps a ``LISTEN`` connection open on PostgreSQL, reconnecting when it drops."""

    def __init__(self, settings: Settings, wakeup: Wakeup) -> None:
        self.dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.wakeup = wakeup
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except Exception as exc:  # whatever ends it, listen again (polling covers the gap)
                log.warning("listen connection lost", error=repr(exc))
            await asyncio.sleep(RECONNECT_DELAY)

    async def _listen(self) -> None:
        connection = await asyncpg.connect(self.dsn)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _c: lost.set())
        try:
            await connection.add_listener(CHANNEL, self._on_notify)
            for table in ("messages", "events"):  # work that arrived while disconnected
                self.wakeup.notify(table)
            while not lost.is_set() and not connection.is_closed():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), CHECK_EVERY)
        finally:
            with contextlib.suppress(Exception):
                await connection.close(timeout=1)

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self.wakeup.notify(payload)
