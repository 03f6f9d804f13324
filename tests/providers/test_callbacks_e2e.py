"""Delivery reports, inbound messages and opt-out, end to end (API.md §4 and §10).

A real gateway (SQLite and PostgreSQL) sends through the four provider fakes; each fake
then builds and posts its callbacks the provider's own way (Twilio's signed form,
Sinch's JSON with ``?token=``, Infobip's ``{"results": [...]}``, ClickSend's form push),
and the effects are read back through the public API (``GET /messages``, ``/balance``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from lynsms.database import session_scope
from lynsms.messages.inbound import receive
from lynsms.messages.repository import messages as messages_table
from lynsms.providers.base import InboundSms
from lynsms.senders import service as senders_service
from lynsms.senders.schemas import SenderCreate
from tests.factories import Customer, approve_sender, create_customer
from tests.fakes import clicksend as clicksend_fake
from tests.fakes import infobip as infobip_fake
from tests.fakes.base import AcceptedMessage
from tests.fakes.twilio import FakeTwilio
from tests.gateway import CALLBACK_TOKENS, TWILIO_SID

PROVIDERS = ["twilio", "sinch", "infobip", "clicksend"]
TOKEN_PROVIDERS = ["sinch", "infobip", "clicksend"]
PRICE = 0.05  # [prices] default, per segment, for a US number
START_BALANCE = 10.0

# Each outcome as the provider reports it: (the provider's status word, extra arguments of
# the fake's status_callback), and the error code the gateway must keep for it.
REPORTS: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
    "twilio": {
        "delivered": ("delivered", {}),
        "undelivered": ("undelivered", {"error_code": "30003"}),
        "failed": ("failed", {"error_code": "30008"}),
        "sent": ("sent", {}),
        "queued": ("queued", {}),
    },
    "sinch": {
        "delivered": ("Delivered", {}),
        "undelivered": ("Failed", {"code": 404}),
        "failed": ("Aborted", {}),  # Sinch's default code for Aborted: 402
        "sent": ("Dispatched", {}),
        "queued": ("Queued", {}),
    },
    "infobip": {
        "delivered": ("DELIVERED_TO_HANDSET", {}),
        "undelivered": ("UNDELIVERABLE_NOT_DELIVERED", {"error": "EC_UNKNOWN_SUBSCRIBER"}),
        "failed": ("REJECTED_NETWORK", {"error": "EC_ILLEGAL_SUBSCRIBER"}),
        "sent": ("PENDING_ENROUTE", {}),
        "queued": ("PENDING_ACCEPTED", {}),
    },
    "clicksend": {
        "delivered": ("delivered", {}),
        "undelivered": ("undelivered", {"error_code": "8"}),
        "failed": ("failed", {"error_code": "5"}),  # status "Cancelled", code 301
        "sent": ("sent", {}),
        "queued": ("sent", {}),  # ClickSend's "queued" is the same receipt (status_code 200)
    },
}
ERROR_CODES = {
    "twilio": {"undelivered": "30003", "failed": "30008"},
    "sinch": {"undelivered": "404", "failed": "402"},
    "infobip": {"undelivered": "EC_UNKNOWN_SUBSCRIBER", "failed": "EC_ILLEGAL_SUBSCRIBER"},
    "clicksend": {"undelivered": "8", "failed": "5"},
}

_numbers = itertools.count(3000)

Request = tuple[str, dict[str, str], bytes]


def number(area: str = "312") -> str:
    """A fresh US number (recipients: 312, long codes: 646) so no test sees another's."""
    return f"+1{area}555{next(_numbers):04d}"


def long_code() -> str:
    return number("646")


@pytest.fixture(scope="module", autouse=True)
def _warm_fakes() -> None:
    """Load the fakes' spec validators once, before any send: the first load takes longer
    than the gateway's provider_timeout (0.5 s), which would fail the send over."""
    clicksend_fake.spec_problems({})
    infobip_fake.spec_violations(infobip_fake.REQUEST_SCHEMA, {})


# --- API helpers ---------------------------------------------------------------------------
async def send(
    gw: httpx.AsyncClient, customer: Customer, to: str, provider: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"to": to, "from": "LynSMS", "body": "Your code is 482194"}
    if provider is not None:
        body["provider"] = provider
    response = await gw.post("/messages/send", json=body, headers=customer.live)
    assert response.status_code == 201, response.text
    message: dict[str, Any] = response.json()["data"]
    assert message["status"] == "sent", message
    if provider is not None:
        assert message["provider"] == provider, message
    return message


