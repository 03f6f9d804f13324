"""Production mode: two API processes and two workers on PostgreSQL and Redis.

5,000 messages go through the Twilio fake, which reports each delivered back to
the API processes; every message ends delivered, was sent once, and every event
reaches the customer's webhook endpoint exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import make_database
from tests.fakes.twilio import FakeTwilio
from tests.gateway import TWILIO_SID, TWILIO_TOKEN
from tests.processes import (
    environment,
    event_ids,
    free_port,
    live_customer,
    serve,
    spawn,
    statuses,
    terminate,
    twilio_provider,
    wait_until,
)
from tests.worker.test_crash_worker import CountingReceiver, numbers, report_delivered
from tests.worker.test_timing import _redis_url

COUNT = 5000


@pytest.fixture
def postgres(tmp_path: Path) -> Any:
    url, drop = make_database("postgresql", str(tmp_path))
    yield url
    drop()


async def test_two_api_processes_and_two_workers(postgres, tmp_path):
    redis_url = _redis_url()
    fake = FakeTwilio(TWILIO_SID, TWILIO_TOKEN).start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = environment(
        postgres,
        LYNSMS_REDIS_URL=redis_url,
        LYNSMS_PROVIDERS=twilio_provider(fake.url),
        LYNSMS_SERVER__PUBLIC_URL=url,
        LYNSMS_WEBHOOKS_ALLOW_PRIVATE="1",
        LYNSMS_ROUTING__SEND_BUDGET="0.2",  # most of each bulk is left to the workers
    )
    key = live_customer(env, balance="1000.00")
    auth = {"Authorization": f"Bearer {key}"}
    api = await serve(env, port, "--no-worker", "--workers", "2", log=tmp_path / "api.log")
    workers = [spawn(env, "worker", log=tmp_path / f"worker{n}.log") for n in range(2)]
    started = time.monotonic()
    try:
        async with (
            CountingReceiver() as receiver,
            httpx.AsyncClient(base_url=url, timeout=60) as client,
        ):
            hook = await client.post(
                "/api/v1/webhooks/create", json={"url": receiver.url + "/hook"}, headers=auth
            )
            assert hook.status_code == 201, hook.text
            to = numbers(COUNT)
            sends = [
                client.post(
                    "/api/v1/messages/bulk",
                    json={"recipients": to[i : i + 1000], "from": "LynSMS", "body": "scale"},
                    headers=auth,
                )
                for i in range(0, COUNT, 1000)
            ]
            assert {r.status_code for r in await asyncio.gather(*sends)} == {201}

            async def all_sent() -> bool:
                return len({m.to for m in fake.accepted}) == COUNT

            await wait_until(all_sent, 120, "every message at the provider", 0.5)
            phases = {"sent": time.monotonic() - started}
            await report_delivered(fake)

            async def all_delivered() -> bool:
                return await statuses(postgres) == {"delivered": COUNT}

            await wait_until(all_delivered, 60, "every report applied", 0.5)
            phases["delivered"] = time.monotonic() - started
            events: set[str] = set()

            async def all_events_arrived() -> bool:
                nonlocal events
                events = await event_ids(postgres)
                return len(events) >= 2 * COUNT and events <= set(receiver.ids)

            await wait_until(all_events_arrived, 180, "every event at the endpoint", 1.0)
            phases["events"] = time.monotonic() - started
            await asyncio.sleep(1.0)  # a duplicate would arrive now
        types = await _event_types(postgres)
    finally:
        stopped = [terminate(worker) for worker in workers]
        terminate(api)
        fake.stop()
    took = time.monotonic() - started
    print(f"\nscale-out: {COUNT} messages, {len(events)} events in {took:.1f} s", phases, types)
    assert max(Counter(m.to for m in fake.accepted).values()) == 1, "a message was sent twice"
    # sent and delivered each; queued too for a message whose first attempt failed retryably
    assert types["message.sent"] == types["message.delivered"] == COUNT, types
    assert set(receiver.ids) == events
    assert max(receiver.ids.values()) == 1, "an event was delivered twice"
    assert all(seconds < 16 for seconds in stopped)


async def _event_types(database_url: str) -> dict[str, int]:
    from sqlalchemy import func, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from lynsms.models import Event

    kind = Event.__table__.c.type
    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        rows = await conn.execute(select(kind, func.count()).group_by(kind))
        found = {name: count for name, count in rows.all()}
    await engine.dispose()
    return found
