from __future__ import annotations

SEED_SEND = {
    "to": "+12025550143",
    "from": "LynSMS",
    "body": "Your verification code is 482194",
    "reference": "signup-9214",
}


async def test_seed_send_returns_the_seed_shape(api, customer):
    response = await api.post("/messages/send", json=SEED_SEND, headers=customer.live)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True
    assert body["meta"]["request_id"] == response.headers["x-request-id"]
    message = body["data"]
    assert message["id"].startswith("msg_") and len(message["id"]) == 29
    assert message["object"] == "message"
    assert message["status"] == "sent"
    assert message["to"] == "+12025550143"
    assert message["from"] == "LynSMS"
    assert message["cost"] == 0.05
    assert message["currency"] == "USD"
    assert message["provider"] == "simulator"
    assert message["provider_message_id"]
    assert message["attempts"] == 1
    assert message["encoding"] == "GSM-7"
    assert message["segments"] == 1
    assert message["reference"] == "signup-9214"
    assert message["created_at"].endswith("+00:00")
    assert message["sent_at"].endswith("+00:00")


async def test_test_key_sends_from_unapproved_sender_without_touching_balance(api, customer):
    before = (await api.get("/balance", headers=customer.live)).json()["data"]["balance"]
    payload = {**SEED_SEND, "from": "NotApproved"}
    response = await api.post("/messages/send", json=payload, headers=customer.test)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["mode"] == "test"
    after = (await api.get("/balance", headers=customer.live)).json()["data"]["balance"]
    assert after == before


async def test_live_send_debits_the_balance(api, customer):
    await api.post("/messages/send", json=SEED_SEND, headers=customer.live)
    balance = (await api.get("/balance", headers=customer.live)).json()["data"]
    assert balance == {
        "object": "balance",
        "balance": 9.95,
        "currency": "USD",
        "package_sms_remaining": 0,
    }


async def test_unicode_body_is_ucs2_and_billed_per_segment(api, customer):
    body = "Привет! " * 10  # 80 characters, Cyrillic → UCS-2, 2 segments of 67
    response = await api.post(
        "/messages/send", json={**SEED_SEND, "body": body}, headers=customer.live
    )
    message = response.json()["data"]
    assert (message["encoding"], message["segments"], message["cost"]) == ("UCS-2", 2, 0.1)
    assert message["body"] == body


async def test_numbers_are_normalised_to_e164(api, customer):
    for raw, expected in [
        ("+1 (202) 555-0143", "+12025550143"),
        ("0044 7700 900100", "+447700900100"),
        ("+40.123.456.789", "+40123456789"),
    ]:
        response = await api.post(
            "/messages/send", json={**SEED_SEND, "to": raw}, headers=customer.test
        )
        assert response.status_code == 201, (raw, response.text)
        assert response.json()["data"]["to"] == expected


async def test_seed_example_numbers_are_accepted(api, customer):
    for number in ["+12025550143", "+447700900100", "+4748640969", "+40123456789"]:
        response = await api.post(
            "/messages/send", json={**SEED_SEND, "to": number}, headers=customer.test
        )
        assert response.status_code == 201, (number, response.text)


async def test_message_is_retrievable_and_delivered_later(api, customer):
    sent = (await api.post("/messages/send", json=SEED_SEND, headers=customer.live)).json()["data"]
    import asyncio

    for _ in range(50):
        got = (await api.get(f"/messages/{sent['id']}", headers=customer.live)).json()["data"]
        if got["status"] == "delivered":
            break
        await asyncio.sleep(0.1)
    assert got["status"] == "delivered"
    assert got["delivered_at"] is not None
    assert {k: got[k] for k in ("id", "to", "cost", "provider_message_id")} == {
        k: sent[k] for k in ("id", "to", "cost", "provider_message_id")
    }


async def test_another_accounts_message_is_not_found(api, customer, server):
    from tests.factories import create_customer

    other = await create_customer(server.runtime)
    sent = (await api.post("/messages/send", json=SEED_SEND, headers=customer.live)).json()["data"]
    response = await api.get(f"/messages/{sent['id']}", headers=other.live)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    cancel = await api.post(f"/messages/{sent['id']}/cancel", headers=other.live)
    assert cancel.status_code == 404