async def get_message(gw: httpx.AsyncClient, customer: Customer, message_id: str) -> dict[str, Any]:
    response = await gw.get(f"/messages/{message_id}", headers=customer.live)
    assert response.status_code == 200, response.text
    message: dict[str, Any] = response.json()["data"]
    return message


async def poll(
    gw: httpx.AsyncClient,
    customer: Customer,
    message_id: str,
    until: Callable[[dict[str, Any]], bool],
    timeout: float = 3.0,
) -> dict[str, Any]:
    """The message once ``until`` holds (or as last seen after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        message = await get_message(gw, customer, message_id)
        if until(message) or time.monotonic() > deadline:
            return message
        await asyncio.sleep(0.05)


def snapshot(message: dict[str, Any]) -> dict[str, Any]:
    keys = ("status", "delivered_at", "sent_at", "error", "cost", "provider", "attempts")
    return {key: message[key] for key in (*keys, "provider_message_id")}


async def steady(
    gw: httpx.AsyncClient, customer: Customer, message_id: str, expected: dict[str, Any]
) -> None:
    """The message stays exactly ``expected`` (a snapshot) for a short while."""
    deadline = time.monotonic() + 0.1
    while True:
        assert snapshot(await get_message(gw, customer, message_id)) == expected
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.05)


async def balance(gw: httpx.AsyncClient, customer: Customer) -> float:
    response = await gw.get("/balance", headers=customer.live)
    assert response.status_code == 200, response.text
    value: float = response.json()["data"]["balance"]
    return value


async def listing(gw: httpx.AsyncClient, customer: Customer, **filters: str) -> dict[str, Any]:
    response = await gw.get("/messages", params=filters, headers=customer.live)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def outbound_to(gw: httpx.AsyncClient, customer: Customer, to: str) -> int:
    page = await listing(gw, customer, to=to, direction="outbound")
    total: int = page["pagination"]["total_items"]
    return total


async def stored_to(gateway: Any, to: str) -> int:
    """Messages to ``to`` on any account (straight from the database)."""
    async with session_scope(gateway.runtime.database, write=False) as session:
        count = await session.scalar(
            select(func.count()).select_from(messages_table).where(messages_table.c.to_number == to)
        )
    return int(count or 0)


async def post(gw: httpx.AsyncClient, request: Request) -> httpx.Response:
    url, headers, body = request
    return await gw.post(url, headers=headers, content=body)


# --- callback helpers ------------------------------------------------------------------------
def status_url(gateway: Any, provider: str, token: str | None = "") -> str:
    """Our status URL; ``token=""`` means the provider's right token, ``None`` none."""
    url = f"{gateway.url}/callbacks/{provider}/status"
    if provider == "twilio" or token is None:
        return url
    return f"{url}?token={token or CALLBACK_TOKENS[provider]}"


def inbound_url(gateway: Any, provider: str, token: str | None = "") -> str:
    url = f"{gateway.url}/callbacks/{provider}/inbound"
    if provider == "twilio" or token is None:
        return url
    return f"{url}?token={token or CALLBACK_TOKENS[provider]}"


def accepted_for(fakes: Any, provider: str, message: dict[str, Any]) -> AcceptedMessage:
    found = [
        accepted
        for accepted in fakes.by_name(provider).accepted
        if accepted.provider_message_id == message["provider_message_id"]
    ]
    assert len(found) == 1, (provider, message)
    return found[0]


def report(
    gateway: Any,
    fakes: Any,
    provider: str,
    accepted: AcceptedMessage,
    outcome: str,
    *,
    url: str | None = None,
) -> Request:
    """The fake's delivery report for ``outcome`` (to its own URL, or ``url``)."""
    status, extra = REPORTS[provider][outcome]
    extra = dict(extra)
    if provider == "clicksend":  # no per-message URL: the account's Delivery Report rule
        extra["url"] = url or status_url(gateway, provider)
    elif url is not None and provider != "twilio":
        extra["url"] = url
    request: Request = fakes.by_name(provider).status_callback(accepted, status, **extra)
    return request


def inbound(
    gateway: Any, fakes: Any, provider: str, sender: str, to: str, body: str, **extra: Any
) -> Request:
    request: Request = fakes.by_name(provider).inbound_callback(
        inbound_url(gateway, provider), sender, to, body, **extra
    )
    return request


