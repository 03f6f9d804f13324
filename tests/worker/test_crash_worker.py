"""Kill -9 the server while its worker dispatches scheduled messages or delivers webhooks.

After a restart every message reaches a final state and every event reaches
the customer's endpoint; nothing is lost and nothing is charged twice. What may
repeat is bounded by the work in flight at the kill (at-least-once hand-off to
the provider, at-least-once webhooks with a stable ``webhook-id``), and counted.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lynsms.config import WorkerSettings
from lynsms.webhooks.tasks import DELIVERY_BATCH
from tests.fakes.twilio import FakeTwilio
from tests.gateway import TWILIO_SID, TWILIO_TOKEN
from tests.loopback import bind_loopback, serving
from tests.processes import (
    environment,
    free_port,
    kill,
    live_customer,
    serve,
    terminate,
    twilio_provider,
    wait_until,
)

COUNT = 1500
PRICE = 0.05


def numbers(count: int) -> list[str]:
    return [f"+1202555{index:04d}" for index in range(count)]


async def schedule(client: httpx.AsyncClient, key: str, to: list[str], send_at: str) -> None:
    for start in range(0, len(to), 500):
        response = await client.post(
            "/api/v1/messages/bulk",
            json={
                "recipients": to[start : start + 500],
                "from": "LynSMS",
                "body": "scheduled crash test",
                "send_at": send_at,
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 201, response.text


async def all_messages(client: httpx.AsyncClient, key: str) -> list[dict]:
    found, page = [], 1
    while True:
        body = (
            await client.get(
                f"/api/v1/messages?limit=100&page={page}",
                headers={"Authorization": f"Bearer {key}"},
            )
        ).json()
        found.extend(body["data"])
        if not body["pagination"]["has_next"]:
            return found
        page += 1


async def report_delivered(fake: FakeTwilio) -> None:
    """Twilio's ``delivered`` callback for everything the fake accepted (duplicates too)."""
    async with httpx.AsyncClient(timeout=10) as client:
        semaphore = asyncio.Semaphore(20)

        async def one(accepted: object) -> None:
            url, headers, body = fake.status_callback(accepted, "delivered")  # type: ignore[arg-type]
            async with semaphore:
                response = await client.post(url, headers=headers, content=body)
            assert response.status_code < 300, response.text

        await asyncio.gather(*(one(accepted) for accepted in list(fake.accepted)))


async def test_kill_while_dispatching_scheduled_messages(tmp_path: Path) -> None:
    fake = FakeTwilio(TWILIO_SID, TWILIO_TOKEN).start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = environment(
        f"sqlite+aiosqlite:///{tmp_path}/scheduled.db",
        LYNSMS_PROVIDERS=twilio_provider(fake.url),
        LYNSMS_SERVER__PUBLIC_URL=url,
        LYNSMS_ROUTING__SEND_BUDGET="1",
        LYNSMS_ROUTING__PROVIDER_TIMEOUT="1",
    )
    key = live_customer(env)
    process = await serve(env, port, log=tmp_path / "server.log")
    to = numbers(COUNT)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            send_at = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
            await schedule(client, key, to, send_at)

            async def some_sent() -> bool:
                return len(fake.accepted) >= COUNT // 5

            await wait_until(some_sent, 30, "the scheduled messages to start going out", 0.01)
            kill(process)
            at_kill = len(fake.accepted)
            process = await serve(env, port, log=tmp_path / "server.log")

            async def all_handed_over() -> bool:
                return len({m.to for m in fake.accepted}) == COUNT

            await wait_until(all_handed_over, 90, "every message to reach the provider")
            await report_delivered(fake)

            async def all_final() -> bool:
                return {m["status"] for m in await all_messages(client, key)} == {"delivered"}

            await wait_until(all_final, 60, "every message to be delivered", 0.5)
            stored = await all_messages(client, key)
            balance = (
                await client.get("/api/v1/balance", headers={"Authorization": f"Bearer {key}"})
            ).json()["data"]["balance"]
    finally:
        terminate(process)
        fake.stop()

    sent_to = Counter(m.to for m in fake.accepted)
    duplicates = sum(count - 1 for count in sent_to.values())
    print(
        f"\nscheduled crash: {at_kill} accepted by the provider at the kill, {duplicates} sent twice"
    )
    assert sorted(m["to"] for m in stored) == sorted(to), "a scheduled message is missing"
    assert set(sent_to) == set(to)
    # Only what was in flight (one message per dispatch lane: its provider call or its
    # commit) can go out twice.
    assert duplicates <= WorkerSettings().concurrency
    assert balance == pytest.approx(1000.0 - PRICE * COUNT), "charged more or less than once"


