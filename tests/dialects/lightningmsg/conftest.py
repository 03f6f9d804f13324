"""Fixtures of the LightningMSG dialect tests: a server on its own database (one per
backend) allowed to call loopback, a webhook receiver, and a plain HTTP client at the
LightningMSG base URL with a customer whose secret_code was set by the real CLI.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lynsms.billing import service as billing_service
from lynsms.database import session_scope
from lynsms.dialects.lightningmsg import secrets
from lynsms.kit.clock import utcnow
from tests.conftest import LiveServer
from tests.factories import Customer, create_customer
from tests.loopback import bind_loopback, hooks_allowed_server, own_database, serving

SCHEDULE = [0.2, 0.2, 0.2]
BASE = "/api/v1/sms_services/sms"


@dataclass
class Hook:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        for _ in range(int(timeout / 0.05)):
            if len(self.received) >= count:
                return self.received
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.url} got {len(self.received)} webhooks, wanted {count}")


class Receiver:
    def __init__(self, url: str) -> None:
        self.url = url
        self.hooks: dict[str, Hook] = {}

    def hook(self) -> Hook:
        path = uuid.uuid4().hex
        hook = Hook(url=f"{self.url}/hook/{path}")
        self.hooks[path] = hook
        return hook

    async def handle(self, request: Request) -> Response:
        hook = self.hooks.get(request.path_params["path"])
        if hook is None:
            return Response(status_code=404)
        raw = await request.body()
        hook.raw.append(raw)
        hook.received.append(orjson.loads(raw))
        hook.headers.append(dict(request.headers))
        return Response(status_code=200)


@pytest.fixture(scope="session")
async def lmsg_receiver() -> AsyncIterator[Receiver]:
    sock, url = bind_loopback()
    receiver = Receiver(url)
    app = Starlette(routes=[Route("/hook/{path}", receiver.handle, methods=["POST"])])
    async with serving(app, sock):
        yield receiver


@pytest.fixture(scope="session")
def lmsg_database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from own_database(database_url, tmp_path_factory.mktemp("lmsg-db"))


@pytest.fixture(scope="session")
async def lmsg_server(
    lmsg_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    secrets = tmp_path_factory.mktemp("secret")
    async for live in hooks_allowed_server(lmsg_database_url, secrets, SCHEDULE):
        yield live


def lynsms_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNSMS_")}
    env["LYNSMS_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "lynsms", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@dataclass
class Client:
    """A LightningMSG customer: its key, its secret_code, and HTTP at the base URL."""

    customer: Customer
    secret_code: str
    http: httpx.AsyncClient

    @property
    def key(self) -> dict[str, str]:
        return {"X-Api-Key": self.customer.live_key}

    async def form(self, operation: str, data: dict[str, Any], **kw: Any) -> httpx.Response:
        headers = {**self.key, **kw.pop("headers", {})}
        return await self.http.post(f"{BASE}/{operation}", data=data, headers=headers, **kw)

    async def json(self, operation: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
        headers = {**self.key, **kw.pop("headers", {})}
        return await self.http.post(f"{BASE}/{operation}", json=body, headers=headers, **kw)


async def set_secret(server: LiveServer, account_id: str) -> str:
    """The secret_code, set through ``lynsms accounts secret ACCOUNT_ID --json``."""
    url = server.runtime.settings.database_url
    done = await asyncio.to_thread(lynsms_cli, url, "accounts", "secret", account_id, "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["account_id"] == account_id
    return str(printed["secret_code"])


async def grant(server: LiveServer, account_id: str, name: str, sms: int, days: int = 30) -> None:
    async with session_scope(server.runtime.database, write=True) as session:
        await billing_service.grant_package(
            session, account_id, name, sms, utcnow() + timedelta(days=days)
        )


@pytest.fixture
async def native(lmsg_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=lmsg_server.url + "/api/v1", timeout=30) as client:
        yield client


@pytest.fixture
async def lmsg(lmsg_server: LiveServer) -> AsyncIterator[Client]:
    customer = await create_customer(lmsg_server.runtime)
    async with session_scope(lmsg_server.runtime.database, write=True) as session:
        secret = await secrets.rotate(session, customer.account_id)
    async with httpx.AsyncClient(base_url=lmsg_server.url, timeout=30) as http:
        yield Client(customer=customer, secret_code=secret, http=http)