async def sent_message(
    gw: httpx.AsyncClient, customer: Customer, fakes: Any, provider: str
) -> tuple[dict[str, Any], AcceptedMessage]:
    message = await send(gw, customer, number(), provider)
    return message, accepted_for(fakes, provider, message)


async def owned_long_code(gateway: Any, customer: Customer) -> str:
    code = long_code()
    await approve_sender(gateway.runtime, customer.account_id, code)
    return code


def is_recent(timestamp: str | None) -> bool:
    if timestamp is None or not timestamp.endswith("+00:00"):
        return False
    moment = datetime.fromisoformat(timestamp)
    return abs(datetime.now(UTC) - moment) < timedelta(minutes=2)


# --- 1. delivered ------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_delivered_report_marks_the_message_delivered(
    gw, gw_customer, fakes, gateway, provider
):
    message, accepted = await sent_message(gw, gw_customer, fakes, provider)
    assert message["delivered_at"] is None

    response = await post(gw, report(gateway, fakes, provider, accepted, "delivered"))

    assert response.status_code == 200, response.text
    assert response.json() == {"received": 1, "applied": 1}
    done = await poll(gw, gw_customer, message["id"], lambda m: m["status"] == "delivered")
    assert done["status"] == "delivered"
    assert is_recent(done["delivered_at"]), done["delivered_at"]
    assert done["error"] is None
    assert (done["provider"], done["provider_message_id"]) == (
        provider,
        accepted.provider_message_id,
    )
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE - PRICE)


# --- 2. undelivered / failed -------------------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_undelivered_report_keeps_the_provider_error_code(
    gw, gw_customer, fakes, gateway, provider
):
    message, accepted = await sent_message(gw, gw_customer, fakes, provider)

    response = await post(gw, report(gateway, fakes, provider, accepted, "undelivered"))

    assert response.status_code == 200, response.text
    done = await poll(gw, gw_customer, message["id"], lambda m: m["status"] != "sent")
    assert done["status"] == "undelivered"
    assert done["error"] is not None
    assert done["error"]["code"] == ERROR_CODES[provider]["undelivered"]
    assert done["delivered_at"] is None
    # undelivered is not among the refunded outcomes (failed, cancelled, expired)
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE - PRICE)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_failed_report_after_sent_refunds(gw, gw_customer, fakes, gateway, provider):
    message, accepted = await sent_message(gw, gw_customer, fakes, provider)
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE - PRICE)

    response = await post(gw, report(gateway, fakes, provider, accepted, "failed"))

    assert response.status_code == 200, response.text
    done = await poll(gw, gw_customer, message["id"], lambda m: m["status"] != "sent")
    assert done["status"] == "failed"
    assert done["error"] is not None
    assert done["error"]["code"] == ERROR_CODES[provider]["failed"]
    assert done["delivered_at"] is None
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE)


# --- 3. idempotent -----------------------------------------------------------------------------
@pytest.mark.parametrize("outcome", ["delivered", "failed"])
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_same_report_twice_changes_nothing_the_second_time(
    gw, gw_customer, fakes, gateway, provider, outcome
):
    message, accepted = await sent_message(gw, gw_customer, fakes, provider)
    request = report(gateway, fakes, provider, accepted, outcome)

    first = await post(gw, request)
    assert first.status_code == 200, first.text
    after_first = await poll(gw, gw_customer, message["id"], lambda m: m["status"] == outcome)
    assert after_first["status"] == outcome
    money = await balance(gw, gw_customer)
    assert money == pytest.approx(START_BALANCE if outcome == "failed" else START_BALANCE - PRICE)

    second = await post(gw, request)

    assert second.status_code == 200, second.text
    assert second.json() == {"received": 1, "applied": 0}
    await steady(gw, gw_customer, message["id"], snapshot(after_first))
    assert await balance(gw, gw_customer) == pytest.approx(money)  # refunded once only


# --- 4. monotonic ------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_late_reports_never_overwrite_delivered(gw, gw_customer, fakes, gateway, provider):
    message, accepted = await sent_message(gw, gw_customer, fakes, provider)
    for early in ("queued", "sent"):  # in order, these are no news for a sent message
        response = await post(gw, report(gateway, fakes, provider, accepted, early))
        assert response.status_code == 200, (early, response.text)
        assert response.json()["applied"] == 0, early
    delivered = await post(gw, report(gateway, fakes, provider, accepted, "delivered"))
    assert delivered.status_code == 200, delivered.text
    done = await poll(gw, gw_customer, message["id"], lambda m: m["status"] == "delivered")
    assert done["status"] == "delivered"
    assert done["delivered_at"] is not None

    for late in ("sent", "queued", "failed"):
        response = await post(gw, report(gateway, fakes, provider, accepted, late))
        assert response.status_code == 200, (late, response.text)
        assert response.json()["applied"] == 0, late

    await steady(gw, gw_customer, message["id"], snapshot(done))
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE - PRICE)  # no refund