class CountingReceiver:
    """A webhook endpoint on loopback that counts each ``webhook-id`` it receives."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.sock, self.url = bind_loopback()

    async def handle(self, request: Request) -> Response:
        await request.body()
        await asyncio.sleep(0.005)  # a receiver doing a little work
        self.ids[request.headers["webhook-id"]] += 1
        return Response(b"ok")

    async def __aenter__(self) -> CountingReceiver:
        app = Starlette(routes=[Route("/hook", self.handle, methods=["POST"])])
        self._serving = serving(app, self.sock)
        await self._serving.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._serving.__aexit__(None, None, None)


async def all_event_ids(client: httpx.AsyncClient, key: str) -> set[str]:
    found, page = set(), 1
    while True:
        body = (
            await client.get(
                f"/api/v1/events?limit=100&page={page}",
                headers={"Authorization": f"Bearer {key}"},
            )
        ).json()
        found.update(event["id"] for event in body["data"])
        if not body["pagination"]["has_next"]:
            return found
        page += 1


async def test_kill_while_delivering_webhooks(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = environment(
        f"sqlite+aiosqlite:///{tmp_path}/webhooks.db",
        LYNSMS_WEBHOOKS_ALLOW_PRIVATE="1",
        LYNSMS_WEBHOOKS__TIMEOUT="1",
        LYNSMS_SIMULATOR__DELIVERY_DELAY="0.1",
    )
    key = live_customer(env)
    auth = {"Authorization": f"Bearer {key}"}
    process = await serve(env, port, log=tmp_path / "server.log")
    try:
        async with (
            CountingReceiver() as receiver,
            httpx.AsyncClient(base_url=url, timeout=30) as client,
        ):
            created = await client.post(
                "/api/v1/webhooks/create", json={"url": receiver.url + "/hook"}, headers=auth
            )
            assert created.status_code == 201, created.text
            for start in range(0, 1000, 500):
                sent = await client.post(
                    "/api/v1/messages/bulk",
                    json={
                        "recipients": numbers(1000)[start : start + 500],
                        "from": "LynSMS",
                        "body": "webhook crash test",
                    },
                    headers=auth,
                )
                assert sent.status_code == 201

            async def some_delivered() -> bool:
                return len(receiver.ids) >= 300

            await wait_until(some_delivered, 60, "webhooks to start arriving", 0.01)
            kill(process)
            at_kill = len(receiver.ids)
            process = await serve(env, port, log=tmp_path / "server.log")
            events: set[str] = set()

            async def all_delivered() -> bool:
                nonlocal events
                events = await all_event_ids(client, key)
                return len(events) >= 2000 and events <= set(receiver.ids)

            await wait_until(all_delivered, 120, "every event to reach the endpoint", 1.0)
    finally:
        terminate(process)

    duplicates = sum(count - 1 for count in receiver.ids.values())
    print(f"\nwebhook crash: {at_kill} events received at the kill, {duplicates} received twice")
    assert set(receiver.ids) == events, "the endpoint got an event that does not exist"
    assert duplicates <= DELIVERY_BATCH  # at most the pass in flight at the kill
