"""Workers as separate processes against PostgreSQL: shared work, exactly once, clean stops."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import make_database
from tests.fakes.base import Behaviour
from tests.fakes.twilio import FakeTwilio
from tests.gateway import TWILIO_SID, TWILIO_TOKEN
from tests.processes import (
    environment,
    free_port,
    live_customer,
    serve,
    spawn,
    statuses,
    terminate,
    twilio_provider,
    wait_until,
)
from tests.worker.test_crash_worker import numbers, schedule


@pytest.fixture
def postgres(tmp_path: Path) -> Any:
    url, drop = make_database("postgresql", str(tmp_path))  # skips when PostgreSQL is absent
    yield url
    drop()


@pytest.fixture
def twilio() -> Any:
    fake = FakeTwilio(TWILIO_SID, TWILIO_TOKEN, hang_seconds=1.5).start()
    yield fake
    fake.stop()


async def test_two_workers_send_2000_due_messages_exactly_once(postgres, twilio, tmp_path):
    env = environment(postgres, LYNSMS_PROVIDERS=twilio_provider(twilio.url))
    key = live_customer(env)
    port = free_port()
    api = await serve(env, port, "--no-worker", log=tmp_path / "api.log")
    workers = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            send_at = (datetime.now(UTC) + timedelta(seconds=4)).isoformat()
            await schedule(client, key, numbers(2000), send_at)
        assert await statuses(postgres) == {"scheduled": 2000}
        workers = [spawn(env, "worker", log=tmp_path / f"worker{n}.log") for n in range(2)]

        async def all_sent() -> bool:
            return await statuses(postgres) == {"sent": 2000}

        await wait_until(all_sent, 90, "2,000 messages sent by two workers", 0.5)
        time.sleep(1.0)  # a late duplicate would arrive now
    finally:
        stopped = [terminate(worker) for worker in workers]
        terminate(api)
    sent_to = Counter(accepted.to for accepted in twilio.accepted)
    assert len(sent_to) == 2000
    assert max(sent_to.values()) == 1, "a message was sent twice"
    assert all(seconds < 16 for seconds in stopped)


async def test_sigterm_finishes_in_flight_work_and_releases_the_rest(postgres, twilio, tmp_path):
    """SIGTERM while 64 sends hang at the provider: the worker waits for them (not for the
    rest), exits within the bound, and the messages it never started are free at once."""
    env = environment(
        postgres,
        LYNSMS_PROVIDERS=twilio_provider(twilio.url),
        LYNSMS_ROUTING__PROVIDER_TIMEOUT="5",
        LYNSMS_ROUTING__SEND_BUDGET="20",  # a 30 s lease: waiting for it would fail the test
        LYNSMS_WORKER__SHUTDOWN_TIMEOUT="10",
    )
    key = live_customer(env)
    to = numbers(300)
    for number in to:
        twilio.behave(number, Behaviour.HANG)  # 1.5 s each, then accepted
    port = free_port()
    api = await serve(env, port, "--no-worker", log=tmp_path / "api.log")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            send_at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
            await schedule(client, key, to, send_at)
        worker = spawn(env, "worker", log=tmp_path / "worker.log")

        async def sending() -> bool:
            return len(twilio.received) >= 10

        await wait_until(sending, 30, "the worker to start sending", 0.02)
        took = terminate(worker)
        in_flight = len(twilio.accepted)
        held = await _still_leased(postgres)
        restarted = spawn(env, "worker", log=tmp_path / "worker.log")
        started = time.monotonic()

        async def all_sent() -> bool:
            return (await statuses(postgres)).get("sent") == 300

        await wait_until(all_sent, 60, "the rest sent by the next worker", 0.2)
        rest_took = time.monotonic() - started
        terminate(restarted)
    finally:
        terminate(api)
    print(f"took {took:.2f}, in flight {in_flight}, held {held}, rest {rest_took:.2f}")
    assert took < 10, f"SIGTERM took {took:.1f} s"
    assert 0 < in_flight < 300, "the stop should leave messages unstarted"
    assert held == 0, "messages left leased: the next worker would wait for the lease"
    assert rest_took < 25  # no 30 s lease to wait for: worker start + 4 rounds of 1.5 s
    assert max(Counter(a.to for a in twilio.accepted).values()) == 1


async def _still_leased(database_url: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            held = await conn.scalar(
                text(
                    "SELECT count(*) FROM messages WHERE status = 'queued' AND locked_until > now()"
                )
            )
            return int(held or 0)
    finally:
        await engine.dispose()
