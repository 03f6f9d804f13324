"""Delivery reports POSTed to a batch's callback_url, in Sinch's own shapes, through the
webhook machinery (retried on its schedule)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from sinch.domains.sms.sinch_events.v1.sms_sinch_event import SmsSinchEvent

from tests.dialects.sinch.conftest import call

TO, TO2 = "+12025550143", "+12025550144"
UNDELIVERABLE = "+15005550007"
SINCH_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_per_recipient_reports_every_change(sinch, sinch_receiver, native, customer):
    target = sinch_receiver.target()
    batch = await call(
        sinch.sms.batches.send_sms,
        to=[TO, UNDELIVERABLE],
        from_="LynSMS",
        body="Hi",
        delivery_report="per_recipient",
        callback_url=target.url,
        client_reference="ref-7",
    )
    received = await target.wait_for(4)
    await asyncio.sleep(0.3)
    assert len(target.received) == 4  # Dispatched and a final report, for each recipient
    by_recipient: dict[str, list[tuple[str, int]]] = {}
    for report in received:
        assert report["type"] == "recipient_delivery_report_sms"
        assert (report["batch_id"], report["client_reference"]) == (batch.id, "ref-7")
        assert report["applied_originator"] == "LynSMS" and report["encoding"] == "GSM"
        assert SINCH_TIME.match(report["at"])
        by_recipient.setdefault(report["recipient"], []).append((report["status"], report["code"]))
    assert by_recipient == {
        "12025550143": [("Dispatched", 401), ("Delivered", 0)],
        "15005550007": [("Dispatched", 401), ("Failed", 30003)],
    }
    assert target.headers[0]["content-type"] == "application/json"
    parsed = [SmsSinchEvent().parse_event(dict(report)) for report in received]  # Sinch's parser
    assert {(p.recipient, p.status, p.code) for p in parsed} >= {("12025550143", "Delivered", 0)}
    hooks = await native.get("/webhooks", headers=customer.live)
    assert hooks.json()["data"] == []  # the hidden endpoint that carried them is not listed


async def test_full_report_once_every_message_is_final_and_retried(sinch, sinch_receiver):
    target = sinch_receiver.target(500)  # the first attempt fails: retried
    batch = await call(
        sinch.sms.batches.send_sms,
        to=[TO, TO2, UNDELIVERABLE],
        from_="LynSMS",
        body="Hi",
        delivery_report="full",
        callback_url=target.url,
    )
    (report,) = await target.wait_for(1)
    await asyncio.sleep(0.5)
    assert len(target.received) == 1  # one batch report, not one per message
    assert report["type"] == "delivery_report_sms"
    assert (report["batch_id"], report["total_message_count"]) == (batch.id, 3)
    statuses = {
        (s["status"], s["code"]): (s["count"], sorted(s["recipients"])) for s in report["statuses"]
    }
    assert statuses == {
        ("Delivered", 0): (2, ["12025550143", "12025550144"]),
        ("Failed", 30003): (1, ["15005550007"]),
    }
    assert "client_reference" not in report
    parsed = SmsSinchEvent().parse_event(dict(report))  # Sinch's own parser takes it
    assert (parsed.batch_id, parsed.total_message_count) == (batch.id, 3)


async def test_summary_report_counts_only(sinch, sinch_receiver):
    target = sinch_receiver.target()
    await call(
        sinch.sms.batches.send_sms,
        to=[TO, TO2],
        from_="LynSMS",
        body="Hi",
        delivery_report="summary",
        callback_url=target.url,
    )
    (report,) = await target.wait_for(1)
    assert report["statuses"] == [{"code": 0, "status": "Delivered", "count": 2}]


async def test_cancelled_batch_reports_cancelled_recipients(sinch, sinch_receiver):
    target = sinch_receiver.target()
    batch = await call(
        sinch.sms.batches.send_sms,
        to=[TO, TO2],
        from_="LynSMS",
        body="Later",
        send_at=datetime.now(UTC) + timedelta(hours=1),
        delivery_report="per_recipient_final",
        callback_url=target.url,
    )
    await call(sinch.sms.batches.cancel, batch.id)
    received = await target.wait_for(2)
    assert sorted((r["recipient"], r["status"], r["code"]) for r in received) == [
        ("12025550143", "Cancelled", 407),
        ("12025550144", "Cancelled", 407),
    ]


async def test_no_report_without_asking(sinch, sinch_receiver, native, customer):
    target = sinch_receiver.target()
    await call(
        sinch.sms.batches.send_sms,
        to=[TO],
        from_="LynSMS",
        body="Quiet",
        callback_url=target.url,  # delivery_report defaults to none
    )
    for _ in range(100):
        listed = await native.get("/messages", headers=customer.live)
        if listed.json()["data"][0]["status"] == "delivered":
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    assert target.received == []
