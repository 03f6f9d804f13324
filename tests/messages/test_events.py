"""Every status a message reaches writes an event, in the same transaction, payload ready to sign."""

from __future__ import annotations

import asyncio

import orjson
from sqlalchemy import select

from lynsms.database import session_scope
from lynsms.models import Event

SEND = {"from": "LynSMS", "body": "hello"}


async def events_of(server, message_id):
    async with session_scope(server.runtime.database, write=False) as session:
        rows = (
            (
                await session.execute(
                    select(Event)
                    .where(Event.message_id == message_id)
                    .order_by(Event.created_at, Event.id)
                )
            )
            .scalars()
            .all()
        )
    return [(row.type, orjson.loads(row.payload)) for row in rows]


async def wait_for_events(server, message_id, count):
    for _ in range(50):
        found = await events_of(server, message_id)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.1)
    return await events_of(server, message_id)


async def test_immediate_send_emits_its_final_status_only(api, customer, server):
    message = (
        await api.post(
            "/messages/send",
            json={**SEND, "to": "+12025550143", "reference": "r-1"},
            headers=customer.live,
        )
    ).json()["data"]
    found = await wait_for_events(server, message["id"], 2)
    assert [kind for kind, _ in found] == ["message.sent", "message.delivered"]
    kind, payload = found[1]
    assert payload["object"] == "event" and payload["type"] == kind
    assert payload["id"].startswith("evt_")
    assert payload["data"]["id"] == message["id"]
    assert payload["data"]["status"] == "delivered" and payload["data"]["delivered_at"]
    assert payload["data"]["reference"] == "r-1"


async def test_failed_and_queued_and_scheduled_and_cancelled(api, customer, server):
    failed = (
        await api.post("/messages/send", json={**SEND, "to": "+15005550001"}, headers=customer.live)
    ).json()["data"]
    assert [k for k, _ in await events_of(server, failed["id"])] == ["message.failed"]
    queued = (
        await api.post("/messages/send", json={**SEND, "to": "+15005550003"}, headers=customer.live)
    ).json()["data"]
    assert [k for k, _ in await events_of(server, queued["id"])] == ["message.queued"]
    scheduled = (
        await api.post(
            "/messages/send",
            json={**SEND, "to": "+12025550143", "send_at": "2099-01-01T00:00:00Z"},
            headers=customer.live,
        )
    ).json()["data"]
    await api.post(f"/messages/{scheduled['id']}/cancel", headers=customer.live)
    found = await events_of(server, scheduled["id"])
    assert [k for k, _ in found] == ["message.scheduled", "message.cancelled"]
    assert found[1][1]["data"]["status"] == "cancelled"


async def test_undelivered_report_event_carries_the_error(api, customer, server):
    sent = (
        await api.post("/messages/send", json={**SEND, "to": "+15005550007"}, headers=customer.live)
    ).json()["data"]
    found = await wait_for_events(server, sent["id"], 2)
    assert found[-1][0] == "message.undelivered"
    assert found[-1][1]["data"]["error"]["code"] == "30003"


async def test_expired_messages_are_refunded_with_an_event(api, server):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from lynsms.models import Message
    from tests.factories import create_customer

    customer = await create_customer(server.runtime)
    queued = (
        await api.post("/messages/send", json={**SEND, "to": "+15005550003"}, headers=customer.live)
    ).json()["data"]
    assert (await api.get("/balance", headers=customer.live)).json()["data"]["balance"] == 9.95
    async with session_scope(server.runtime.database, write=True) as session:  # its validity ends
        await session.execute(
            update(Message)
            .where(Message.id == queued["id"])
            .values(expire_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    for _ in range(50):
        message = (await api.get(f"/messages/{queued['id']}", headers=customer.live)).json()["data"]
        if message["status"] == "expired":
            break
        await asyncio.sleep(0.1)
    assert message["status"] == "expired" and message["error"]["code"] == "expired"
    assert (await api.get("/balance", headers=customer.live)).json()["data"]["balance"] == 10.0
    assert [k for k, _ in await events_of(server, queued["id"])] == [
        "message.queued",
        "message.expired",
    ]
