"""Test fixtures: a real database per backend (migrated), a real server on loopback.

Every test that uses ``server`` runs against SQLite and against PostgreSQL
(127.0.0.1:5432, a throwaway database per run; skipped with a reason when no
PostgreSQL answers). Tests isolate themselves by creating their own accounts.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from alembic import command
from fastapi import FastAPI

from lynsms.app import create_app
from lynsms.config import Settings
from lynsms.kit.logging import configure as configure_logging
from lynsms.migrations import alembic_config
from lynsms.runtime import Runtime
from tests.factories import Customer, create_customer

configure_logging("WARNING", json=True)  # as the CLI does: plain JSON lines, no rich tracebacks

PG_ADMIN_DSN = os.environ.get("LYNSMS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]


def _pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def make_database(backend: str, tmp_dir: str) -> tuple[str, Any]:
    """A migrated, empty database; returns its URL and a function that drops it."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_dir}/lynsms-{uuid.uuid4().hex[:8]}.db"
        command.upgrade(alembic_config(url), "heads")
        return url, lambda: None
    if not _pg_available():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = f"lynsms_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = (
        PG_ADMIN_DSN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0]
        + "/"
        + name
    )
    command.upgrade(alembic_config(url), "heads")
    return url, lambda: asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    url, drop = make_database(request.param, str(tmp_path_factory.mktemp("db")))
    yield url
    drop()


def test_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "simulator": {"delivery_delay": 0.2},
        "routing": {"send_budget": 2.0, "provider_timeout": 2.0},
        "log_json": True,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class LiveServer:
    url: str
    app: FastAPI
    server: uvicorn.Server

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime


def bind_loopback() -> tuple[socket.socket, str]:
    """A listening address chosen before the app exists (so its public_url can name it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def start_server(
    settings: Settings, *, run_worker: bool = True, bound: tuple[socket.socket, str] | None = None
) -> LiveServer:
    app = create_app(settings, run_worker=run_worker)
    sock, url = bound or bind_loopback()
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    server.config.setup_event_loop = lambda: None  # type: ignore[method-assign]
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    live = LiveServer(url=url, app=app, server=server)
    live.task = task  # type: ignore[attr-defined]
    return live


async def stop_server(live: LiveServer) -> None:
    live.server.should_exit = True
    await live.task  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
async def server(database_url: str) -> AsyncIterator[LiveServer]:
    live = await start_server(test_settings(database_url))
    yield live
    await stop_server(live)


@pytest.fixture
async def api(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=30) as client:
        yield client


@pytest.fixture
async def customer(server: LiveServer) -> Customer:
    return await create_customer(server.runtime)


@pytest.fixture(scope="session")
def fakes() -> Iterator[Any]:
    from tests.gateway import start_fakes

    started = start_fakes()
    yield started
    for fake in started.all():
        fake.stop()


@pytest.fixture(scope="session")
def gateway_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The gateway's own database, of the same backend: its worker would otherwise claim the
    live messages other test servers leave to their workers and send them to the fakes."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    url, drop = make_database(backend, str(tmp_path_factory.mktemp("gateway")))
    yield url
    drop()


@pytest.fixture(scope="session")
async def gateway(gateway_database: str, fakes: Any) -> AsyncIterator[LiveServer]:
    """A server whose live traffic goes to the four provider fakes."""
    from tests.gateway import gateway_settings

    bound = bind_loopback()
    settings = Settings(**gateway_settings(fakes, gateway_database, bound[1]))
    live = await start_server(settings, bound=bound)
    yield live
    await stop_server(live)


@pytest.fixture
async def gw(gateway: LiveServer, fakes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway, with every fake reset and every circuit closed."""
    for fake in fakes.all():
        fake.reset()
    gateway.runtime.router.breaker.reset()
    async with httpx.AsyncClient(base_url=gateway.url + "/api/v1", timeout=30) as client:
        yield client


@pytest.fixture
async def gw_customer(gateway: LiveServer) -> Customer:
    return await create_customer(gateway.runtime)
