"""Fixtures of the Twilio dialect tests: a server on its own database (one per backend)
allowed to call loopback, a receiver of status callbacks, and Twilio's own client.

The server has its own database so that no other test server's worker (which may not
call loopback) claims its callback deliveries. Its webhook retry schedule is 0.2 s.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.rest import Client

from tests.conftest import LiveServer
from tests.factories import Customer, create_customer
from tests.loopback import bind_loopback, hooks_allowed_server, own_database, serving

SCHEDULE = [0.2, 0.2, 0.2]


@dataclass
class Callback:
    headers: dict[str, str]
    params: dict[str, str]


@dataclass
class Target:
    """One StatusCallback URL: the answers it gives, in order (then 200), and what it got."""

    url: str
    answers: list[int]
    received: list[Callback] = field(default_factory=list)

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[Callback]:
        for _ in range(int(timeout / 0.05)):
            if len(self.received) >= count:
                return self.received
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.url} got {len(self.received)} callbacks, wanted {count}")


class Receiver:
    def __init__(self, url: str) -> None:
        self.url = url
        self.targets: dict[str, Target] = {}

    def target(self, *answers: int, query: str = "") -> Target:
        path = uuid.uuid4().hex
        target = Target(url=f"{self.url}/cb/{path}{query}", answers=list(answers))
        self.targets[path] = target
        return target

    async def handle(self, request: Request) -> Response:
        target = self.targets.get(request.path_params["path"])
        if target is None:
            return Response(status_code=404)
        params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        target.received.append(Callback(dict(request.headers), params))
        return Response(status_code=target.answers.pop(0) if target.answers else 200)


@pytest.fixture(scope="session")
async def callback_receiver() -> AsyncIterator[Receiver]:
    sock, url = bind_loopback()
    receiver = Receiver(url)
    app = Starlette(routes=[Route("/cb/{path}", receiver.handle, methods=["POST"])])
    async with serving(app, sock):
        yield receiver


@pytest.fixture(scope="session")
def twilio_database_url(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from own_database(database_url, tmp_path_factory.mktemp("twilio-db"))


@pytest.fixture(scope="session")
async def twilio_server(
    twilio_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    secrets = tmp_path_factory.mktemp("secret")
    async for live in hooks_allowed_server(twilio_database_url, secrets, SCHEDULE):
        yield live


@pytest.fixture
async def native(twilio_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=twilio_server.url + "/api/v1", timeout=30) as client:
        yield client


@pytest.fixture
async def customer(twilio_server: LiveServer) -> Customer:
    return await create_customer(twilio_server.runtime)


def twilio_client(server: LiveServer, account_sid: str, token: str) -> Client:
    """Twilio's own client with only its base URL changed (what the README tells users)."""
    client = Client(account_sid, token)
    client.api.base_url = server.url
    return client


@pytest.fixture
def twilio(twilio_server: LiveServer, customer: Customer) -> Client:
    return twilio_client(twilio_server, customer.account_id, customer.live_key)


async def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking Twilio client call off the event loop (the server runs on it)."""
    return await asyncio.to_thread(function, *args, **kwargs)
