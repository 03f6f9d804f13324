"""Delivery reports share the group commit: concurrent callbacks land in one transaction.

The same report posted many times at once (a provider retrying, several deliveries
racing) moves the message once, refunds it once and makes one event, whether the
posts were committed together or apart.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.providers.test_callbacks_e2e import (
    PRICE,
    START_BALANCE,
    balance,
    poll,
    post,
    report,
    sent_message,
)

COPIES = 8


@pytest.mark.parametrize("outcome", ["delivered", "failed"])
async def test_the_same_report_posted_at_once_applies_once(
    gw, gw_customer, fakes, gateway, outcome
):
    message, accepted = await sent_message(gw, gw_customer, fakes, "twilio")
    request = report(gateway, fakes, "twilio", accepted, outcome)

    responses = await asyncio.gather(*(post(gw, request) for _ in range(COPIES)))

    assert [r.status_code for r in responses] == [200] * COPIES
    assert sum(r.json()["applied"] for r in responses) == 1
    done = await poll(gw, gw_customer, message["id"], lambda m: m["status"] == outcome)
    assert done["status"] == outcome
    expected = START_BALANCE if outcome == "failed" else START_BALANCE - PRICE
    assert await balance(gw, gw_customer) == pytest.approx(expected)  # refunded once at most
    events = await gw.get("/events", params={"message_id": message["id"]}, headers=gw_customer.live)
    assert events.status_code == 200, events.text
    types = [event["type"] for event in events.json()["data"]]
    assert types.count(f"message.{outcome}") == 1, types


async def test_reports_for_different_messages_at_once_all_apply(gw, gw_customer, fakes, gateway):
    sent = [await sent_message(gw, gw_customer, fakes, "twilio") for _ in range(4)]
    requests = [report(gateway, fakes, "twilio", accepted, "delivered") for _, accepted in sent]

    responses = await asyncio.gather(*(post(gw, request) for request in requests))

    assert [r.json()["applied"] for r in responses] == [1] * len(sent)
    for message, _ in sent:
        done = await poll(gw, gw_customer, message["id"], lambda m: m["status"] == "delivered")
        assert done["delivered_at"] is not None