# --- 5. authentication -------------------------------------------------------------------------
def _twilio_forged(gateway: Any, fakes: Any, accepted: AcceptedMessage, how: str) -> Request:
    url, headers, body = fakes.twilio.status_callback(accepted, "failed", error_code="30008")
    if how == "tampered_body":
        return url, headers, body.replace(b"30008", b"30007")
    if how == "missing_signature":
        return url, {k: v for k, v in headers.items() if k != "x-twilio-signature"}, body
    if how == "wrong_auth_token":
        other = FakeTwilio(TWILIO_SID, "not-the-auth-token")
        return other.status_callback(accepted, "failed", error_code="30008")
    if how == "signed_for_another_url":
        elsewhere = replace(accepted, callback_url="https://evil.example/callbacks/twilio/status")
        _, forged_headers, forged_body = fakes.twilio.status_callback(elsewhere, "failed")
        return status_url(gateway, "twilio"), forged_headers, forged_body
    raise AssertionError(how)


def _token_forged(
    gateway: Any, fakes: Any, provider: str, accepted: AcceptedMessage, how: str
) -> Request:
    tokens = {
        "wrong_token": "not-the-token",
        "missing_token": None,
        "another_providers_token": CALLBACK_TOKENS[
            TOKEN_PROVIDERS[(TOKEN_PROVIDERS.index(provider) + 1) % len(TOKEN_PROVIDERS)]
        ],
    }
    url = f"{gateway.url}/callbacks/{provider}/status"
    token = tokens[how]
    if token is not None:
        url += f"?token={token}"
    return report(gateway, fakes, provider, accepted, "failed", url=url)


FORGERIES = {
    "twilio": ("tampered_body", "missing_signature", "wrong_auth_token", "signed_for_another_url"),
    **dict.fromkeys(TOKEN_PROVIDERS, ("wrong_token", "missing_token", "another_providers_token")),
}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_unauthenticated_reports_are_refused_and_change_nothing(
    gw, gw_customer, fakes, gateway, provider
):
    message, accepted = await sent_message(gw, gw_customer, fakes, provider)

    for how in FORGERIES[provider]:
        if provider == "twilio":
            forged = _twilio_forged(gateway, fakes, accepted, how)
        else:
            forged = _token_forged(gateway, fakes, provider, accepted, how)
        response = await post(gw, forged)
        assert response.status_code == 401, (how, response.text)
        assert response.json()["error"]["code"] == "callback_rejected", how

    await steady(gw, gw_customer, message["id"], snapshot(message))
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE - PRICE)  # no refund
    # the genuine report still goes through afterwards
    genuine = await post(gw, report(gateway, fakes, provider, accepted, "delivered"))
    assert genuine.status_code == 200, genuine.text
    done = await poll(gw, gw_customer, message["id"], lambda m: m["status"] == "delivered")
    assert done["status"] == "delivered"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_unauthenticated_inbound_stop_is_refused(gw, gw_customer, fakes, gateway, provider):
    code, sender = await owned_long_code(gateway, gw_customer), number()
    if provider == "twilio":
        url, headers, body = inbound(gateway, fakes, provider, sender, code, "HELLO")
        forged = (url, headers, body.replace(b"HELLO", b"STOP"))
    else:
        url = inbound_url(gateway, provider, token="not-the-token")
        forged = fakes.by_name(provider).inbound_callback(url, sender, code, "STOP")

    response = await post(gw, forged)

    assert response.status_code == 401, response.text
    assert await stored_to(gateway, code) == 0
    await send(gw, gw_customer, sender)  # not opted out


