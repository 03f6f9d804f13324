"""Seed 001, word for word: the preferred provider first, then the chain; retryable errors
(5xx, 429, connection failures, timeouts) hand off; hard errors stop it, nothing sent twice."""

from __future__ import annotations

import itertools

import pytest

from tests.fakes.base import Behaviour

_numbers = itertools.count(100)


def number() -> str:
    """A fresh US number per test, so fakes' per-number behaviour never leaks."""
    return f"+1202555{next(_numbers):04d}"


async def send(gw, customer, to, **extra):
    response = await gw.post(
        "/messages/send",
        json={"to": to, "from": "LynSMS", "body": "hi", **extra},
        headers=customer.live,
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def balance(gw, customer):
    return (await gw.get("/balance", headers=customer.live)).json()["data"]["balance"]


@pytest.mark.parametrize("behaviour", [Behaviour.SERVER_ERROR, Behaviour.THROTTLE, Behaviour.HANG])
async def test_retryable_failure_hands_off_to_the_next_provider(gw, gw_customer, fakes, behaviour):
    to = number()
    fakes.twilio.behave(to, behaviour)
    message = await send(gw, gw_customer, to)
    assert (message["status"], message["provider"], message["attempts"]) == ("sent", "sinch", 2)
    assert message["provider_message_id"] == fakes.sinch.accepted[-1].provider_message_id
    assert any(r.path.endswith("/Messages.json") for r in fakes.twilio.received)
    assert fakes.sinch.accepted[-1].to == to


async def test_connection_failure_hands_off(gw, gw_customer, fakes):
    to = number()
    port = fakes.twilio.port
    fakes.twilio.stop()
    try:
        message = await send(gw, gw_customer, to)
    finally:
        fakes.twilio.start(port=port)
    assert (message["provider"], message["attempts"]) == ("sinch", 2)


@pytest.mark.parametrize(
    ("behaviour", "code"),
    [(Behaviour.PERMANENT, "rejected"), (Behaviour.BLACKLISTED, "blacklisted")],
)
async def test_hard_error_stops_the_chain_and_refunds(gw, gw_customer, fakes, behaviour, code):
    to = number()
    fakes.twilio.behave(to, behaviour)
    message = await send(gw, gw_customer, to)
    assert (message["status"], message["provider"], message["attempts"]) == ("failed", "twilio", 1)
    assert message["error"]["code"] == code
    assert fakes.received_by(to) == []
    assert not any(
        r
        for f in (fakes.sinch, fakes.infobip, fakes.clicksend)
        for r in f.received
        if to.lstrip("+") in r.body.decode(errors="replace")
    )
    assert await balance(gw, gw_customer) == 10.0


async def test_every_provider_failing_retryably_leaves_it_queued(gw, gw_customer, fakes):
    to = number()
    for fake in fakes.all():
        fake.behave(to, Behaviour.SERVER_ERROR)
    message = await send(gw, gw_customer, to)
    assert (message["status"], message["attempts"]) == ("queued", 4)
    assert message["error"]["code"] == "provider_unavailable"
    assert message["provider"] == "clicksend"
    assert await balance(gw, gw_customer) == 9.95  # still reserved: the worker retries it


async def test_preferred_provider_goes_first(gw, gw_customer, fakes):
    to = number()
    message = await send(gw, gw_customer, to, provider="clicksend")
    assert message["provider"] == "clicksend"
    assert fakes.received_by(to) == ["clicksend"]


async def test_preferred_provider_still_falls_back(gw, gw_customer, fakes):
    to = number()
    fakes.infobip.behave(to, Behaviour.SERVER_ERROR)
    message = await send(gw, gw_customer, to, provider="infobip")
    assert (message["provider"], message["attempts"]) == ("twilio", 2)


async def test_cheapest_route_for_the_country(gw, gw_customer, fakes):
    uk = await send(gw, gw_customer, "+447700900123")
    assert (uk["route_id"], uk["provider"], uk["cost"]) == (2, "infobip", 0.04)
    us = await send(gw, gw_customer, number())
    assert (us["route_id"], us["provider"], us["cost"]) == (1, "twilio", 0.05)


async def test_forced_route(gw, gw_customer, fakes):
    message = await send(gw, gw_customer, number(), route_id=3)
    assert (message["route_id"], message["provider"]) == (3, "clicksend")


@pytest.mark.parametrize(
    ("extra", "code", "param"),
    [
        ({"route_id": 99}, "unknown_route", "route_id"),
        ({"route_id": 2}, "route_not_applicable", "route_id"),
        ({"provider": "acme"}, "unknown_provider", "provider"),
    ],
)
async def test_route_and_provider_errors(gw, gw_customer, extra, code, param):
    response = await gw.post(
        "/messages/send",
        json={"to": number(), "from": "LynSMS", "body": "x", **extra},
        headers=gw_customer.live,
    )
    assert response.status_code == 422
    assert (response.json()["error"]["code"], response.json()["error"]["param"]) == (code, param)
    assert await balance(gw, gw_customer) == 10.0


async def test_test_keys_ignore_provider_and_route(gw, gw_customer, fakes):
    to = number()
    response = await gw.post(
        "/messages/send",
        json={"to": to, "from": "LynSMS", "body": "x", "provider": "twilio", "route_id": 2},
        headers=gw_customer.test,
    )
    assert response.json()["data"]["provider"] == "simulator"
    assert fakes.received_by(to) == []


async def test_partial_success_inside_a_200_is_a_per_message_rejection(gw, gw_customer, fakes):
    to = number()
    fakes.infobip.behave(to, Behaviour.PARTIAL)
    message = await send(gw, gw_customer, to, provider="infobip")
    assert (message["status"], message["provider"], message["attempts"]) == ("failed", "infobip", 1)
    assert message["error"]["code"] == "rejected"
    assert "REJECTED" in message["error"]["message"]


async def test_circuit_breaker_opens_skips_and_closes(gw, gw_customer, fakes, gateway):
    for _ in range(3):  # breaker_failures = 3 in the gateway's settings
        to = number()
        fakes.twilio.behave(to, Behaviour.SERVER_ERROR)
        await send(gw, gw_customer, to)
    assert gateway.runtime.router.breaker.is_open("twilio")
    to = number()
    skipped = await send(gw, gw_customer, to)
    assert (skipped["provider"], skipped["attempts"]) == ("sinch", 1)  # a skip is no attempt
    assert not any(to[1:] in r.body.decode() for r in fakes.twilio.received)
    import asyncio

    await asyncio.sleep(1.1)  # breaker_cooldown = 1 s: the next message probes twilio
    probe = await send(gw, gw_customer, number())
    assert (probe["provider"], probe["attempts"]) == ("twilio", 1)
    assert not gateway.runtime.router.breaker.is_open("twilio")


async def test_bulk_walks_the_chain_per_recipient(gw, gw_customer, fakes):
    good, flaky, bad = number(), number(), number()
    fakes.twilio.behave(flaky, Behaviour.SERVER_ERROR)
    fakes.twilio.behave(bad, Behaviour.PERMANENT)
    response = await gw.post(
        "/messages/bulk",
        json={"from": "LynSMS", "body": "x", "recipients": [good, flaky, bad]},
        headers=gw_customer.live,
    )
    data = response.json()["data"]
    assert [m["status"] for m in data["messages"]] == ["sent", "sent", "failed"]
    assert (data["sent"], data["failed"]) == (2, 1)
    assert fakes.received_by(flaky) == ["sinch"]
    assert await balance(gw, gw_customer) == 9.9
