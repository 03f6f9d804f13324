"""Fixtures of the webhook tests: a receiver on loopback and a server allowed to call it.

The server here has its own database (one per backend), so that no other
server's worker (``LYNSMS_WEBHOOKS_ALLOW_PRIVATE`` off, default schedule) ever
claims these deliveries. Its retry schedule is 0.2 s, three retries.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import LiveServer
from tests.factories import Customer, create_customer
from tests.loopback import bind_loopback, hooks_allowed_server, own_database, serving

SCHEDULE = [0.2, 0.2, 0.2]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Hook:
    """One receiving path: the answers it gives, in order (then 200), and what it got."""

    url: str
    answers: list[tuple[int, dict[str, str]]]
    received: list[Received] = field(default_factory=list)

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        for _ in range(int(timeout / 0.05)):
            if len(self.received) >= count:
                return self.received
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.url} got {len(self.received)} requests, wanted {count}")


class Receiver:
    def __init__(self, url: str) -> None:
        self.url = url
        self.hooks: dict[str, Hook] = {}

    def hook(self, *answers: int | tuple[int, dict[str, str]]) -> Hook:
        path = uuid.uuid4().hex
        planned = [a if isinstance(a, tuple) else (a, {}) for a in answers]
        hook = Hook(url=f"{self.url}/{path}", answers=planned)
        self.hooks[path] = hook
        return hook

    async def handle(self, request: Request) -> Response:
        hook = self.hooks.get(request.path_params["path"])
        if hook is None:
            return Response(status_code=404)
        hook.received.append(Received(dict(request.headers), await request.body()))
        status, headers = hook.answers.pop(0) if hook.answers else (200, {})
        return Response(b"ok", status_code=status, headers=headers)


@pytest.fixture(scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    sock, url = bind_loopback()
    receiver = Receiver(url)
    app = Starlette(routes=[Route("/{path}", receiver.handle, methods=["POST"])])
    async with serving(app, sock):
        yield receiver


@pytest.fixture(scope="session")
def webhook_database_url(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from own_database(database_url, tmp_path_factory.mktemp("webhooks-db"))


@pytest.fixture(scope="session")
async def hooks_server(
    webhook_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    secrets = tmp_path_factory.mktemp("secret")
    async for live in hooks_allowed_server(webhook_database_url, secrets, SCHEDULE):
        yield live


@pytest.fixture
async def hapi(hooks_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=hooks_server.url + "/api/v1", timeout=30) as client:
        yield client


@pytest.fixture
async def owner(hooks_server: LiveServer) -> Customer:
    return await create_customer(hooks_server.runtime)


async def create_hook(
    api: httpx.AsyncClient, auth: dict[str, str], url: str, **fields: Any
) -> dict[str, Any]:
    response = await api.post("/webhooks/create", json={"url": url, **fields}, headers=auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


async def send(api: httpx.AsyncClient, headers: dict[str, str], to: str = "+12025550143") -> str:
    response = await api.post(
        "/messages/send", json={"to": to, "from": "LynSMS", "body": "hi"}, headers=headers
    )
    assert response.status_code == 201, response.text
    message_id: str = response.json()["data"]["id"]
    return message_id


async def events_of(
    api: httpx.AsyncClient, headers: dict[str, str], message_id: str, count: int
) -> list[dict[str, Any]]:
    """The message's events (oldest first) once there are ``count`` of them."""
    for _ in range(200):
        response = await api.get("/events", params={"message_id": message_id}, headers=headers)
        found: list[dict[str, Any]] = response.json()["data"]
        if len(found) >= count:
            return list(reversed(found))
        await asyncio.sleep(0.05)
    raise AssertionError(f"{message_id} has {len(found)} events, wanted {count}")


async def settled(api: httpx.AsyncClient, headers: dict[str, str], event_id: str) -> dict[str, Any]:
    """The event once none of its deliveries is pending any more."""
    for _ in range(300):
        event: dict[str, Any] = (await api.get(f"/events/{event_id}", headers=headers)).json()[
            "data"
        ]
        if event["deliveries"] and all(d["status"] != "pending" for d in event["deliveries"]):
            return event
        await asyncio.sleep(0.05)
    raise AssertionError(f"{event_id} still has pending deliveries: {event['deliveries']}")
