"""Fixtures of the Sinch dialect tests: a server on its own database (one per backend)
allowed to call loopback, a receiver of batch callbacks, and Sinch's own client.

The server has its own database so that no other test server's worker (which may not
call loopback) claims its callback deliveries. Its webhook retry schedule is 0.2 s.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from sinch import SinchClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import LiveServer
from tests.factories import Customer, create_customer
from tests.loopback import bind_loopback, hooks_allowed_server, own_database, serving

SCHEDULE = [0.2, 0.2, 0.2]


@dataclass
class Target:
    """One callback_url: the answers it gives, in order (then 200), and what it got."""

    url: str
    answers: list[int]
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        for _ in range(int(timeout / 0.05)):
            if len(self.received) >= count:
                return self.received
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.url} got {len(self.received)} callbacks, wanted {count}")


class Receiver:
    def __init__(self, url: str) -> None:
        self.url = url
        self.targets: dict[str, Target] = {}

    def target(self, *answers: int) -> Target:
        path = uuid.uuid4().hex
        target = Target(url=f"{self.url}/cb/{path}", answers=list(answers))
        self.targets[path] = target
        return target

    async def handle(self, request: Request) -> Response:
        target = self.targets.get(request.path_params["path"])
        if target is None:
            return Response(status_code=404)
        status = target.answers.pop(0) if target.answers else 200
        if status == 200:
            target.received.append(orjson.loads(await request.body()))
            target.headers.append(dict(request.headers))
        return Response(status_code=status)


@pytest.fixture(scope="session")
async def sinch_receiver() -> AsyncIterator[Receiver]:
    sock, url = bind_loopback()
    receiver = Receiver(url)
    app = Starlette(routes=[Route("/cb/{path}", receiver.handle, methods=["POST"])])
    async with serving(app, sock):
        yield receiver


@pytest.fixture(scope="session")
def sinch_database_url(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from own_database(database_url, tmp_path_factory.mktemp("sinch-db"))


@pytest.fixture(scope="session")
async def sinch_server(
    sinch_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    secrets = tmp_path_factory.mktemp("secret")
    async for live in hooks_allowed_server(sinch_database_url, secrets, SCHEDULE):
        yield live


@pytest.fixture
async def native(sinch_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sinch_server.url + "/api/v1", timeout=30) as client:
        yield client


@pytest.fixture
async def xms(sinch_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTP at the XMS base URL (for what the SDK cannot send: bad requests)."""
    async with httpx.AsyncClient(base_url=sinch_server.url + "/xms/v1", timeout=30) as client:
        yield client


@pytest.fixture
async def customer(sinch_server: LiveServer) -> Customer:
    return await create_customer(sinch_server.runtime)


def sinch_client(server: LiveServer, service_plan_id: str, token: str) -> SinchClient:
    """Sinch's own client with only its SMS base URL changed (what the README tells users)."""
    client = SinchClient(service_plan_id=service_plan_id, sms_api_token=token, sms_region="us")
    client.configuration.sms_domain_with_service_plan_id = server.url
    return client


@pytest.fixture
def sinch(sinch_server: LiveServer, customer: Customer) -> SinchClient:
    return sinch_client(sinch_server, customer.account_id, customer.live_key)


async def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking Sinch client call off the event loop (the server runs on it)."""
    return await asyncio.to_thread(function, *args, **kwargs)
