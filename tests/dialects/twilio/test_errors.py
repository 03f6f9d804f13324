"""Refusals of the Twilio-compatible API, as Twilio's client raises them: HTTP status,
Twilio error code and ``more_info``, for credentials, validation and unknown resources."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from lynsms.contacts import service as contacts_service
from lynsms.database import session_scope
from tests.dialects.twilio.conftest import call, twilio_client
from tests.factories import create_customer, create_key

TO = "+12025550143"


async def refused(function: Any, *args: Any, **kwargs: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as caught:
        await call(function, *args, **kwargs)
    return caught.value


async def test_wrong_credentials_are_20003(twilio_server, customer, native):
    other = await create_customer(twilio_server.runtime)
    attempts = [
        Client(customer.account_id, "ds_live_not-a-key"),
        Client(customer.account_id, "not even a key"),
        Client(customer.account_id, other.live_key),  # another account's key
        Client(other.account_id, other.live_key, account_sid=customer.account_id),
    ]
    for client in attempts:
        client.api.base_url = twilio_server.url
        error = await refused(client.messages.create, to=TO, from_="LynSMS", body="x")
        assert (error.status, error.code) == (401, 20003)
    keys = await native.get("/api-keys", headers=customer.live)
    live_key_id = next(k["id"] for k in keys.json()["data"] if k["environment"] == "live")
    await native.delete(f"/api-keys/{live_key_id}", headers=customer.live)
    revoked = twilio_client(twilio_server, customer.account_id, customer.live_key)
    error = await refused(revoked.messages("SM" + "0" * 32).fetch)
    assert (error.status, error.code) == (401, 20003)


async def test_missing_credentials_answer_twilio_401(twilio_server, customer):
    url = f"{twilio_server.url}/2010-04-01/Accounts/{customer.account_id}/Messages.json"
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
        garbled = await client.get(url, headers={"Authorization": "Basic !!"})
        no_colon = base64.b64encode(customer.live_key.encode()).decode()
        colonless = await client.get(url, headers={"Authorization": f"Basic {no_colon}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="Twilio API"'
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    assert garbled.status_code == colonless.status_code == 401


async def test_scopes_and_rate_limits_of_the_key_hold(twilio_server, customer):
    reader = await create_key(twilio_server.runtime, customer.account_id, scopes=["messages:read"])
    client = twilio_client(twilio_server, customer.account_id, reader)
    assert await call(client.messages.list) == []
    error = await refused(client.messages.create, to=TO, from_="LynSMS", body="x")
    assert (error.status, error.code) == (403, 20403)
    limited = await create_key(twilio_server.runtime, customer.account_id, rate_limit_per_minute=2)
    client = twilio_client(twilio_server, customer.account_id, limited)
    fetch = client.messages("SM" + "0" * 32).fetch
    assert [(await refused(fetch)).code for _ in range(3)] == [20404, 20404, 20429]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"to": "0712345678", "from_": "LynSMS", "body": "x"}, 21211),
        ({"to": "+1 202 555", "from_": "LynSMS", "body": "x"}, 21211),
        ({"to": TO, "body": "x"}, 21603),
        ({"to": TO, "messaging_service_sid": "MG" + "0" * 32, "body": "x"}, 21701),
        ({"to": TO, "from_": "Not Valid!", "body": "x"}, 21212),
        ({"to": TO, "from_": "A" * 40, "body": "x"}, 21212),
        ({"to": TO, "from_": "Unapproved", "body": "x"}, 21606),
        ({"to": TO, "from_": "LynSMS"}, 21602),
        ({"to": TO, "from_": "LynSMS", "body": "x" * 1601}, 21617),
        ({"to": "+447700900123", "from_": "LynSMS", "media_url": ["https://a.com/a.png"]}, 21612),
        ({"to": TO, "from_": "LynSMS", "media_url": ["ftp://example.com/a.png"]}, 21620),
        (
            {"to": TO, "from_": "LynSMS", "media_url": [f"https://a.com/{n}" for n in range(11)]},
            21620,
        ),
        ({"to": TO, "from_": "LynSMS", "body": "x", "status_callback": "ftp://example.com"}, 21609),
        ({"to": TO, "from_": "LynSMS", "body": "x", "status_callback": "https://a_b.com/"}, 21609),
        ({"to": TO, "from_": "LynSMS", "body": "x", "validity_period": 0}, 21624),
        ({"to": TO, "from_": "LynSMS", "body": "x", "validity_period": 36001}, 21624),
        ({"to": TO, "from_": "LynSMS", "body": "x", "schedule_type": "fixed"}, 35111),
        ({"to": TO, "from_": "LynSMS", "body": "x", "send_at": "tomorrow"}, 35114),
        (
            {
                "to": TO,
                "from_": "LynSMS",
                "body": "x",
                "send_at": datetime.now(UTC) - timedelta(minutes=1),
                "schedule_type": "fixed",
            },
            35114,
        ),
    ],
)
async def test_invalid_messages_get_twilio_codes(twilio, fields, code):
    error = await refused(twilio.messages.create, **fields)
    assert (error.status, error.code) == (400, code)


async def test_a_form_without_to_is_21604(twilio_server, customer):
    url = f"{twilio_server.url}/2010-04-01/Accounts/{customer.account_id}/Messages.json"
    async with httpx.AsyncClient(auth=(customer.account_id, customer.live_key)) as client:
        form = await client.post(url, data={"From": "LynSMS", "Body": "x"})
        json = await client.post(url, json={"To": TO, "From": "LynSMS", "Body": "x"})
    assert (form.status_code, form.json()["code"]) == (400, 21604)
    assert (json.status_code, json.json()["code"]) == (400, 21604)  # form fields only


async def test_opted_out_recipient_is_21610(twilio_server, twilio, customer):
    async with session_scope(twilio_server.runtime.database, write=True) as session:
        await contacts_service.opt_out(session, customer.account_id, TO, "test")
    error = await refused(twilio.messages.create, to=TO, from_="LynSMS", body="x")
    assert (error.status, error.code) == (400, 21610)
    assert await call(twilio.messages.list) == []


async def test_no_money_is_20005(twilio_server):
    broke = await create_customer(twilio_server.runtime, balance="0.00")
    client = twilio_client(twilio_server, broke.account_id, broke.live_key)
    error = await refused(client.messages.create, to=TO, from_="LynSMS", body="x")
    assert (error.status, error.code) == (402, 20005)


async def test_unknown_messages_and_resources_are_20404(twilio_server, twilio, customer):
    stranger = await create_customer(twilio_server.runtime)
    theirs = twilio_client(twilio_server, stranger.account_id, stranger.live_key)
    message = await call(theirs.messages.create, to=TO, from_="LynSMS", body="mine")
    for sid in (message.sid, "SM" + "0" * 32, "SM" + "f" * 32, "SMnotasid"):
        error = await refused(twilio.messages(sid).fetch)
        assert (error.status, error.code) == (404, 20404)
    error = await refused(twilio.messages(message.sid).update, status="canceled")
    assert error.code == 20404
    url = f"{twilio_server.url}/2010-04-01/Accounts/{customer.account_id}/Calls.json"
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 404
    assert response.json()["code"] == 20404


async def test_update_takes_only_status_canceled(twilio):
    message = await call(twilio.messages.create, to=TO, from_="LynSMS", body="x")
    for fields in ({"status": "sent"}, {"body": ""}):
        error = await refused(twilio.messages(message.sid).update, **fields)
        assert (error.status, error.code) == (400, 20001)


async def test_oversized_body_is_413(twilio_server, customer):
    url = f"{twilio_server.url}/2010-04-01/Accounts/{customer.account_id}/Messages.json"
    async with httpx.AsyncClient(auth=(customer.account_id, customer.live_key)) as client:
        response = await client.post(url, data={"To": TO, "Body": "x" * (1024 * 1024 + 1)})
    assert response.status_code == 413
    assert response.json()["code"] == 20413
