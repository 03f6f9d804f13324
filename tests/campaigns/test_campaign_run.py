"""A campaign of 20,000 contacts end to end through a real server and the Twilio fake, and a
server killed (-9) in the middle of one.

The stats must match what the provider received; after a crash nobody is given two
messages by the campaign, every recipient's message is delivered and charged once,
and what the provider saw twice is bounded by the hand-offs in flight at the kill
(at-least-once to a provider without idempotency, as for every send) and counted.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from lynsms.config import WorkerSettings
from tests.conftest import make_database
from tests.fakes.twilio import FakeTwilio
from tests.gateway import TWILIO_SID, TWILIO_TOKEN
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

PRICE = 0.05


def numbers(count: int) -> list[str]:
    """``count`` distinct Washington, DC numbers."""
    return [f"+1202{300 + index // 10_000}{index % 10_000:04d}" for index in range(count)]


def contacts_csv(to: list[str]) -> bytes:
    rows = ["phone,name,tags,attributes.code"]
    rows += [f"{phone},Contact {index},crowd,C{index}" for index, phone in enumerate(to)]
    return ("\n".join(rows) + "\n").encode()


async def start_campaign(client: httpx.AsyncClient, auth: dict[str, str], to: list[str]) -> str:
    imported = await client.post(
        "/api/v1/contacts/import",
        content=contacts_csv(to),
        headers={**auth, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["data"]["created"] == len(to)
    created = await client.post(
        "/api/v1/campaigns",
        json={
            "name": "crowd",
            "from": "LynSMS",
            "body": "Hi {{name}}, your code is {{code}}",
            "audience": {"tags": ["crowd"]},
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    campaign_id: str = created.json()["data"]["id"]
    launched = await client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=auth)
    assert launched.status_code == 200, launched.text
    assert launched.json()["data"]["cost"] == pytest.approx(len(to) * PRICE)
    return campaign_id


async def stats_of(client: httpx.AsyncClient, auth: dict[str, str], campaign_id: str) -> Any:
    response = await client.get(f"/api/v1/campaigns/{campaign_id}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def balance(client: httpx.AsyncClient, auth: dict[str, str]) -> float:
    response = await client.get("/api/v1/balance", headers=auth)
    return float(response.json()["data"]["balance"])


# The 20,000-contact run on PostgreSQL (production's database); SQLite runs the same
# test with fewer contacts, to keep the suite within its time.
SIZES = {"postgresql": 20_000, "sqlite": 2_000}


@pytest.fixture(params=sorted(SIZES))
def database(request: Any, tmp_path: Path) -> Any:
    url, drop = make_database(request.param, str(tmp_path))
    yield url, SIZES[request.param]
    drop()


async def run_server(database_url: str, fake: FakeTwilio, tmp_path: Path) -> Any:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = environment(
        database_url,
        LYNSMS_PROVIDERS=twilio_provider(fake.url),
        LYNSMS_SERVER__PUBLIC_URL=url,
        # A provider that takes long under load must not time out: a timeout after the fake
        # accepted would be retried, and counted here as sent twice.
        LYNSMS_ROUTING__SEND_BUDGET="2",
        LYNSMS_ROUTING__PROVIDER_TIMEOUT="15",
    )
    key = live_customer(env, balance="2000.00")
    process = await serve(env, port, log=tmp_path / "server.log")
    return env, port, url, {"Authorization": f"Bearer {key}"}, process


async def test_a_20000_contact_campaign_end_to_end(database, tmp_path):
    database_url, count = database
    fake = FakeTwilio(TWILIO_SID, TWILIO_TOKEN).start()
    _env, _port, url, auth, process = await run_server(database_url, fake, tmp_path)
    to = numbers(count)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            before = await balance(client, auth)
            started = time.monotonic()
            campaign_id = await start_campaign(client, auth, to)

            async def completed() -> bool:
                found = await stats_of(client, auth, campaign_id)
                return bool(found["status"] == "completed")

            await wait_until(completed, 240, "the campaign to complete", 0.5)
            elapsed = time.monotonic() - started
            done = await stats_of(client, auth, campaign_id)
            charged = before - await balance(client, auth)
            sample = await client.get(
                f"/api/v1/campaigns/{campaign_id}/messages", params={"limit": 3}, headers=auth
            )
    finally:
        terminate(process)
        fake.stop()

    received = Counter(m.to for m in fake.accepted)
    print(f"\ncampaign of {count}: handed over in {elapsed:.1f} s ({count / elapsed:.0f}/s)")
    assert set(received) == set(to) and max(received.values()) == 1
    assert done["stats"] == {
        "total": count,
        "queued": 0,
        "sent": len(fake.accepted),  # no delivery report yet: all handed over
        "delivered": 0,
        "failed": 0,
        "skipped_opted_out": 0,
        "cancelled": 0,
    }
    assert charged == pytest.approx(count * PRICE)
    bodies = {m.to: m.body for m in fake.accepted}
    assert bodies[to[0]] == "Hi Contact 0, your code is C0"
    assert bodies[to[-1]] == f"Hi Contact {count - 1}, your code is C{count - 1}"
    assert sample.json()["pagination"]["total_items"] == count


async def test_a_campaign_survives_a_kill_in_the_middle(tmp_path):
    count = 3_000
    fake = FakeTwilio(TWILIO_SID, TWILIO_TOKEN).start()
    database = f"sqlite+aiosqlite:///{tmp_path}/campaign.db"
    env, port, url, auth, process = await run_server(database, fake, tmp_path)
    to = numbers(count)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            before = await balance(client, auth)
            campaign_id = await start_campaign(client, auth, to)

            async def some_sent() -> bool:
                return len(fake.accepted) >= count // 4

            await wait_until(some_sent, 60, "the campaign to start going out", 0.01)
            kill(process)
            at_kill = len(fake.accepted)
            process = await serve(env, port, log=tmp_path / "server.log")

            async def completed() -> bool:
                found = await stats_of(client, auth, campaign_id)
                return bool(found["status"] == "completed")

            await wait_until(completed, 120, "the campaign to complete after the restart", 0.5)
            done = await stats_of(client, auth, campaign_id)
            charged = before - await balance(client, auth)
            listed = await client.get(
                f"/api/v1/campaigns/{campaign_id}/messages", params={"limit": 1}, headers=auth
            )
    finally:
        terminate(process)
        fake.stop()

    received = Counter(m.to for m in fake.accepted)
    twice = sum(n - 1 for n in received.values())
    print(f"\ncampaign crash: {at_kill} handed over at the kill, {twice} handed over twice")
    assert at_kill < count  # the kill came in the middle
    assert set(received) == set(to)  # everyone got it
    assert listed.json()["pagination"]["total_items"] == count  # one message per contact
    assert done["stats"]["sent"] == count and done["stats"]["queued"] == 0
    assert charged == pytest.approx(count * PRICE)  # charged once each
    # Only what was in flight: one message per dispatch lane (its provider call or commit).
    assert twice <= WorkerSettings().concurrency
