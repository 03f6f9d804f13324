"""Idempotency-Key (API.md §7, §10): stored first responses, replays, locks, expiry, over HTTP."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from lynsms.conventions.idempotency import Claim
from lynsms.exceptions import ServiceUnavailable
from lynsms.kit.clock import utcnow
from lynsms.messages import service as messages_service
from tests.conventions.helpers import (
    SEND,
    key_id_of,
    new_key,
    rows_of,
    sent_count,
    set_expiry,
    with_key,
)
from tests.factories import create_key


async def test_retry_replays_the_first_response_byte_for_byte(api, customer):
    headers = with_key(customer.live, new_key())
    first = await api.post("/messages/send", json=SEND, headers=headers)
    again = await api.post(
        "/messages/send", json=SEND, headers={**headers, "X-Request-Id": "retry-1"}
    )
    assert first.status_code == again.status_code == 201, first.text
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert again.headers.get_list("x-request-id") == [first.headers["x-request-id"]]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await sent_count(api, customer.live) == 1


async def test_a_different_body_still_replays_and_the_mismatch_is_logged(api, customer, caplog):
    headers = with_key(customer.live, new_key())
    first = await api.post("/messages/send", json=SEND, headers=headers)
    with caplog.at_level(logging.WARNING, logger="lynsms.idempotency"):
        other = await api.post(
            "/messages/send", json={**SEND, "to": "+12025550199"}, headers=headers
        )
    assert other.status_code == 201
    assert other.content == first.content
    assert other.headers["idempotent-replayed"] == "true"
    assert any("different request" in str(r.msg) for r in caplog.records)
    assert await sent_count(api, customer.live) == 1


async def test_the_quoted_form_is_the_same_key(api, customer):
    key = new_key()
    first = await api.post("/messages/send", json=SEND, headers=with_key(customer.live, key))
    again = await api.post("/messages/send", json=SEND, headers=with_key(customer.live, f'"{key}"'))
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content


async def test_a_422_is_stored_and_replayed(api, customer):
    headers = with_key(customer.live, new_key())
    first = await api.post("/messages/send", json={**SEND, "to": "12"}, headers=headers)
    assert first.status_code == 422, first.text
    again = await api.post("/messages/send", json=SEND, headers=headers)
    assert again.status_code == 422
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert await sent_count(api, customer.live) == 0


async def test_a_400_is_not_stored(api, customer):
    headers = with_key({**customer.live, "Content-Type": "application/json"}, new_key())
    first = await api.post("/messages/send", content=b'{"to": ', headers=headers)
    assert first.status_code == 400
    assert first.json()["error"]["code"] == "invalid_json"
    again = await api.post("/messages/send", json=SEND, headers=headers)
    assert again.status_code == 201, again.text
    assert "idempotent-replayed" not in again.headers


async def test_a_401_is_not_stored(api, customer):
    key = new_key()
    refused = await api.post(
        "/messages/send", json=SEND, headers=with_key({"Authorization": "Bearer ds_live_x"}, key)
    )
    assert refused.status_code == 401
    sent = await api.post("/messages/send", json=SEND, headers=with_key(customer.live, key))
    assert sent.status_code == 201, sent.text
    assert "idempotent-replayed" not in sent.headers


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RuntimeError("boom"), 500, "internal_error"),
        (ServiceUnavailable("down"), 503, "service_unavailable"),
    ],
)
async def test_a_5xx_is_not_stored_and_frees_the_key(
    api, customer, server, monkeypatch, error, status, code
):
    async def broken(*args, **kwargs):
        raise error

    headers = with_key(customer.live, new_key())
    monkeypatch.setattr(messages_service, "send_one", broken)
    failed = await api.post("/messages/send", json=SEND, headers=headers)
    monkeypatch.undo()
    assert failed.status_code == status
    assert failed.json()["error"]["code"] == code
    assert "x-ratelimit-remaining" in failed.headers
    assert await rows_of(server.runtime, await key_id_of(server.runtime, customer.live_key)) == 0
    again = await api.post("/messages/send", json=SEND, headers=headers)
    assert again.status_code == 201, again.text
    assert "idempotent-replayed" not in again.headers
    assert await sent_count(api, customer.live) == 1


async def test_delete_is_replayed(api, customer, server):
    spare = await create_key(server.runtime, customer.account_id, "live")
    spare_id = await key_id_of(server.runtime, spare)
    headers = with_key(customer.live, new_key())
    first = await api.delete(f"/api-keys/{spare_id}", headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["data"]["revoked_at"] is not None
    again = await api.delete(f"/api-keys/{spare_id}", headers=headers)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"


async def test_keys_are_scoped_to_the_api_key(api, customer):
    key = new_key()
    live = await api.post("/messages/send", json=SEND, headers=with_key(customer.live, key))
    test = await api.post("/messages/send", json=SEND, headers=with_key(customer.test, key))
    assert live.status_code == test.status_code == 201
    assert "idempotent-replayed" not in test.headers
    assert live.json()["data"]["id"] != test.json()["data"]["id"]


async def test_concurrent_retries_never_send_twice(api, customer):
    headers = with_key(customer.live, new_key())
    responses = await asyncio.gather(
        *(api.post("/messages/send", json=SEND, headers=headers) for _ in range(5))
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409} and statuses[0] == 201, statuses
    created = [r for r in responses if r.status_code == 201]
    assert len({r.json()["data"]["id"] for r in created}) == 1
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["error"]["code"] == "idempotency_key_in_use"
    assert await sent_count(api, customer.live) == 1


async def test_a_running_request_holds_the_key_until_its_lease_ends(api, customer, server):
    api_key_id = await key_id_of(server.runtime, customer.live_key)
    key = new_key()
    held = Claim(api_key_id, key, "0" * 64, "a" * 32, "req_elsewhere")
    assert await server.runtime.idempotency.claim(held) is None  # a request running elsewhere
    refused = await api.post("/messages/send", json=SEND, headers=with_key(customer.live, key))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "idempotency_key_in_use"
    assert refused.headers["retry-after"] == "1"
    assert "x-ratelimit-remaining" in refused.headers
    await set_expiry(server.runtime, api_key_id, key, utcnow() - timedelta(seconds=1))
    taken = await api.post("/messages/send", json=SEND, headers=with_key(customer.live, key))
    assert taken.status_code == 201, taken.text
    assert "idempotent-replayed" not in taken.headers


async def test_an_expired_response_is_not_replayed_and_is_purged(api, customer, server):
    api_key_id = await key_id_of(server.runtime, customer.live_key)
    key, kept = new_key(), new_key()
    first = await api.post("/messages/send", json=SEND, headers=with_key(customer.live, key))
    await api.post("/messages/send", json=SEND, headers=with_key(customer.live, kept))
    await set_expiry(server.runtime, api_key_id, key, utcnow() - timedelta(seconds=1))
    again = await api.post("/messages/send", json=SEND, headers=with_key(customer.live, key))
    assert again.status_code == 201
    assert again.json()["data"]["id"] != first.json()["data"]["id"]
    await set_expiry(server.runtime, api_key_id, key, utcnow() - timedelta(seconds=1))
    assert await server.runtime.idempotency.purge(utcnow()) >= 1
    assert await rows_of(server.runtime, api_key_id) == 1  # ``kept`` is still there


async def test_expired_rows_are_purged_by_a_later_request(api, customer, server):
    api_key_id = await key_id_of(server.runtime, customer.live_key)
    key = new_key()
    await api.post("/messages/send", json=SEND, headers=with_key(customer.live, key))
    await set_expiry(server.runtime, api_key_id, key, utcnow() - timedelta(seconds=1))
    server.runtime.idempotency.purged_at = float("-inf")  # as if the last purge were long ago
    await api.post("/messages/send", json=SEND, headers=with_key(customer.live, new_key()))
    for _ in range(100):  # the purge runs once the response has gone
        if await rows_of(server.runtime, api_key_id) == 1:
            break
        await asyncio.sleep(0.02)
    assert await rows_of(server.runtime, api_key_id) == 1


async def test_requests_without_the_header_store_nothing(api, customer, server):
    await api.post("/messages/send", json=SEND, headers=customer.live)
    await api.delete("/api-keys/key_none", headers=customer.live)
    assert await rows_of(server.runtime, await key_id_of(server.runtime, customer.live_key)) == 0


@pytest.mark.parametrize(
    "value",
    ["", '""', "x" * 256, b"caf\xc3\xa9", "tab\tinside"],
    ids=["empty", "empty-quoted", "too-long", "non-ascii", "control"],
)
async def test_an_invalid_key_is_400(api, customer, value):
    headers = {**customer.live, "Idempotency-Key": value}
    response = await api.post("/messages/send", json=SEND, headers=headers)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_idempotency_key"
    assert error["param"] == "Idempotency-Key"
    assert "Idempotency-Key" in error["message"]
    assert await sent_count(api, customer.live) == 0


async def test_two_keys_in_one_request_are_400(api, customer):
    headers = [*customer.live.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    response = await api.post("/messages/send", json=SEND, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"


async def test_the_longest_key_is_accepted(api, customer):
    headers = with_key(customer.live, "k" * 255)
    first = await api.post("/messages/send", json=SEND, headers=headers)
    again = await api.post("/messages/send", json=SEND, headers=headers)
    assert first.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
