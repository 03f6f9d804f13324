"""Prepaid packages (seed 003): spent per segment before money, soonest-expiring first, given back
exactly by refunds, never over-spent however many sends race for them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from sqlalchemy import select, update

from lynsms.billing import service as billing_service
from lynsms.database import session_scope
from lynsms.models import Event, Message, Package
from tests import conftest
from tests.factories import create_customer, create_key

ONE = "hello"  # 1 segment
THREE = "x" * 400  # GSM-7: 3 segments of 153
TO = "+12025550143"
PRICE = 0.05  # per segment (the default price list)


async def grant(server, account_id, sms, *, days=30, name="Pack"):
    async with session_scope(server.runtime.database, write=True) as session:
        expire_at = datetime.now(UTC) + timedelta(days=days)
        package = await billing_service.grant_package(session, account_id, name, sms, expire_at)
        return package.id


async def expire(server, package_id):
    async with session_scope(server.runtime.database, write=True) as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(
            update(Package).where(Package.id == package_id).values(expire_at=past)
        )


async def send(api, customer, body=ONE, to=TO, **extra):
    payload = {"to": to, "from": "LynSMS", "body": body, **extra}
    return await api.post("/messages/send", json=payload, headers=customer.live)


async def packages_of(api, customer):
    response = await api.get("/packages", headers=customer.live, params={"limit": 100})
    assert response.status_code == 200
    return {p["id"]: p for p in response.json()["data"]}


async def balance_of(api, customer):
    data = (await api.get("/balance", headers=customer.live)).json()["data"]
    return data["balance"], data["package_sms_remaining"]


async def wait_for_status(api, customer, message_id, status):
    for _ in range(100):
        message = (await api.get(f"/messages/{message_id}", headers=customer.live)).json()["data"]
        if message["status"] == status:
            return message
        await asyncio.sleep(0.1)
    raise AssertionError(f"{message_id} is {message['status']}, not {status}")


async def test_a_package_pays_before_money(api, server):
    customer = await create_customer(server.runtime)
    package = await grant(server, customer.account_id, 100, name="100 SMS")
    response = await send(api, customer)
    assert response.status_code == 201
    message = response.json()["data"]
    assert message["cost"] == 0.0 and message["segments"] == 1
    assert await balance_of(api, customer) == (10.0, 99)
    listed = (await packages_of(api, customer))[package]
    assert listed["used_sms"] == 1 and listed["remaining_sms"] == 99
    stored = (await api.get(f"/messages/{message['id']}", headers=customer.live)).json()["data"]
    assert stored["cost"] == 0.0


async def test_a_message_is_covered_in_part_and_the_rest_is_money(api, server):
    customer = await create_customer(server.runtime)
    package = await grant(server, customer.account_id, 2)
    message = (await send(api, customer, THREE)).json()["data"]
    assert message["segments"] == 3 and message["cost"] == PRICE
    assert await balance_of(api, customer) == (9.95, 0)
    assert (await packages_of(api, customer))[package]["used_sms"] == 2
    after = (await send(api, customer, THREE)).json()["data"]
    assert after["cost"] == 0.15
    assert await balance_of(api, customer) == (9.8, 0)


async def test_packages_are_spent_soonest_expiring_first(api, server):
    customer = await create_customer(server.runtime)
    later = await grant(server, customer.account_id, 5, days=60)
    sooner = await grant(server, customer.account_id, 2, days=10)
    message = (await send(api, customer, THREE)).json()["data"]
    assert message["cost"] == 0.0
    listed = await packages_of(api, customer)
    assert listed[sooner]["used_sms"] == 2 and listed[later]["used_sms"] == 1
    assert await balance_of(api, customer) == (10.0, 4)


async def test_a_bulk_uses_the_package_then_money(api, server):
    customer = await create_customer(server.runtime)
    await grant(server, customer.account_id, 2)
    body = {"from": "LynSMS", "body": ONE, "recipients": [TO] * 3}
    response = await api.post("/messages/bulk", json=body, headers=customer.live)
    assert response.status_code == 201
    costs = [item["cost"] for item in response.json()["data"]["messages"]]
    assert costs == [0.0, 0.0, PRICE]
    assert await balance_of(api, customer) == (9.95, 0)


async def test_an_expired_package_is_never_used(api, server):
    customer = await create_customer(server.runtime)
    package = await grant(server, customer.account_id, 10)
    await expire(server, package)
    assert await balance_of(api, customer) == (10.0, 0)
    assert (await send(api, customer)).json()["data"]["cost"] == PRICE
    listed = (await packages_of(api, customer))[package]
    assert listed["expired"] is True and listed["used_sms"] == 0 and listed["remaining_sms"] == 10


async def test_test_keys_touch_neither_packages_nor_money(api, server):
    customer = await create_customer(server.runtime)
    package = await grant(server, customer.account_id, 10)
    payload = {"to": TO, "from": "Anything", "body": THREE}
    response = await api.post("/messages/send", json=payload, headers=customer.test)
    assert response.status_code == 201 and response.json()["data"]["mode"] == "test"
    assert await balance_of(api, customer) == (10.0, 10)
    assert (await packages_of(api, customer))[package]["used_sms"] == 0


async def test_short_of_money_is_402_and_takes_nothing(api, server):
    customer = await create_customer(server.runtime, balance="0")
    package = await grant(server, customer.account_id, 2)
    refused = await send(api, customer, THREE)  # 2 segments from the package, 1 unpaid
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "insufficient_balance"
    assert (await packages_of(api, customer))[package]["used_sms"] == 0
    listed = await api.get("/messages", headers=customer.live)
    assert listed.json()["pagination"]["total_items"] == 0
    assert (await send(api, customer, "y" * 200)).json()["data"]["cost"] == 0.0  # 2 segments
    assert await balance_of(api, customer) == (0.0, 0)


async def test_a_failed_send_gives_back_sms_and_money(api, server):
    customer = await create_customer(server.runtime)
    package = await grant(server, customer.account_id, 2)
    message = (await send(api, customer, THREE, to="+15005550001")).json()["data"]
    assert message["status"] == "failed" and message["cost"] == PRICE
    assert await balance_of(api, customer) == (10.0, 2)
    assert (await packages_of(api, customer))[package]["used_sms"] == 0


async def test_an_undelivered_message_stays_paid_in_sms_as_in_money(api, server):
    """Refunds follow API.md §6 (failed, cancelled, expired): a carrier's non-delivery is not."""
    customer = await create_customer(server.runtime)
    await grant(server, customer.account_id, 2)
    message = (await send(api, customer, THREE, to="+15005550007")).json()["data"]
    await wait_for_status(api, customer, message["id"], "undelivered")
    assert await balance_of(api, customer) == (9.95, 0)


