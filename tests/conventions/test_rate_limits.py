"""Rate limits per API key (API.md §7, §10): headers, 429, isolation, Redis, over HTTP."""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import redis

from tests.conftest import LiveServer, start_server, stop_server
from tests.conftest import test_settings as make_settings
from tests.conventions.helpers import SEND, fresh_window
from tests.factories import create_key

REDIS_URL = os.environ.get("LYNSMS_TEST_REDIS", "redis://127.0.0.1:6379/15")


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def quota(response: httpx.Response) -> tuple[int, int, int]:
    headers = response.headers
    return (
        int(headers["x-ratelimit-limit"]),
        int(headers["x-ratelimit-remaining"]),
        int(headers["x-ratelimit-reset"]),
    )


async def test_headers_count_down_in_both_forms(api, customer, server):
    await fresh_window()
    raw = await create_key(server.runtime, customer.account_id, rate_limit_per_minute=10)
    responses = [await api.get("/account", headers=bearer(raw)) for _ in range(3)]
    assert [quota(r)[:2] for r in responses] == [(10, 9), (10, 8), (10, 7)]
    reset = quota(responses[-1])[2]
    assert reset % 60 == 0 and 0 < reset - time.time() <= 60
    last = responses[-1].headers
    assert last["ratelimit-policy"] == '"default";q=10;w=60'
    found = re.fullmatch(r'"default";r=7;t=(\d+)', last["ratelimit"])
    assert found and 1 <= int(found[1]) <= 60
    assert abs(int(found[1]) - (reset - time.time())) <= 2


async def test_default_limit_and_every_authenticated_response(api, customer):
    sent = await api.post("/messages/send", json=SEND, headers=customer.live)  # the fast path
    invalid = await api.post("/messages/send", json={**SEND, "to": "1"}, headers=customer.live)
    missing = await api.get("/messages/msg_none", headers=customer.live)
    assert (sent.status_code, invalid.status_code, missing.status_code) == (201, 422, 404)
    for response in (sent, invalid, missing):
        assert quota(response)[0] == 1200
        assert "ratelimit" in response.headers and "ratelimit-policy" in response.headers
    unauthenticated = await api.get("/account", headers=bearer("ds_live_nope"))
    assert unauthenticated.status_code == 401
    assert "x-ratelimit-limit" not in unauthenticated.headers


async def test_over_the_limit_is_429_with_retry_after(api, customer, server):
    await fresh_window()
    raw = await create_key(server.runtime, customer.account_id, rate_limit_per_minute=3)
    allowed = [await api.get("/account", headers=bearer(raw)) for _ in range(3)]
    assert [r.status_code for r in allowed] == [200, 200, 200]
    refused = await api.post("/messages/send", json=SEND, headers=bearer(raw))
    assert refused.status_code == 429
    body = refused.json()
    assert body["success"] is False and body["error"]["code"] == "rate_limited"
    assert body["meta"]["request_id"] == refused.headers["x-request-id"]
    retry_after = int(refused.headers["retry-after"])
    limit, remaining, reset = quota(refused)
    assert (limit, remaining) == (3, 0)
    assert 1 <= retry_after <= 60 and abs(retry_after - (reset - time.time())) <= 2
    assert "r=0;" in refused.headers["ratelimit"]


async def test_limits_are_per_key(api, customer, server):
    await fresh_window()
    one = await create_key(server.runtime, customer.account_id, rate_limit_per_minute=2)
    two = await create_key(server.runtime, customer.account_id, rate_limit_per_minute=2)
    statuses = [(await api.get("/account", headers=bearer(one))).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    other = await api.get("/account", headers=bearer(two))
    assert other.status_code == 200
    assert quota(other)[:2] == (2, 1)


async def test_a_rate_limited_retry_is_not_replayed_later(api, customer, server):
    """429 is not stored: the same Idempotency-Key runs once the window allows it."""
    await fresh_window()
    raw = await create_key(server.runtime, customer.account_id, rate_limit_per_minute=1)
    await api.get("/account", headers=bearer(raw))
    headers = {**bearer(raw), "Idempotency-Key": "after-429"}
    refused = await api.post("/messages/send", json=SEND, headers=headers)
    assert refused.status_code == 429
    server.runtime.limiter.local.reset()  # a new window, without waiting a minute
    sent = await api.post("/messages/send", json=SEND, headers=headers)
    assert sent.status_code == 201, sent.text
    assert "idempotent-replayed" not in sent.headers


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
async def shared_pair(database_url: str) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    if not _redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    settings = make_settings(database_url, redis_url=REDIS_URL)
    first = await start_server(settings, run_worker=False)
    second = await start_server(settings, run_worker=False)
    yield first, second
    await stop_server(first)
    await stop_server(second)


async def test_redis_shares_the_limit_between_servers(shared_pair):
    one, other = shared_pair
    await fresh_window()
    raw = await create_key(one.runtime, (await _account(one)), rate_limit_per_minute=4)
    async with (
        httpx.AsyncClient(base_url=one.url + "/api/v1") as on_one,
        httpx.AsyncClient(base_url=other.url + "/api/v1") as on_other,
    ):
        responses = [
            await client.get("/account", headers=bearer(raw))
            for client in (on_one, on_other, on_one, on_other, on_one)
        ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert [quota(r)[1] for r in responses] == [3, 2, 1, 0, 0]


@pytest.fixture
async def redis_down(database_url: str) -> AsyncIterator[LiveServer]:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(database_url, redis_url=f"redis://127.0.0.1:{port}/0")
    live = await start_server(settings, run_worker=False)
    yield live
    await stop_server(live)


async def test_without_redis_requests_pass_and_each_process_counts(redis_down, caplog):
    await fresh_window()
    raw = await create_key(redis_down.runtime, await _account(redis_down), rate_limit_per_minute=2)
    async with httpx.AsyncClient(base_url=redis_down.url + "/api/v1") as client:
        with caplog.at_level(logging.WARNING, logger="lynsms.ratelimit"):
            responses = [await client.get("/account", headers=bearer(raw)) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert [quota(r)[1] for r in responses] == [1, 0, 0]
    assert any("redis unreachable" in str(r.msg) for r in caplog.records)


async def _account(live: LiveServer) -> str:
    from tests.factories import create_account

    return await create_account(live.runtime)
