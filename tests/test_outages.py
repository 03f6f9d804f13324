"""PostgreSQL goes away under a running ``lynsms serve``, and comes back.

The machine's PostgreSQL is shared, so the outage is simulated where the server
sees it: LynSMS reaches PostgreSQL through a TCP proxy in this test, and cutting
the proxy closes every open connection and refuses new ones (what a restart or a
network partition looks like to a client), until it listens again.

While it is down, sends, reads and readiness answer 503 ``service_unavailable``
in the envelope within a few seconds (never a 500, never a hang), and liveness
stays 200; so too while it answers "the database system is starting up". Once it
is back, the same process accepts sends again and its worker
delivers what was accepted before the cut: a message acknowledged 201 just
before it, and one scheduled to fall due during it. Last, PostgreSQL ends every
connection the server holds (``pg_terminate_backend``, as a restart does): the
next send succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import _pg_admin, make_database
from tests.processes import environment, free_port, live_customer, serve, terminate, wait_until

PG_HOST, PG_PORT = "127.0.0.1", 5432
SSL_REQUEST = 80877103
PATIENCE = 8.0  # seconds a request may take while the database is down


class Proxy:
    """TCP from a local port to PostgreSQL, which can be cut and restored."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.StreamWriter] = set()
        self.starting = False  # answer as a PostgreSQL that is starting up

    async def restore(self, *, starting: bool = False) -> None:
        self.starting = starting
        if self.server is None:
            self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        """Refuse new connections and close every open one."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.pipes):
            writer.transport.abort()
        self.pipes.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.starting:
            await _starting_up(reader, writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(PG_HOST, PG_PORT)
        except OSError:
            writer.transport.abort()
            return
        self.pipes |= {writer, up_writer}
        await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        self.pipes -= {writer, up_writer}


async def _starting_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """What PostgreSQL answers a client while it starts: FATAL 57P03 after the startup
    packet (an SSL request first is declined, as a server without SSL does)."""
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while True:
            length = int.from_bytes(await reader.readexactly(4), "big")
            code = int.from_bytes(await reader.readexactly(4), "big")
            await reader.readexactly(length - 8)
            if code != SSL_REQUEST:
                break
            writer.write(b"N")
        fields = b"SFATAL\0VFATAL\0C57P03\0Mthe database system is starting up\0\0"
        writer.write(b"E" + (len(fields) + 4).to_bytes(4, "big") + fields)
        await writer.drain()
    writer.transport.abort()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


@pytest.fixture
def postgres(tmp_path: Path) -> Any:
    url, drop = make_database("postgresql", str(tmp_path))
    yield url
    drop()


async def send(api: httpx.AsyncClient, **extra: Any) -> httpx.Response:
    payload = {"to": "+12025550143", "from": "LynSMS", "body": "outage", **extra}
    return await api.post("/api/v1/messages/send", json=payload)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "service_unavailable"


async def test_postgres_outage_answers_503_and_work_resumes_after(postgres, tmp_path):
    proxy = Proxy()
    await proxy.restore()
    direct_env = environment(postgres)
    key = live_customer(direct_env)
    proxied = postgres.replace(f"{PG_HOST}:{PG_PORT}", f"127.0.0.1:{proxy.port}")
    env = environment(proxied, LYNSMS_SIMULATOR__DELIVERY_DELAY="0.2")
    port = free_port()
    process = await serve(env, port, log=tmp_path / "serve.log")
    headers = {"Authorization": f"Bearer {key}"}
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=PATIENCE) as api:
            due = datetime.now(UTC) + timedelta(seconds=3)
            scheduled = await send(api, send_at=due.isoformat())
            assert scheduled.status_code == 201, scheduled.text
            acknowledged = await send(api)
            assert acknowledged.status_code == 201, acknowledged.text
            await proxy.cut()

            assert_unavailable(await send(api))
            assert_unavailable(await api.get("/api/v1/messages"))
            assert_unavailable(await api.get("/api/v1/usage"))
            assert_unavailable(
                await api.get(f"/api/v1/messages/{acknowledged.json()['data']['id']}")
            )
            assert (await api.get("/readyz")).status_code == 503
            assert (await api.get("/healthz")).status_code == 200
            await asyncio.sleep(4)  # the scheduled message falls due while the database is away
            assert_unavailable(await send(api))
            await proxy.restore(starting=True)
            assert_unavailable(await send(api))
            assert_unavailable(await api.get("/api/v1/messages"))
            assert (await api.get("/readyz")).status_code == 503

            await proxy.restore()
            await wait_until(
                lambda: _ready(api), timeout=30, what="/readyz to answer 200 after the restore"
            )
            after = await send(api)
            assert after.status_code == 201, after.text
            ids = [r.json()["data"]["id"] for r in (scheduled, acknowledged, after)]
            await wait_until(
                lambda: _all_delivered(api, ids), timeout=60, what="every message delivered"
            )

            # A restart as the server sees it: every connection it holds dies at once.
            name = postgres.rsplit("/", 1)[1]
            await _pg_admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                f" WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            again = await send(api)
            assert again.status_code == 201, again.text
            assert (await api.get(f"/api/v1/messages/{again.json()['data']['id']}")).is_success
    finally:
        await asyncio.to_thread(terminate, process)  # the proxy serves its shutdown meanwhile
        await proxy.cut()


async def _ready(api: httpx.AsyncClient) -> bool:
    return (await api.get("/readyz")).status_code == 200


async def _all_delivered(api: httpx.AsyncClient, ids: list[str]) -> bool:
    for message_id in ids:
        response = await api.get(f"/api/v1/messages/{message_id}")
        if response.status_code != 200 or response.json()["data"]["status"] != "delivered":
            return False
    return True