async def test_a_cancel_gives_each_package_back_its_own_sms(api, server):
    customer = await create_customer(server.runtime)
    sooner = await grant(server, customer.account_id, 1, days=5)
    later = await grant(server, customer.account_id, 5, days=50)
    await send(api, customer, THREE)  # sooner 1, later 2
    scheduled = (await send(api, customer, THREE, send_at="2099-01-01T00:00:00Z")).json()["data"]
    assert scheduled["cost"] == 0.0  # later 3
    listed = await packages_of(api, customer)
    assert listed[sooner]["used_sms"] == 1 and listed[later]["used_sms"] == 5
    cancelled = await api.post(f"/messages/{scheduled['id']}/cancel", headers=customer.live)
    assert cancelled.json()["data"]["status"] == "cancelled"
    listed = await packages_of(api, customer)
    assert listed[sooner]["used_sms"] == 1 and listed[later]["used_sms"] == 2
    assert await balance_of(api, customer) == (10.0, 3)


async def test_an_expired_message_gives_back_sms_and_money(api, server):
    customer = await create_customer(server.runtime)
    await grant(server, customer.account_id, 1)
    queued = (await send(api, customer, "z" * 200, to="+15005550003")).json()["data"]
    assert queued["status"] == "queued" and queued["cost"] == PRICE
    async with session_scope(server.runtime.database, write=True) as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(
            update(Message).where(Message.id == queued["id"]).values(expire_at=past)
        )
    await wait_for_status(api, customer, queued["id"], "expired")
    assert await balance_of(api, customer) == (10.0, 1)


