"""Kill the server mid-send: nothing accepted is lost, nothing is charged twice.

A real ``lynsms serve`` process on SQLite takes a burst of concurrent sends and
is SIGKILLed while they are in flight. After a restart, every message that was
answered 201 exists, every message the database holds is finished by the
worker (its lease runs out, the dispatcher takes it), and the ledger still
equals the balance.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import cli, free_port, serve
from tests.processes import environment as make_environment


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return make_environment(
        f"sqlite+aiosqlite:///{tmp_path}/crash.db",
        LYNSMS_ROUTING__SEND_BUDGET="0.5",
        LYNSMS_ROUTING__PROVIDER_TIMEOUT="0.5",
        LYNSMS_SIMULATOR__DELIVERY_DELAY="0.1",
    )


async def _burst(url: str, key: str, count: int, process: subprocess.Popen[bytes]) -> list[str]:
    accepted: list[str] = []
    payload = {"to": "+12025550143", "from": "LynSMS", "body": "crash test"}
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:

        async def one() -> None:
            try:
                response = await client.post(
                    "/api/v1/messages/send",
                    json=payload,
                    headers={"Authorization": f"Bearer {key}"},
                )
            except httpx.HTTPError:
                return
            if response.status_code == 201:
                accepted.append(response.json()["data"]["id"])
                if len(accepted) == count // 3:
                    process.send_signal(signal.SIGKILL)  # mid-burst: requests are in flight

        await asyncio.gather(*(one() for _ in range(count)))
    return accepted


async def _all_messages(client: httpx.AsyncClient, key: str) -> list[dict]:
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


async def test_kill_mid_send_loses_nothing(environment, tmp_path):
    account = cli(
        environment,
        "accounts",
        "create",
        "--name",
        "Crash",
        "--email",
        "c@example.com",
        "--balance",
        "100.00",
    )
    key = cli(environment, "keys", "create", "--account", account["id"], "--env", "live")["key"]
    cli(environment, "senders", "approve", account["id"], "LynSMS")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    process = await serve(environment, port, log=log)
    accepted = await _burst(url, key, 600, process)
    process.wait(timeout=10)
    assert accepted, "no request was accepted before the kill"

    process = await serve(environment, port, log=log)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:
                messages = await _all_messages(client, key)
                pending = [m for m in messages if m["status"] in ("queued", "sent")]
                if not pending or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            balance = (
                await client.get("/api/v1/balance", headers={"Authorization": f"Bearer {key}"})
            ).json()["data"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)

    stored = {m["id"]: m for m in messages}
    assert set(accepted) <= set(stored), "a message answered 201 is missing"
    assert pending == [], f"{len(pending)} messages were never finished"
    assert {m["status"] for m in stored.values()} == {"delivered"}
    assert all(m["attempts"] >= 1 for m in stored.values())
    assert balance["balance"] == pytest.approx(100.0 - 0.05 * len(stored))