# --- 6. unknown ids ----------------------------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_report_for_an_unknown_message_is_acknowledged_and_changes_nothing(
    gw, gw_customer, fakes, gateway, provider
):
    message, accepted = await sent_message(gw, gw_customer, fakes, provider)
    stranger = replace(
        accepted,
        provider_message_id={
            "twilio": "SM" + "f" * 32,
            "sinch": "01J00000000000000000000000",
            "infobip": "msg_unknownunknownunknown00",
            "clicksend": "5C1A7E0D-0000-4000-8000-000000000000",
        }[provider],
    )

    response = await post(gw, report(gateway, fakes, provider, stranger, "failed"))

    assert 200 <= response.status_code < 300, response.text
    assert response.json() == {"received": 1, "applied": 0}
    await steady(gw, gw_customer, message["id"], snapshot(message))
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE - PRICE)
    assert (await listing(gw, gw_customer))["pagination"]["total_items"] == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_report_at_another_providers_endpoint_does_not_touch_the_message(
    gw, gw_customer, fakes, gateway, provider
):
    """Message ids are per provider: B's report naming A's id is for an unknown message."""
    message, accepted = await sent_message(gw, gw_customer, fakes, provider)
    other = PROVIDERS[(PROVIDERS.index(provider) + 1) % len(PROVIDERS)]
    borrowed = replace(accepted, callback_url=status_url(gateway, other))

    response = await post(gw, report(gateway, fakes, other, borrowed, "failed"))

    assert response.status_code == 200, response.text
    assert response.json()["applied"] == 0
    await steady(gw, gw_customer, message["id"], snapshot(message))
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE - PRICE)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_report_posted_before_the_send_is_recorded_is_not_lost(
    gw, gw_customer, fakes, gateway, provider, monkeypatch
):
    """A provider's callback is independent of its send reply and can overtake it."""
    fake = fakes.by_name(provider)
    accept, answers = fake.accept, []

    def accept_then_report(accepted: AcceptedMessage) -> None:  # in the fake's thread
        accept(accepted)
        url, headers, body = report(gateway, fakes, provider, accepted, "delivered")
        answers.append(httpx.post(url, headers=headers, content=body, timeout=5).status_code)

    monkeypatch.setattr(fake, "accept", accept_then_report)
    message = await send(gw, gw_customer, number(), provider)
    assert answers == [200]

    done = await poll(gw, gw_customer, message["id"], lambda m: m["status"] == "delivered", 2.0)
    assert done["status"] == "delivered"


# --- batches -----------------------------------------------------------------------------------
async def test_infobip_batch_report_applies_every_result(gw, gw_customer, fakes, gateway):
    sent = [await sent_message(gw, gw_customer, fakes, "infobip") for _ in range(3)]
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE - 3 * PRICE)
    outcomes = ["delivered", "undelivered", "failed"]
    results: list[dict[str, Any]] = []
    for (_, accepted), outcome in zip(sent, outcomes, strict=True):
        _, _, body = report(gateway, fakes, "infobip", accepted, outcome)
        results += json.loads(body)["results"]
    stranger = replace(sent[0][1], provider_message_id="msg_notoursnotoursnotours0")
    _, _, body = report(gateway, fakes, "infobip", stranger, "delivered")
    results += json.loads(body)["results"]
    url, headers, _ = report(gateway, fakes, "infobip", sent[0][1], "delivered")

    response = await post(gw, (url, headers, json.dumps({"results": results}).encode()))

    assert response.status_code == 200, response.text
    assert response.json() == {"received": 4, "applied": 3}
    for (message, _), outcome in zip(sent, outcomes, strict=True):
        done = await poll(gw, gw_customer, message["id"], lambda m: m["status"] != "sent")
        assert done["status"] == outcome
        if outcome == "delivered":
            assert done["error"] is None and done["delivered_at"] is not None
        else:
            assert done["error"]["code"] == ERROR_CODES["infobip"][outcome]
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE - 2 * PRICE)


async def test_infobip_batch_with_one_unreadable_result_applies_the_others(
    gw, gw_customer, fakes, gateway
):
    (message, accepted) = await sent_message(gw, gw_customer, fakes, "infobip")
    url, headers, body = report(gateway, fakes, "infobip", accepted, "delivered")
    results = [{"messageId": "x", "status": {"groupName": "NOT_A_GROUP"}}]
    results += json.loads(body)["results"]

    response = await post(gw, (url, headers, json.dumps({"results": results}).encode()))

    assert response.status_code == 200, response.text
    done = await poll(gw, gw_customer, message["id"], lambda m: m["status"] == "delivered")
    assert done["status"] == "delivered"


