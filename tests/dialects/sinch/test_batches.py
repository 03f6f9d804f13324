"""Sinch's own client against the Sinch-compatible API: send, dry run, list, get, cancel,
delivery reports, inbounds, and the same messages seen through the native API."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sinch import SinchClient

from lynsms.database import session_scope
from lynsms.messages.inbound import receive
from lynsms.providers.base import InboundSms
from tests.conftest import LiveServer
from tests.dialects.sinch.conftest import call, sinch_client
from tests.factories import Customer, approve_sender

TO, TO2 = "+12025550143", "+12025550144"
UNDELIVERABLE, INVALID, SILENT = "+15005550007", "+15005550001", "+15005550008"


def own_number() -> str:
    """A long code no other test's account owns (inbound messages find their account by it)."""
    return f"+1202{random.randrange(10**6, 10**7)}"


async def native_messages(native: httpx.AsyncClient, key: str) -> list[dict[str, Any]]:
    listed = await native.get(
        "/messages", params={"limit": 100}, headers={"Authorization": f"Bearer {key}"}
    )
    assert listed.status_code == 200, listed.text
    messages: list[dict[str, Any]] = listed.json()["data"]
    return messages


async def balance(native: httpx.AsyncClient, customer: Customer) -> float:
    response = await native.get("/balance", headers=customer.live)
    value: float = response.json()["data"]["balance"]
    return value


async def settled(native: httpx.AsyncClient, key: str, count: int) -> list[dict[str, Any]]:
    """The account's messages once ``count`` of them are final."""
    for _ in range(200):
        messages = await native_messages(native, key)
        final = [m for m in messages if m["status"] not in ("queued", "scheduled", "sent")]
        if len(final) >= count:
            return messages
        await asyncio.sleep(0.05)
    raise AssertionError(f"not {count} final messages: {messages}")


async def test_send_answers_the_batch_and_sends_each_recipient_its_body(sinch, customer, native):
    before = await balance(native, customer)
    batch = await call(
        sinch.sms.batches.send_sms,
        to=[TO, "0012025550144", "+1 (202) 555-0143"],  # the third is the first again
        from_="LynSMS",
        body="Hello ${name}, code ${code}",
        parameters={"name": {"12025550143": "Ann", "default": "friend"}},
        client_reference="order-1",
    )
    assert batch.id.startswith("blk_")
    assert batch.to == ["12025550143", "12025550144"]  # no "+", deduplicated
    assert (batch.from_, batch.body, batch.type) == (
        "LynSMS",
        "Hello ${name}, code ${code}",
        "mt_text",
    )
    assert batch.canceled is False and batch.delivery_report == "none"
    assert batch.client_reference == "order-1"
    assert batch.parameters == {"name": {"12025550143": "Ann", "default": "friend"}}
    assert batch.expire_at - batch.created_at >= timedelta(days=3) - timedelta(seconds=5)

    messages = {m["to"]: m for m in await native_messages(native, customer.live_key)}
    assert messages[TO]["body"] == "Hello Ann, code ${code}"  # no value, no default: kept
    assert messages[TO2]["body"] == "Hello friend, code ${code}"
    assert {m["reference"] for m in messages.values()} == {"order-1"}
    charged = sum(m["cost"] for m in messages.values())
    assert charged > 0 and round(before - await balance(native, customer), 4) == round(charged, 4)

    fetched = await call(sinch.sms.batches.get, batch.id)
    assert fetched.model_dump() == batch.model_dump()


