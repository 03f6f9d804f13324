"""The simulator's documented magic numbers drive every path of the lifecycle."""

from __future__ import annotations

import asyncio

SEND = {"from": "LynSMS", "body": "hello"}


async def wait_for_status(api, headers, message_id, wanted, tries=60):
    for _ in range(tries):
        message = (await api.get(f"/messages/{message_id}", headers=headers)).json()["data"]
        if message["status"] == wanted:
            return message
        await asyncio.sleep(0.1)
    raise AssertionError(f"{message_id} stayed {message['status']}, wanted {wanted}")


async def balance(api, customer):
    return (await api.get("/balance", headers=customer.live)).json()["data"]["balance"]


async def test_permanent_failure_fails_and_refunds(api, customer):
    response = await api.post(
        "/messages/send", json={**SEND, "to": "+15005550001"}, headers=customer.live
    )
    message = response.json()["data"]
    assert response.status_code == 201
    assert message["status"] == "failed"
    assert message["attempts"] == 1
    assert message["error"]["code"] == "rejected"
    assert "21211" in message["error"]["message"]
    assert await balance(api, customer) == 10.0


async def test_blocked_recipient_fails(api, customer):
    response = await api.post(
        "/messages/send", json={**SEND, "to": "+15005550002"}, headers=customer.live
    )
    assert response.json()["data"]["error"]["code"] == "blacklisted"


async def test_retryable_failure_stays_queued_with_the_last_error(api, customer):
    response = await api.post(
        "/messages/send", json={**SEND, "to": "+15005550003"}, headers=customer.live
    )
    message = response.json()["data"]
    assert response.status_code == 201
    assert (message["status"], message["attempts"]) == ("queued", 1)
    assert message["error"]["code"] == "provider_unavailable"
    assert await balance(api, customer) == 9.95  # still reserved: it will be retried


async def test_undelivered_report(api, customer):
    sent = (
        await api.post("/messages/send", json={**SEND, "to": "+15005550007"}, headers=customer.live)
    ).json()["data"]
    message = await wait_for_status(api, customer.live, sent["id"], "undelivered")
    assert message["error"]["code"] == "30003"


async def test_silent_number_stays_sent(api, customer):
    sent = (
        await api.post("/messages/send", json={**SEND, "to": "+15005550008"}, headers=customer.live)
    ).json()["data"]
    await asyncio.sleep(0.8)
    message = (await api.get(f"/messages/{sent['id']}", headers=customer.live)).json()["data"]
    assert message["status"] == "sent"


async def test_scheduled_message_is_sent_on_time(api, customer):
    from datetime import UTC, datetime, timedelta

    send_at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    response = await api.post(
        "/messages/send",
        json={**SEND, "to": "+12025550143", "send_at": send_at},
        headers=customer.live,
    )
    message = response.json()["data"]
    assert (message["status"], message["attempts"], message["sent_at"]) == ("scheduled", 0, None)
    assert await balance(api, customer) == 9.95
    delivered = await wait_for_status(api, customer.live, message["id"], "delivered", tries=200)
    assert delivered["attempts"] == 1 and delivered["provider"] == "simulator"


async def test_cancel_a_scheduled_message_refunds_it(api, customer):
    send_at = "2099-01-01T10:00:00+02:00"
    message = (
        await api.post(
            "/messages/send",
            json={**SEND, "to": "+12025550143", "send_at": send_at},
            headers=customer.live,
        )
    ).json()["data"]
    assert message["send_at"] == "2099-01-01T08:00:00+00:00"
    response = await api.post(f"/messages/{message['id']}/cancel", headers=customer.live)
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "cancelled"
    assert await balance(api, customer) == 10.0
    again = await api.post(f"/messages/{message['id']}/cancel", headers=customer.live)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "message_not_cancellable"
    assert await balance(api, customer) == 10.0


async def test_sent_message_is_not_cancellable(api, customer):
    sent = (
        await api.post("/messages/send", json={**SEND, "to": "+12025550143"}, headers=customer.live)
    ).json()["data"]
    response = await api.post(f"/messages/{sent['id']}/cancel", headers=customer.live)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "message_not_cancellable"


async def test_naive_send_at_is_utc(api, customer):
    message = (
        await api.post(
            "/messages/send",
            json={**SEND, "to": "+12025550143", "send_at": "2099-01-01T10:00:00"},
            headers=customer.test,
        )
    ).json()["data"]
    assert message["send_at"] == "2099-01-01T10:00:00+00:00"