@pytest.mark.parametrize("full", [True, False], ids=["full", "summary"])
@pytest.mark.parametrize(
    ("status", "code", "outcome", "error"),
    [
        ("Delivered", None, "delivered", None),
        ("Failed", 404, "undelivered", "404"),
        ("Aborted", None, "failed", "402"),
    ],
)
async def test_sinch_batch_delivery_report(
    gw, gw_customer, fakes, gateway, full, status, code, outcome, error
):
    message, accepted = await sent_message(gw, gw_customer, fakes, "sinch")
    request = fakes.sinch.batch_status_callback(accepted, status, code=code, full=full)
    assert json.loads(request[2])["type"] == "delivery_report_sms"

    response = await post(gw, request)

    assert response.status_code == 200, response.text
    assert response.json() == {"received": 1, "applied": 1}
    done = await poll(gw, gw_customer, message["id"], lambda m: m["status"] != "sent")
    assert done["status"] == outcome
    assert (done["error"] or {}).get("code") == error
    assert (done["delivered_at"] is not None) == (outcome == "delivered")
    refunded = outcome == "failed"
    expected = START_BALANCE if refunded else START_BALANCE - PRICE
    assert await balance(gw, gw_customer) == pytest.approx(expected)


async def test_sinch_per_recipient_report_shape(gw, gw_customer, fakes, gateway):
    message, accepted = await sent_message(gw, gw_customer, fakes, "sinch")
    request = fakes.sinch.status_callback(accepted, "Delivered")
    payload = json.loads(request[2])
    assert payload["type"] == "recipient_delivery_report_sms"
    assert payload["recipient"] == message["to"].lstrip("+")

    response = await post(gw, request)

    assert response.status_code == 200, response.text
    done = await poll(gw, gw_customer, message["id"], lambda m: m["status"] == "delivered")
    assert done["status"] == "delivered"
    # operator_status_at is when it happened
    assert done["delivered_at"] is not None
    reported = datetime.fromisoformat(payload["operator_status_at"].replace("Z", "+00:00"))
    assert abs(datetime.fromisoformat(done["delivered_at"]) - reported) < timedelta(seconds=1)


# --- 7. inbound --------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_inbound_message_is_stored_on_the_owning_account(
    gw, gw_customer, fakes, gateway, provider
):
    code, sender = await owned_long_code(gateway, gw_customer), number()
    outsider = await create_customer(gateway.runtime)
    body = "Running 10 minutes late, see you at 6"

    response = await post(gw, inbound(gateway, fakes, provider, sender, code, body))

    assert response.status_code == 200, response.text
    page = await listing(gw, gw_customer, direction="inbound")
    assert page["pagination"]["total_items"] == 1, page
    item = page["data"][0]
    assert item["direction"] == "inbound"
    assert (item["from"], item["to"], item["body"]) == (sender, code, body)
    assert item["status"] == "received"
    assert item["provider"] == provider
    assert item["cost"] == 0
    assert (await get_message(gw, gw_customer, item["id"]))["body"] == body
    assert (await listing(gw, gw_customer, direction="outbound"))["pagination"]["total_items"] == 0
    assert (await listing(gw, outsider, direction="inbound"))["pagination"]["total_items"] == 0
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_inbound_posted_twice_is_stored_once(gw, gw_customer, fakes, gateway, provider):
    code, sender = await owned_long_code(gateway, gw_customer), number()
    request = inbound(gateway, fakes, provider, sender, code, "Is the shop open today?")

    first, second = await post(gw, request), await post(gw, request)

    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    if provider != "twilio":
        assert (first.json()["stored"], second.json()["stored"]) == (1, 0)
    page = await listing(gw, gw_customer, direction="inbound")
    assert page["pagination"]["total_items"] == 1, page
    assert await stored_to(gateway, code) == 1


async def test_inbound_delivered_concurrently_is_stored_once(gw, gw_customer, fakes, gateway):
    code, sender = await owned_long_code(gateway, gw_customer), number()
    request = inbound(gateway, fakes, "sinch", sender, code, "Hello?")

    responses = await asyncio.gather(*(post(gw, request) for _ in range(10)))

    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    assert sum(r.json()["stored"] for r in responses) == 1
    assert await stored_to(gateway, code) == 1