async def test_send_answers_exact_json_shapes(xms, customer):
    response = await xms.post(
        f"/{customer.account_id}/batches",
        json={"to": ["12025550143"], "from": "12025550100", "body": "Hi"},
        headers=customer.live,
    )
    assert response.status_code == 403  # the long number is no approved sender
    assert response.json()["code"] == "sender_not_approved"
    response = await xms.post(
        f"/{customer.account_id}/batches",
        json={
            "to": ["12025550143"],
            "from": "LynSMS",
            "body": "Hi",
            "send_at": "2030-01-01T10:00:00+02:00",
        },
        headers=customer.live,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["send_at"] == "2030-01-01T08:00:00.000Z"
    assert body["expire_at"] == "2030-01-04T08:00:00.000Z"
    assert body["created_at"].endswith("Z") and body["type"] == "mt_text"
    assert "callback_url" not in body  # nulls are omitted


async def test_dry_run_counts_parts_and_encoding_without_sending(sinch, customer, native):
    before = await balance(native, customer)
    result = await call(
        sinch.sms.batches.dry_run_sms,
        to=[TO, TO2, "12025550145"],
        from_="LynSMS",
        body="${greeting} " + "x" * 160,
        parameters={"greeting": {TO2: "Привет", "default": "Hi"}},
        per_recipient=True,
        number_of_recipients=2,
    )
    assert (result.number_of_recipients, result.number_of_messages) == (3, 2 + 3 + 2)
    first, second = result.per_recipient
    assert (first.recipient, first.number_of_parts, first.encoding) == ("12025550143", 2, "text")
    assert first.body == "Hi " + "x" * 160
    assert (second.recipient, second.number_of_parts, second.encoding) == (
        "12025550144",
        3,
        "unicode",
    )
    assert await native_messages(native, customer.live_key) == []
    assert await balance(native, customer) == before
    summary = await call(sinch.sms.batches.dry_run_sms, to=[TO], from_="LynSMS", body="Hi")
    assert (summary.number_of_messages, summary.per_recipient) == (1, None)


async def test_list_pages_newest_first_with_filters(sinch, customer):
    sent = []
    for number in range(3):
        reference = "odd" if number % 2 else "even"
        sent.append(
            await call(
                sinch.sms.batches.send_sms,
                to=[TO],
                from_="LynSMS",
                body=f"n{number}",
                client_reference=reference,
            )
        )
    page = await call(sinch.sms.batches.list, page_size=2)
    assert [b.id for b in page.content()] == [sent[2].id, sent[1].id]
    assert (page.result.count, page.result.page, page.result.page_size) == (3, 0, 2)
    following = await call(page.next_page)
    assert following is not None
    assert [b.id for b in following.content()] == [sent[0].id]
    assert await call(following.next_page) is None
    even = await call(sinch.sms.batches.list, client_reference="even")
    assert [b.id for b in even.content()] == [sent[2].id, sent[0].id]
    later = await call(sinch.sms.batches.list, start_date=datetime.now(UTC) + timedelta(minutes=1))
    assert later.content() == []


async def test_cancel_a_scheduled_batch_refunds_it(sinch, customer, native):
    before = await balance(native, customer)
    batch = await call(
        sinch.sms.batches.send_sms,
        to=[TO, TO2],
        from_="LynSMS",
        body="Later",
        send_at=datetime.now(UTC) + timedelta(hours=1),
    )
    assert await balance(native, customer) < before
    assert {m["status"] for m in await native_messages(native, customer.live_key)} == {"scheduled"}
    cancelled = await call(sinch.sms.batches.cancel, batch.id)
    assert cancelled.canceled is True and cancelled.id == batch.id
    messages = await native_messages(native, customer.live_key)
    assert {m["status"] for m in messages} == {"cancelled"}
    assert await balance(native, customer) == before
    report = await call(sinch.sms.delivery_reports.get, batch.id)
    assert (report.statuses, report.total_message_count) == ([], 2)  # §12: empty
    assert (await call(sinch.sms.batches.get, batch.id)).canceled is True


async def test_delivery_reports_map_our_statuses_to_sinch(sinch, customer, native):
    batch = await call(
        sinch.sms.batches.send_sms,
        to=[TO, TO2, UNDELIVERABLE, INVALID, SILENT],
        from_="LynSMS",
        body="Status",
        client_reference="dr",
    )
    messages = {m["to"]: m for m in await settled(native, customer.live_key, 4)}
    assert messages[UNDELIVERABLE]["status"] == "undelivered"
    report = await call(sinch.sms.delivery_reports.get, batch.id, report_type="full")
    assert report.batch_id == batch.id and report.total_message_count == 5
    assert report.client_reference == "dr"
    found = {(s.status, s.code): (s.count, sorted(s.recipients)) for s in report.statuses}
    assert found == {
        ("Delivered", 0): (2, ["12025550143", "12025550144"]),
        ("Dispatched", 401): (1, ["15005550008"]),
        ("Failed", 30003): (1, ["15005550007"]),
        ("Rejected", 408): (1, ["15005550001"]),
    }
    summary = await call(sinch.sms.delivery_reports.get, batch.id)
    assert all(not s.recipients for s in summary.statuses)
    only = await call(
        sinch.sms.delivery_reports.get, batch.id, status=["Delivered", "Rejected"], code=[0]
    )
    assert [(s.status, s.count) for s in only.statuses] == [("Delivered", 2)]

    one = await call(sinch.sms.delivery_reports.get_for_number, batch.id, "+15005550007")
    assert (one.recipient, one.status, one.code) == ("15005550007", "Failed", 30003)
    assert (one.batch_id, one.applied_originator, one.client_reference) == (
        batch.id,
        "LynSMS",
        "dr",
    )
    assert one.encoding == "GSM" and one.number_of_message_parts == 1
    assert one.operator_status_at is not None
    dispatched = await call(sinch.sms.delivery_reports.get_for_number, batch.id, "15005550008")
    assert (dispatched.status, dispatched.code) == ("Dispatched", 401)
    assert dispatched.operator_status_at is None


async def test_opted_out_recipient_is_rejected_and_not_charged(
    sinch_server: LiveServer, sinch: SinchClient, customer: Customer, native: httpx.AsyncClient, xms
):
    number = own_number()
    await approve_sender(sinch_server.runtime, customer.account_id, number)
    async with session_scope(sinch_server.runtime.database, write=True) as session:
        await receive(session, "simulator", [InboundSms(TO2, number, "STOP", uuid.uuid4().hex)])
    batch = await call(sinch.sms.batches.send_sms, to=[TO, TO2], from_="LynSMS", body="Hi")
    assert [
        m["to"]
        for m in await native_messages(native, customer.live_key)
        if m["direction"] == "outbound"
    ] == [TO]
    report = await call(sinch.sms.delivery_reports.get_for_number, batch.id, TO2)
    assert (report.status, report.code) == ("Rejected", 408)


async def test_inbounds_list_the_accounts_received_messages(sinch_server, sinch, customer):
    number = own_number()
    await approve_sender(sinch_server.runtime, customer.account_id, number)
    async with session_scope(sinch_server.runtime.database, write=True) as session:
        for sender, text in ((TO, "Hi there"), (TO2, "Yo")):
            await receive(
                session, "simulator", [InboundSms(sender, number, text, uuid.uuid4().hex)]
            )
    page = await call(sinch.sms.inbounds.list)
    inbounds = page.content()
    assert [(i.from_, i.to, i.body) for i in inbounds] == [
        ("12025550144", number[1:], "Yo"),
        ("12025550143", number[1:], "Hi there"),
    ]
    assert inbounds[0].type == "mo_text"
    one = await call(sinch.sms.inbounds.get, inbounds[1].id)
    assert one.body == "Hi there"
    test_key = sinch_client(sinch_server, customer.account_id, customer.test_key)
    assert (await call(test_key.sms.inbounds.list)).content() == []


async def test_keys_see_the_batches_of_their_own_mode(sinch_server, sinch, customer, native):
    live = await call(sinch.sms.batches.send_sms, to=[TO], from_="LynSMS", body="live")
    sandbox = sinch_client(sinch_server, customer.account_id, customer.test_key)
    test = await call(sandbox.sms.batches.send_sms, to=[TO], from_="LynSMS", body="test")
    assert [b.id for b in (await call(sandbox.sms.batches.list)).content()] == [test.id]
    assert [b.id for b in (await call(sinch.sms.batches.list)).content()] == [live.id]
    tested = await native_messages(native, customer.test_key)
    assert [(m["body"], m["mode"]) for m in tested] == [("test", "test")]
