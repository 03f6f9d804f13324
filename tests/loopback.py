"""Test servers on loopback: any ASGI app (a webhook receiver), or a LynSMS server with a
database of its own that may call loopback webhooks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from lynsms.webhooks.tasks import close_http_clients
from tests.conftest import LiveServer, bind_loopback, make_database, start_server, stop_server
from tests.conftest import test_settings as make_settings


@asynccontextmanager
async def serving(app: ASGIApp, sock: Any) -> AsyncIterator[None]:
    """Serve ``app`` on the bound ``sock`` in this event loop while the block runs."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


def own_database(database_url: str, directory: Path) -> Iterator[str]:
    """A fresh database of the same backend as ``database_url`` (no other server's worker
    claims its work); dropped afterwards."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    url, drop = make_database(backend, str(directory))
    yield url
    drop()


async def hooks_allowed_server(
    database_url: str, secret_dir: Path, schedule: list[float]
) -> AsyncIterator[LiveServer]:
    """A LynSMS server allowed to call loopback webhooks, with a short retry ``schedule``."""
    settings = make_settings(
        database_url,
        webhooks_allow_private=True,
        webhooks={"retry_schedule": schedule},
        secret_key_file=secret_dir / "lynsms.secret",
    )
    live = await start_server(settings)
    yield live
    await stop_server(live)
    await close_http_clients(live.runtime)


__all__ = ["bind_loopback", "hooks_allowed_server", "own_database", "serving"]