async def test_the_scheduled_event_shows_the_cost_after_packages(api, server):
    customer = await create_customer(server.runtime)
    await grant(server, customer.account_id, 1)
    scheduled = (await send(api, customer, send_at="2099-01-01T00:00:00Z")).json()["data"]
    async with session_scope(server.runtime.database, write=False) as session:
        payload = await session.scalar(
            select(Event.payload).where(Event.message_id == scheduled["id"])
        )
    event = orjson.loads(payload)
    assert event["type"] == "message.scheduled" and event["data"]["cost"] == 0.0


@pytest.fixture
async def second_server(database_url):
    """Another process's writer on the same database (its own connection and transactions)."""
    live = await conftest.start_server(conftest.test_settings(database_url), run_worker=False)
    async with httpx.AsyncClient(base_url=live.url + "/api/v1", timeout=30) as client:
        yield client
    await conftest.stop_server(live)


async def test_racing_sends_spend_the_package_exactly(api, server, second_server):
    customer = await create_customer(server.runtime, balance="0.10")  # 2 segments of money
    package = await grant(server, customer.account_id, 10)
    payload = {"to": TO, "from": "LynSMS", "body": THREE}
    clients = (api, second_server)
    responses = await asyncio.gather(
        *(
            clients[i % 2].post("/messages/send", json=payload, headers=customer.live)
            for i in range(24)
        )
    )
    accepted = [r.json()["data"]["cost"] for r in responses if r.status_code == 201]
    refused = [r.json()["error"]["code"] for r in responses if r.status_code != 201]
    # 10 SMS cover three messages and one segment of a fourth, whose other two take the money.
    assert sorted(accepted) == [0.0, 0.0, 0.0, 0.1]
    assert refused == ["insufficient_balance"] * 20
    listed = (await packages_of(api, customer))[package]
    assert listed["used_sms"] == 10 and listed["remaining_sms"] == 0
    assert await balance_of(api, customer) == (0.0, 0)


async def test_racing_single_segments_take_n_from_the_package_then_money(
    api, server, second_server
):
    customer = await create_customer(server.runtime, balance="0.25")  # 5 sends of money
    package = await grant(server, customer.account_id, 7)
    clients = (api, second_server)
    payload = {"to": TO, "from": "LynSMS", "body": ONE}
    responses = await asyncio.gather(
        *(
            clients[i % 2].post("/messages/send", json=payload, headers=customer.live)
            for i in range(40)
        )
    )
    costs = sorted(r.json()["data"]["cost"] for r in responses if r.status_code == 201)
    assert costs == [0.0] * 7 + [PRICE] * 5
    assert [r.status_code for r in responses].count(402) == 28
    assert (await packages_of(api, customer))[package]["used_sms"] == 7
    assert await balance_of(api, customer) == (0.0, 0)


async def test_packages_list_shape_pages_and_scope(api, server):
    customer = await create_customer(server.runtime)
    other = await create_customer(server.runtime)
    await grant(server, other.account_id, 50)
    ids = [await grant(server, customer.account_id, 10 * (n + 1), name=f"P{n}") for n in range(3)]
    first = (await api.get("/packages?limit=2", headers=customer.live)).json()
    assert first["pagination"]["total_items"] == 3 and first["pagination"]["has_next"] is True
    assert [p["id"] for p in first["data"]] == [ids[2], ids[1]]  # newest first
    package = first["data"][0]
    assert set(package) == {
        "id",
        "object",
        "name",
        "total_sms",
        "used_sms",
        "remaining_sms",
        "expire_date",
        "expired",
        "created_at",
    }
    assert package["object"] == "package" and package["id"].startswith("pkg_")
    assert (package["name"], package["total_sms"], package["used_sms"]) == ("P2", 30, 0)
    assert package["expire_date"].endswith("+00:00") and package["expired"] is False
    second = (await api.get("/packages?page=2&limit=2", headers=customer.live)).json()
    assert [p["id"] for p in second["data"]] == [ids[0]]
    assert await balance_of(api, customer) == (10.0, 60)
    raw = await create_key(server.runtime, customer.account_id, scopes=["messages:send"])
    denied = await api.get("/packages", headers={"Authorization": f"Bearer {raw}"})
    assert denied.status_code == 403 and denied.json()["error"]["required_scope"] == "billing:read"