async def test_two_stops_from_one_number_received_concurrently_are_both_stored(
    gw, gw_customer, gateway
):
    database = gateway.runtime.database
    if database.write_lock is not None:
        pytest.skip("SQLite: writers are serialised by the write lock, the race cannot happen")
    code, sender = await owned_long_code(gateway, gw_customer), number()
    first, second = (
        InboundSms(sender=sender, to=code, body="STOP", provider_message_id=f"01JRACE{n}{code}")
        for n in (1, 2)
    )
    async with database.write_sessions() as one, database.write_sessions() as two:
        assert await receive(one, "sinch", [first]) == 1  # opt-out inserted, not committed
        racing = asyncio.ensure_future(receive(two, "sinch", [second]))
        try:
            await waiting_on_a_lock(gateway)  # the second now waits on the first's opt-out
        finally:
            await one.commit()
        stored = await racing
        await two.commit()

    assert stored == 1
    assert await stored_to(gateway, code) == 2
    await assert_refused(gw, gw_customer, None, sender)


async def waiting_on_a_lock(gateway: Any) -> None:
    """Until some PostgreSQL backend of this database waits on a lock (up to 3 s)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        async with gateway.runtime.database.read_sessions() as session:
            if await session.scalar(query):
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the second transaction never waited on the first")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_inbound_to_a_number_nobody_owns_is_acknowledged_and_dropped(
    gw, gw_customer, fakes, gateway, provider
):
    code, sender = long_code(), number()  # never approved for anyone

    response = await post(gw, inbound(gateway, fakes, provider, sender, code, "STOP"))

    assert 200 <= response.status_code < 300, response.text
    if provider != "twilio":
        assert response.json()["stored"] == 0
    assert await stored_to(gateway, code) == 0
    assert (await listing(gw, gw_customer, direction="inbound"))["pagination"]["total_items"] == 0


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_inbound_to_a_pending_long_code_is_dropped(gw, gw_customer, fakes, gateway, provider):
    code, sender = long_code(), number()
    async with session_scope(gateway.runtime.database, write=True) as session:
        await senders_service.register(
            session, gw_customer.account_id, SenderCreate(sender_id=code)
        )

    response = await post(gw, inbound(gateway, fakes, provider, sender, code, "STOP"))

    assert 200 <= response.status_code < 300, response.text
    assert await stored_to(gateway, code) == 0
    await send(gw, gw_customer, sender)  # the STOP did not count either


async def test_twilio_inbound_is_answered_with_empty_twiml(gw, gw_customer, fakes, gateway):
    code, sender = await owned_long_code(gateway, gw_customer), number()

    response = await post(gw, inbound(gateway, fakes, "twilio", sender, code, "hi"))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0].strip() == "text/xml"
    answer = response.text.strip()
    assert answer.startswith("<?xml")
    assert answer.endswith(("<Response></Response>", "<Response/>"))
    assert "<Message" not in answer


async def test_clicksend_json_inbound_is_stored(gw, gw_customer, fakes, gateway):
    code, sender = await owned_long_code(gateway, gw_customer), number()
    request = inbound(gateway, fakes, "clicksend", sender, code, "json push", webhook_type="json")
    assert request[1]["content-type"] == "application/json"

    response = await post(gw, request)

    assert response.status_code == 200, response.text
    page = await listing(gw, gw_customer, direction="inbound")
    assert [(m["from"], m["to"], m["body"]) for m in page["data"]] == [(sender, code, "json push")]


# --- 8. opt-out --------------------------------------------------------------------------------
async def say(gw, gateway, fakes, provider: str, sender: str, code: str, body: str) -> None:
    response = await post(gw, inbound(gateway, fakes, provider, sender, code, body))
    assert response.status_code == 200, response.text


async def assert_refused(gw, customer: Customer, fakes: Any, to: str) -> None:
    """A single send to ``to`` is 422 recipient_opted_out: nothing created, sent or charged."""
    before = await balance(gw, customer)
    reached = len(fakes.received_by(to)) if fakes is not None else 0
    created = await outbound_to(gw, customer, to)
    response = await gw.post(
        "/messages/send",
        json={"to": to, "from": "LynSMS", "body": "Sale today!"},
        headers=customer.live,
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error.get("param")) == ("recipient_opted_out", "to")
    assert await balance(gw, customer) == pytest.approx(before)
    assert await outbound_to(gw, customer, to) == created
    if fakes is not None:
        assert len(fakes.received_by(to)) == reached


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_stop_opts_out_and_start_opts_back_in(gw, gw_customer, fakes, gateway, provider):
    code, sender = await owned_long_code(gateway, gw_customer), number()
    await send(gw, gw_customer, sender)  # fine before
    spent = await balance(gw, gw_customer)

    await say(gw, gateway, fakes, provider, sender, code, " stop ")

    await assert_refused(gw, gw_customer, fakes, sender)
    assert await balance(gw, gw_customer) == pytest.approx(spent)

    await say(gw, gateway, fakes, provider, sender, code, "START")

    again = await send(gw, gw_customer, sender)
    assert again["to"] == sender
    assert await balance(gw, gw_customer) == pytest.approx(spent - PRICE)
    assert await stored_to(gateway, code) == 2  # both inbound messages are kept


async def test_every_stop_keyword_opts_out(gw, gw_customer, fakes, gateway):
    code = await owned_long_code(gateway, gw_customer)
    for stop in ("STOP", "stop", "StopAll", "UNSUBSCRIBE", "cancel", "End", "quit", "\tSTOP\n"):
        sender = number()  # one number per keyword
        await say(gw, gateway, fakes, "infobip", sender, code, stop)
        response = await gw.post(
            "/messages/send",
            json={"to": sender, "from": "LynSMS", "body": "Sale today!"},
            headers=gw_customer.live,
        )
        assert response.status_code == 422, (stop, response.text)
        assert response.json()["error"]["code"] == "recipient_opted_out", stop
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE)


@pytest.mark.parametrize("start", ["start", " Unstop "])
async def test_unstop_and_lowercase_start_opt_back_in(gw, gw_customer, fakes, gateway, start):
    code, sender = await owned_long_code(gateway, gw_customer), number()
    await say(gw, gateway, fakes, "sinch", sender, code, "STOP")
    await assert_refused(gw, gw_customer, fakes, sender)

    await say(gw, gateway, fakes, "sinch", sender, code, start)

    await send(gw, gw_customer, sender)


@pytest.mark.parametrize("body", ["Please stop", "STOP NOW", "stopp"])
async def test_a_message_merely_containing_stop_does_not_opt_out(
    gw, gw_customer, fakes, gateway, body
):
    code, sender = await owned_long_code(gateway, gw_customer), number()

    await say(gw, gateway, fakes, "clicksend", sender, code, body)

    await send(gw, gw_customer, sender)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_bulk_fails_only_the_opted_out_recipient(gw, gw_customer, fakes, gateway, provider):
    code, stopped, fine = await owned_long_code(gateway, gw_customer), number(), number()
    await say(gw, gateway, fakes, provider, stopped, code, "Stop")

    response = await gw.post(
        "/messages/bulk",
        json={"from": "LynSMS", "recipients": [fine, stopped], "body": "Doors open at 7"},
        headers=gw_customer.live,
    )

    assert response.status_code == 201, response.text
    result = response.json()["data"]
    items = {item["to"]: item for item in result["messages"]}
    assert items[stopped]["status"] == "failed"
    assert items[stopped]["error"]["code"] == "recipient_opted_out"
    assert items[stopped]["cost"] == 0
    assert items[fine]["status"] == "sent"
    assert items[fine]["error"] is None
    assert (result["total"], result["sent"], result["failed"]) == (2, 1, 1)
    assert fakes.received_by(stopped) == []
    assert len(fakes.received_by(fine)) == 1
    assert await balance(gw, gw_customer) == pytest.approx(START_BALANCE - PRICE)
    assert await outbound_to(gw, gw_customer, stopped) == 0


async def test_opt_out_belongs_to_the_account_owning_the_number(gw, gw_customer, fakes, gateway):
    code, sender = await owned_long_code(gateway, gw_customer), number()
    other = await create_customer(gateway.runtime)
    await say(gw, gateway, fakes, "twilio", sender, code, "STOP")

    await assert_refused(gw, gw_customer, fakes, sender)
    await send(gw, other, sender)  # another account's messages still go


async def test_repeated_stop_and_a_stop_after_start(gw, gw_customer, fakes, gateway):
    """STOP twice (two distinct messages) then START, then STOP again: the last word wins."""
    code, sender = await owned_long_code(gateway, gw_customer), number()
    for body in ("STOP", "STOP"):
        await say(gw, gateway, fakes, "twilio", sender, code, body)
    await assert_refused(gw, gw_customer, fakes, sender)
    await say(gw, gateway, fakes, "twilio", sender, code, "START")
    await send(gw, gw_customer, sender)
    await say(gw, gateway, fakes, "twilio", sender, code, "STOP")
    await assert_refused(gw, gw_customer, fakes, sender)
