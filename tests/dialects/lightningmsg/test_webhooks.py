"""``format: "lightningmsg"`` endpoints: seed 003's body for sms.sent and sms.cancelled,
the endpoint's custom headers and the Standard Webhooks signature, for messages of
the account whichever API sent them (API.md §11, §12)."""

from __future__ import annotations

import asyncio
import re

from standardwebhooks import Webhook

from tests.dialects.lightningmsg.conftest import Client

MOBILE = "+40123456789"


async def test_sent_and_cancelled_in_lightningmsg_format(lmsg: Client, native, lmsg_receiver):
    hook = lmsg_receiver.hook()
    created = await native.post(
        "/webhooks/create",
        json={"url": hook.url, "format": "lightningmsg", "headers": {"X-Shared-Token": "s3cret"}},
        headers=lmsg.customer.live,
    )
    assert created.status_code == 201, created.text
    secret = created.json()["data"]["secret"]

    sent = await lmsg.form(
        "send", {"secret_code": lmsg.secret_code, "mobile": MOBILE, "message": "hi"}
    )
    sent_id = sent.json()["sms_data"]["sms_id"]
    (first,) = await hook.wait_for(1)
    assert set(first) == {"sms_id", "status", "timestamp"}
    assert (first["sms_id"], first["status"]) == (sent_id, "sent")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["timestamp"])
    assert hook.headers[0]["x-shared-token"] == "s3cret"
    assert Webhook(secret).verify(hook.raw[0], hook.headers[0])["sms_id"] == sent_id

    scheduled = await lmsg.json(
        "send",
        {
            "secret_code": lmsg.secret_code,
            "mobile": MOBILE,
            "message": "later",
            "send_date": "2099-01-01 00:00:00",
        },
    )
    later_id = scheduled.json()["sms_data"]["sms_id"]
    cancelled = await lmsg.form(f"cancel/{later_id}", {"secret_code": lmsg.secret_code})
    assert cancelled.status_code == 200
    received = await hook.wait_for(2)
    assert (received[1]["sms_id"], received[1]["status"]) == (later_id, "cancelled")

    # A message sent through the native API reaches the same endpoint, in the same format.
    native_sent = await native.post(
        "/messages/send",
        json={"to": MOBILE, "from": "LynSMS", "body": "native"},
        headers=lmsg.customer.live,
    )
    native_id = native_sent.json()["data"]["id"]
    received = await hook.wait_for(3)
    assert (received[2]["sms_id"], received[2]["status"]) == (native_id, "sent")
    await asyncio.sleep(0.5)  # delivered events are not sent to a lightningmsg endpoint
    assert len(hook.received) == 3

    # get_status agrees with the webhook once the message is sent.
    status = await lmsg.form(f"get_status/{sent_id}", {"secret_code": lmsg.secret_code})
    assert status.json()["sms_data"]["status"] == "sent"
    assert status.json()["sms_data"]["is_sent"] == "1"
