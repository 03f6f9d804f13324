"""StatusCallbacks: Twilio's form fields, signed so that Twilio's own ``RequestValidator``
accepts them, one per later status change, retried through the webhook machinery."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from twilio.request_validator import RequestValidator

from tests.dialects.twilio.conftest import Callback, Target, call, twilio_client

TO = "+12025550143"
UNDELIVERABLE = "+15005550007"  # the simulator reports undelivered, carrier error 30003
SILENT = "+15005550008"  # the simulator never reports: the message stays sent


def by_status(received: list[Callback]) -> dict[str, Callback]:
    return {callback.params["MessageStatus"]: callback for callback in received}


def assert_signed(target: Target, token: str) -> None:
    validator, impostor = RequestValidator(token), RequestValidator("ds_live_someone_else")
    for callback in target.received:
        signature = callback.headers["x-twilio-signature"]
        assert validator.validate(target.url, callback.params, signature)
        assert not impostor.validate(target.url, callback.params, signature)


async def test_status_changes_are_posted_signed_twilio_style(twilio, customer, callback_receiver):
    target = callback_receiver.target(query="?order=1842&shop=north")
    await call(twilio.messages.create, to=TO, from_="LynSMS", body="no callback")
    message = await call(
        twilio.messages.create, to=TO, from_="LynSMS", body="hi", status_callback=target.url
    )
    received = await target.wait_for(2)
    assert_signed(target, customer.live_key)
    statuses = by_status(received)
    assert set(statuses) == {"sent", "delivered"}
    for status, callback in statuses.items():
        assert callback.params == {
            "AccountSid": customer.account_id,
            "ApiVersion": "2010-04-01",
            "From": "LynSMS",
            "MessageSid": message.sid,
            "MessageStatus": status,
            "SmsSid": message.sid,
            "SmsStatus": status,
            "To": TO,
            **(
                {"RawDlrDoneDate": callback.params["RawDlrDoneDate"]}
                if status == "delivered"
                else {}
            ),
        }
        assert callback.headers["content-type"] == "application/x-www-form-urlencoded"
    assert re.fullmatch(r"\d{10}", statuses["delivered"].params["RawDlrDoneDate"])
    tokens = {c.headers["i-twilio-idempotency-token"] for c in received}
    assert len(tokens) == 2 and all(t.startswith("evt_") for t in tokens)
    await asyncio.sleep(0.5)
    assert len(target.received) == 2  # nothing for the message sent without a callback


async def test_undelivered_carries_the_error_code(twilio_server, customer, callback_receiver):
    sandbox = twilio_client(twilio_server, customer.account_id, customer.test_key)
    target = callback_receiver.target()
    message = await call(
        sandbox.messages.create,
        to=UNDELIVERABLE,
        from_="LynSMS",
        body="x",
        status_callback=target.url,
    )
    received = await target.wait_for(2)
    assert_signed(target, customer.test_key)  # the key the message was sent with
    undelivered = by_status(received)["undelivered"]
    assert undelivered.params["ErrorCode"] == "30003"
    fetched = await call(sandbox.messages(message.sid).fetch)
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)


async def test_cancelling_posts_canceled(twilio, customer, callback_receiver):
    target = callback_receiver.target()
    message = await call(
        twilio.messages.create,
        to=TO,
        from_="LynSMS",
        body="later",
        send_at=datetime.now(UTC) + timedelta(hours=1),
        schedule_type="fixed",
        status_callback=target.url,
    )
    await call(twilio.messages(message.sid).update, status="canceled")
    (callback,) = await target.wait_for(1)
    assert callback.params["MessageStatus"] == "canceled"
    assert callback.params["MessageSid"] == message.sid
    assert_signed(target, customer.live_key)


async def test_a_failing_callback_is_retried_and_recorded(
    twilio, customer, native, callback_receiver
):
    target = callback_receiver.target(500, 503)
    message = await call(
        twilio.messages.create, to=SILENT, from_="LynSMS", body="x", status_callback=target.url
    )
    received = await target.wait_for(3)
    assert [c.params["MessageStatus"] for c in received] == ["sent"] * 3
    assert len({c.headers["i-twilio-idempotency-token"] for c in received}) == 1
    assert_signed(target, customer.live_key)
    listed = await native.get("/messages", headers=customer.live)
    (native_id,) = [m["id"] for m in listed.json()["data"] if m["to"] == SILENT]
    events = await native.get("/events", params={"message_id": native_id}, headers=customer.live)
    (event,) = events.json()["data"]
    assert event["id"] == received[0].headers["i-twilio-idempotency-token"]
    for _ in range(100):
        detail = (await native.get(f"/events/{event['id']}", headers=customer.live)).json()
        (delivery,) = detail["data"]["deliveries"]
        if delivery["status"] != "pending":
            break
        await asyncio.sleep(0.05)
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    hooks = await native.get("/webhooks", headers=customer.live)
    assert hooks.json()["data"] == []  # the endpoint that carries callbacks is not listed
    gone = await native.delete(f"/webhooks/{delivery['webhook_id']}", headers=customer.live)
    assert gone.status_code == 404
    assert message.sid == received[0].params["MessageSid"]
