from __future__ import annotations

SEED_BULK = {
    "from": "LynSMS",
    "recipients": ["+12025550143", "+447700900100", "+4748640969"],
    "body": "Tickets for tonight are still available — bit.ly/lens-friday",
}


async def test_seed_bulk_returns_a_bulk_result(api, customer):
    response = await api.post("/messages/bulk", json=SEED_BULK, headers=customer.live)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["object"] == "bulk_result"
    assert data["id"].startswith("blk_")
    assert (data["total"], data["sent"], data["failed"], data["queued"], data["scheduled"]) == (
        3,
        3,
        0,
        0,
        0,
    )
    assert [m["to"] for m in data["messages"]] == SEED_BULK["recipients"]
    assert all(
        m["status"] == "sent" and m["cost"] == 0.05 and m["error"] is None for m in data["messages"]
    )
    # the em dash makes the body UCS-2: each recipient is its own, retrievable message
    one = (await api.get(f"/messages/{data['messages'][0]['id']}", headers=customer.live)).json()[
        "data"
    ]
    assert one["encoding"] == "UCS-2" and one["body"] == SEED_BULK["body"]
    balance = (await api.get("/balance", headers=customer.live)).json()["data"]["balance"]
    assert balance == 9.85


async def test_invalid_recipients_fail_individually(api, customer):
    payload = {**SEED_BULK, "recipients": ["+12025550143", "0712345678", "+12025550143"]}
    data = (await api.post("/messages/bulk", json=payload, headers=customer.live)).json()["data"]
    assert (data["total"], data["sent"], data["failed"]) == (3, 2, 1)
    bad = data["messages"][1]
    assert bad["status"] == "failed" and bad["id"] is None and bad["cost"] == 0
    assert bad["error"]["code"] == "invalid_phone_number"
    # duplicate recipients each get their own message
    assert data["messages"][0]["id"] != data["messages"][2]["id"]


async def test_messages_shape_with_own_bodies_and_references(api, customer):
    payload = {
        "from": "LynSMS",
        "messages": [
            {"to": "+12025550143", "body": "one", "reference": "r1"},
            {"to": "+447700900100", "body": "x" * 161, "reference": "r2"},
        ],
    }
    data = (await api.post("/messages/bulk", json=payload, headers=customer.live)).json()["data"]
    assert data["sent"] == 2
    second = (
        await api.get(f"/messages/{data['messages'][1]['id']}", headers=customer.live)
    ).json()["data"]
    assert (second["segments"], second["reference"], second["cost"]) == (2, "r2", 0.1)


async def test_bulk_that_balance_cannot_cover_is_refused_whole(api, server):
    from tests.factories import create_customer

    poor = await create_customer(server.runtime, balance="0.10")
    payload = {**SEED_BULK, "recipients": ["+12025550143"] * 3}
    response = await api.post("/messages/bulk", json=payload, headers=poor.live)
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_balance"
    listed = (await api.get("/messages", headers=poor.live)).json()
    assert listed["pagination"]["total_items"] == 0
    assert (await api.get("/balance", headers=poor.live)).json()["data"]["balance"] == 0.1


async def test_more_than_1000_recipients(api, customer):
    payload = {**SEED_BULK, "recipients": ["+12025550143"] * 1001}
    response = await api.post("/messages/bulk", json=payload, headers=customer.test)
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "too_many_recipients",
        "message": "1001 recipients; at most 1000 per request.",
        "param": "recipients",
    }


async def test_thousand_recipients_in_one_request(api, customer):
    recipients = [f"+1202555{i:04d}" for i in range(1000)]
    payload = {**SEED_BULK, "body": "hi", "recipients": recipients}
    response = await api.post("/messages/bulk", json=payload, headers=customer.test)
    data = response.json()["data"]
    assert (data["total"], data["sent"]) == (1000, 1000)
    assert len({m["id"] for m in data["messages"]}) == 1000


async def test_recipients_and_messages_are_exclusive(api, customer):
    payload = {**SEED_BULK, "messages": [{"to": "+12025550143", "body": "x"}]}
    response = await api.post("/messages/bulk", json=payload, headers=customer.test)
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "recipients"


async def test_empty_recipients(api, customer):
    response = await api.post(
        "/messages/bulk", json={**SEED_BULK, "recipients": []}, headers=customer.test
    )
    assert response.status_code == 422


async def test_bulk_missing_body_fails_each_item(api, customer):
    payload = {"from": "LynSMS", "recipients": ["+12025550143"]}
    data = (await api.post("/messages/bulk", json=payload, headers=customer.test)).json()["data"]
    assert data["failed"] == 1 and data["messages"][0]["error"]["code"] == "empty_body"
