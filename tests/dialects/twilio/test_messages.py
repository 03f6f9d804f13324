"""Twilio's own client against the Twilio-compatible API: create, fetch, list, cancel,
delete, and the same messages seen through the native API."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from lynsms.dialects.twilio.sids import sid_of
from tests.dialects.twilio.conftest import call, twilio_client
from tests.factories import approve_sender

SID = re.compile(r"^SM[0-9a-f]{32}$")
SILENT = "+15005550008"  # the simulator sends, then never reports: stays sent


TO = "+12025550143"  # every test has an account of its own: its lists hold its messages


async def native_message(native: httpx.AsyncClient, key: str, sid: str) -> dict[str, Any]:
    """The native view of the message a SID stands for."""
    listed = await native.get(
        "/messages", params={"limit": 100}, headers={"Authorization": f"Bearer {key}"}
    )
    (found,) = [m for m in listed.json()["data"] if sid_of(m["id"]) == sid]
    response = await native.get(f"/messages/{found['id']}", headers=_bearer(key))
    assert response.status_code == 200, response.text
    message: dict[str, Any] = response.json()["data"]
    return message


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def settled(twilio: Client, sid: str, status: str) -> Any:
    for _ in range(100):
        message = await call(twilio.messages(sid).fetch)
        if message.status == status:
            return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"{sid} is {message.status}, not {status}")


async def test_create_answers_twilio_message_resource(twilio, customer, native):
    to = TO
    message = await call(twilio.messages.create, to=to, from_="LynSMS", body="Hello from Twilio")
    assert SID.match(message.sid)
    assert message.account_sid == customer.account_id
    assert (message.to, message.from_, message.body) == (to, "LynSMS", "Hello from Twilio")
    assert message.status in ("queued", "sent")
    assert message.direction == "outbound-api"
    assert (message.num_segments, message.num_media) == ("1", "0")
    assert (message.price, message.price_unit) == ("-0.0500", "USD")
    assert message.error_code is None and message.error_message is None
    assert message.api_version == "2010-04-01"
    assert isinstance(message.date_created, datetime)
    assert message.date_created.tzinfo is not None
    base = f"/2010-04-01/Accounts/{customer.account_id}/Messages/{message.sid}"
    assert message.uri == base + ".json"
    assert message.subresource_uris == {"media": base + "/Media.json"}
    delivered = await settled(twilio, message.sid, "delivered")
    same = await native_message(native, customer.live_key, message.sid)
    assert same["status"] == "delivered" and same["cost"] == 0.05
    assert Decimal(delivered.price) == -Decimal(str(same["cost"]))
    assert same["to"] == to and same["from"] == "LynSMS"
    events = await native.get(
        "/events", params={"message_id": same["id"]}, headers=_bearer(customer.live_key)
    )
    assert [e["type"] for e in events.json()["data"]] == ["message.delivered", "message.sent"]


async def test_native_message_is_visible_through_twilio(twilio, customer, native):
    to = TO
    sent = await native.post(
        "/messages/send",
        json={"to": to, "from": "LynSMS", "body": "native"},
        headers=customer.live,
    )
    native_id = sent.json()["data"]["id"]
    message = await call(twilio.messages(sid_of(native_id)).fetch)
    assert (message.body, message.to, message.price) == ("native", to, "-0.0500")
    listed = await call(twilio.messages.list, to=to)
    assert [m.sid for m in listed] == [sid_of(native_id)]


async def test_test_key_sends_in_the_sandbox_and_sees_only_it(twilio_server, twilio, customer):
    sandbox = twilio_client(twilio_server, customer.account_id, customer.test_key)
    message = await call(sandbox.messages.create, to=TO, from_="Any", body="hi")  # any sender
    assert message.status in ("queued", "sent")
    await settled(sandbox, message.sid, "delivered")
    live = await call(twilio.messages.create, to=TO, from_="LynSMS", body="live")
    assert [m.sid for m in await call(sandbox.messages.list)] == [message.sid]
    assert [m.sid for m in await call(twilio.messages.list)] == [live.sid]
    with pytest.raises(TwilioRestException) as hidden:
        await call(twilio.messages(message.sid).fetch)
    assert hidden.value.code == 20404


async def test_list_pages_newest_first_with_twilio_paging(twilio, customer):
    to = TO
    sids = []
    for n in range(7):
        message = await call(twilio.messages.create, to=to, from_="LynSMS", body=f"n{n}")
        sids.append(message.sid)
    newest_first = list(reversed(sids))
    listed = await call(twilio.messages.list, to=to, page_size=3)
    assert [m.sid for m in listed] == newest_first
    assert [m.sid for m in await call(twilio.messages.list, to=to, limit=5)] == newest_first[:5]
    page = await call(twilio.messages.page, to=to, page_size=3)
    first = page._payload
    assert (first["page"], first["page_size"], first["start"], first["end"]) == (0, 3, 0, 2)
    assert first["previous_page_uri"] is None
    assert "PageToken=PA" in first["next_page_uri"] and "Page=1" in first["next_page_uri"]
    second = await call(page.next_page)
    assert [m.sid for m in second] == newest_first[3:6]
    assert second._payload["start"] == 3
    back = await call(second.previous_page)
    assert [m.sid for m in back] == newest_first[:3]
    last = await call(second.next_page)
    assert [m.sid for m in last] == newest_first[6:]
    assert last._payload["next_page_uri"] is None
    assert await call(last.next_page) is None
    by_page = await call(twilio.messages.page, to=to, page_size=3, page_number=2)
    assert [m.sid for m in by_page] == newest_first[6:]


async def test_list_filters_on_from_and_date_sent(twilio_server, twilio, customer):
    await approve_sender(twilio_server.runtime, customer.account_id, "Other")
    one = await call(twilio.messages.create, to=TO, from_="Other", body="a")
    two = await call(twilio.messages.create, to=TO, from_="LynSMS", body="b")
    await settled(twilio, two.sid, "delivered")
    other = await call(twilio.messages.list, from_="Other")
    assert [m.sid for m in other] == [one.sid]
    today = datetime.now(UTC).date()
    on_day = await call(twilio.messages.list, to=TO, date_sent=today)
    assert {m.sid for m in on_day} == {one.sid, two.sid}
    assert await call(twilio.messages.list, date_sent=today + timedelta(days=1)) == []
    assert await call(twilio.messages.list, date_sent_before=today - timedelta(days=1)) == []
    soon = datetime.now(UTC) + timedelta(minutes=1)
    assert len(await call(twilio.messages.list, date_sent_before=soon)) == 2
    later = datetime.now(UTC) + timedelta(hours=1)
    assert await call(twilio.messages.list, date_sent_after=later) == []


async def test_cancel_a_scheduled_message(twilio, customer, native):
    send_at = datetime.now(UTC) + timedelta(hours=2)
    message = await call(
        twilio.messages.create,
        to=TO,
        from_="LynSMS",
        body="later",
        send_at=send_at,
        schedule_type="fixed",
    )
    assert message.status == "scheduled"
    balance = await native.get("/balance", headers=customer.live)
    assert balance.json()["data"]["balance"] == 9.95
    canceled = await call(twilio.messages(message.sid).update, status="canceled")
    assert (canceled.sid, canceled.status) == (message.sid, "canceled")
    same = await native_message(native, customer.live_key, message.sid)
    assert same["status"] == "cancelled"
    assert same["send_at"].startswith(send_at.strftime("%Y-%m-%dT%H:%M:%S"))
    balance = await native.get("/balance", headers=customer.live)
    assert balance.json()["data"]["balance"] == 10.0
    with pytest.raises(TwilioRestException) as refused:
        await call(twilio.messages(message.sid).update, status="canceled")
    assert (refused.value.status, refused.value.code) == (400, 30409)


async def test_delete_removes_a_final_message_from_every_view(twilio, customer, native):
    message = await call(twilio.messages.create, to=TO, from_="LynSMS", body="x")
    native_id = (await native_message(native, customer.live_key, message.sid))["id"]
    await settled(twilio, message.sid, "delivered")
    assert await call(twilio.messages(message.sid).delete) is True
    with pytest.raises(TwilioRestException) as gone:
        await call(twilio.messages(message.sid).fetch)
    assert (gone.value.status, gone.value.code) == (404, 20404)
    response = await native.get(f"/messages/{native_id}", headers=customer.live)
    assert response.status_code == 404
    with pytest.raises(TwilioRestException) as again:
        await call(twilio.messages(message.sid).delete)
    assert again.value.code == 20404


async def test_delete_refuses_a_message_in_progress(twilio):
    scheduled = await call(
        twilio.messages.create,
        to=TO,
        from_="LynSMS",
        body="later",
        send_at=datetime.now(UTC) + timedelta(hours=1),
        schedule_type="fixed",
    )
    silent = await call(twilio.messages.create, to=SILENT, from_="LynSMS", body="x")
    for sid in (scheduled.sid, silent.sid):
        with pytest.raises(TwilioRestException) as refused:
            await call(twilio.messages(sid).delete)
        assert (refused.value.status, refused.value.code) == (409, 20009)
        assert (await call(twilio.messages(sid).fetch)).sid == sid


async def test_an_sms_has_no_media(twilio):
    message = await call(twilio.messages.create, to=TO, from_="LynSMS", body="x")
    assert message.num_media == "0"
    assert await call(twilio.messages(message.sid).media.list) == []


async def test_media_url_sends_an_mms_with_its_media(twilio, customer, native):
    urls = ["https://example.com/ticket.png", "https://example.com/map.jpg"]

    message = await call(twilio.messages.create, to=TO, from_="LynSMS", media_url=urls)

    assert (message.num_media, message.body, message.num_segments) == ("2", "", "1")
    media = await call(twilio.messages(message.sid).media.list)
    assert [m.content_type for m in media] == ["image/png", "image/jpeg"]
    assert all(m.parent_sid == message.sid and m.sid.startswith("ME") for m in media)
    assert len({m.sid for m in media}) == 2
    same = await native_message(native, customer.live_key, message.sid)
    assert (same["type"], same["media_urls"]) == ("mms", urls)
