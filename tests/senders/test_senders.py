from __future__ import annotations

import pytest

from tests.factories import approve_sender


async def test_register_then_approve_then_send(api, customer, server):
    created = await api.post("/senders/create", json={"sender_id": "Acme"}, headers=customer.live)
    assert created.status_code == 201
    sender = created.json()["data"]
    assert (sender["object"], sender["type"], sender["status"]) == (
        "sender",
        "alphanumeric",
        "pending",
    )
    send = {"to": "+12025550143", "from": "Acme", "body": "hi"}
    refused = await api.post("/messages/send", json=send, headers=customer.live)
    assert refused.json()["error"]["code"] == "sender_not_approved"
    await approve_sender(server.runtime, customer.account_id, "Acme")
    assert (await api.get(f"/senders/{sender['id']}", headers=customer.live)).json()["data"][
        "status"
    ] == "approved"
    assert (await api.post("/messages/send", json=send, headers=customer.live)).status_code == 201


@pytest.mark.parametrize(
    ("sender_id", "kind"),
    [
        ("+447700900100", "long_code"),
        ("12345", "short_code"),
        ("My Shop", "alphanumeric"),
    ],
)
async def test_sender_types_are_inferred(api, customer, sender_id, kind):
    data = (
        await api.post(
            "/senders/create",
            json={"sender_id": sender_id, "countries": ["gb"]},
            headers=customer.live,
        )
    ).json()["data"]
    assert data["type"] == kind and data["countries"] == ["GB"]


@pytest.mark.parametrize(
    "payload",
    [
        {"sender_id": "WAYTOOLONGNAME"},
        {"sender_id": "12"},
        {"sender_id": "+1"},
        {"sender_id": "Acme", "type": "short_code"},
        {},
    ],
)
async def test_invalid_senders(api, customer, payload):
    response = await api.post("/senders/create", json=payload, headers=customer.live)
    assert response.status_code == 422, response.text


async def test_duplicate_and_listing_and_isolation(api, customer, server):
    from tests.factories import create_customer

    await api.post("/senders/create", json={"sender_id": "Dup"}, headers=customer.live)
    again = await api.post("/senders/create", json={"sender_id": "Dup"}, headers=customer.live)
    assert again.status_code == 409 and again.json()["error"]["code"] == "sender_exists"
    listed = (await api.get("/senders", headers=customer.live)).json()
    assert {s["sender_id"] for s in listed["data"]} >= {"LynSMS", "Dup"}
    other = await create_customer(server.runtime)
    snd = listed["data"][0]["id"]
    assert (await api.get(f"/senders/{snd}", headers=other.live)).status_code == 404
