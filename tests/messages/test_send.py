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
