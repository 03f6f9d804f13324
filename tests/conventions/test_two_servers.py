"""Idempotency across processes: two servers on one PostgreSQL database share the key's lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from tests.conftest import LiveServer, start_server, stop_server
from tests.conftest import test_settings as make_settings
from tests.conventions.helpers import SEND, key_id_of, new_key, rows_of, sent_count, with_key
from tests.factories import create_customer


@pytest.fixture
async def two_servers(database_url: str) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("several API processes share one database only on PostgreSQL")
    first = await start_server(make_settings(database_url), run_worker=False)
    second = await start_server(make_settings(database_url), run_worker=False)
    yield first, second
    await stop_server(first)
    await stop_server(second)


async def test_a_key_in_use_on_one_server_is_409_on_the_other(two_servers, database_url):
    one, other = two_servers
    customer = await create_customer(one.runtime)
    key, api_key_id = new_key(), await key_id_of(one.runtime, customer.live_key)
    headers = with_key(customer.live, key)
    blocker = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    async with (
        httpx.AsyncClient(base_url=one.url + "/api/v1", timeout=30) as on_one,
        httpx.AsyncClient(base_url=other.url + "/api/v1", timeout=30) as on_other,
    ):
        transaction = blocker.transaction()
        await transaction.start()  # the account row locked: the first send waits at its debit
        await blocker.execute(
            "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE", customer.account_id
        )
        running = asyncio.create_task(on_one.post("/messages/send", json=SEND, headers=headers))
        while await rows_of(one.runtime, api_key_id) == 0:
            await asyncio.sleep(0.01)
        refused = await on_other.post("/messages/send", json=SEND, headers=headers)
        await transaction.rollback()
        first = await running
        replayed = await on_other.post("/messages/send", json=SEND, headers=headers)
        count = await sent_count(on_other, customer.live)
    await blocker.close()
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "idempotency_key_in_use"
    assert first.status_code == 201, first.text
    assert replayed.content == first.content
    assert replayed.headers["idempotent-replayed"] == "true"
    assert count == 1
