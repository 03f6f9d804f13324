"""Opt-out is one fact per account and number (API.md §8, §12): an inbound STOP, a PATCH
``opted_out`` and the contact's flag agree both ways, and the send path refuses it."""

from __future__ import annotations

import itertools

import pytest

from lynsms.database import session_scope
from lynsms.messages.inbound import receive
from lynsms.providers.base import InboundSms
from tests.contacts.helpers import create, error, listing, patch, send
from tests.factories import approve_sender, create_customer

_ids = itertools.count(100)


async def balance(api, customer) -> float:
    return (await api.get("/balance", headers=customer.live)).json()["data"]["balance"]  # type: ignore[no-any-return]


async def opt_out_events(api, customer) -> list[dict]:
    response = await api.get("/events", params={"type": "contact.opted_out"}, headers=customer.live)
    return [event["data"] for event in response.json()["data"]]


async def inbound(server, customer, sender: str, body: str) -> None:
    """``body`` from ``sender`` to a long code of the customer's own (a number is the first
    account's to approve it), through the inbound path."""
    serial = next(_ids)
    long_code = f"+1646555{serial:04d}"
    await approve_sender(server.runtime, customer.account_id, long_code)
    sms = InboundSms(sender=sender, to=long_code, body=body, provider_message_id=f"in-{serial}")
    async with session_scope(server.runtime.database, write=True) as session:
        assert await receive(session, "sinch", [sms]) == 1


async def assert_refused(api, customer, to: str) -> None:
    before = await balance(api, customer)
    error(await send(api, customer.live, to), 422, "recipient_opted_out", "to")
    bulk = await api.post(
        "/messages/bulk",
        json={"from": "LynSMS", "recipients": [to], "body": "Sale today!"},
        headers=customer.live,
    )
    item = bulk.json()["data"]["messages"][0]
    assert (item["status"], item["error"]["code"]) == ("failed", "recipient_opted_out")
    assert await balance(api, customer) == pytest.approx(before)


async def test_patch_opted_out_refuses_sends_until_patched_back(api, customer):
    contact = await create(api, customer.live, phone="+1 202 555 0143")
    assert (await send(api, customer.live, "+12025550143")).status_code == 201

    out = await patch(api, customer.live, contact["id"], opted_out=True)

    assert out["opted_out"] is True and out["opted_out_at"].endswith("+00:00")
    await assert_refused(api, customer, "+12025550143")
    assert await opt_out_events(api, customer) == [
        {"object": "opt_out", "phone": "+12025550143", "source": "api"}
    ]
    again = await patch(api, customer.live, contact["id"], opted_out=True)
    assert again["opted_out_at"] == out["opted_out_at"]  # the same fact: no second opt-out
    assert len(await opt_out_events(api, customer)) == 1

    back = await patch(api, customer.live, contact["id"], opted_out=False)

    assert (back["opted_out"], back["opted_out_at"]) == (False, None)
    assert (await send(api, customer.live, "+12025550143")).status_code == 201


async def test_creating_a_contact_opted_out_refuses_sends(api, customer):
    contact = await create(api, customer.live, phone="+12025550143", opted_out=True)

    assert contact["opted_out"] is True
    await assert_refused(api, customer, "+12025550143")


async def test_inbound_stop_shows_on_the_contact_and_start_lifts_it(api, customer, server):
    contact = await create(api, customer.live, phone="+12025550143")

    await inbound(server, customer, "+12025550143", "STOP")

    got = (await api.get(f"/contacts/{contact['id']}", headers=customer.live)).json()["data"]
    assert got["opted_out"] is True and got["opted_out_at"] is not None
    assert [c["id"] for c in (await listing(api, customer.live, opted_out="true"))["data"]] == [
        contact["id"]
    ]
    assert (await opt_out_events(api, customer))[0]["source"] == "inbound:sinch"

    await inbound(server, customer, "+12025550143", "start")

    got = (await api.get(f"/contacts/{contact['id']}", headers=customer.live)).json()["data"]
    assert (got["opted_out"], got["opted_out_at"]) == (False, None)


async def test_a_stop_creates_no_contact_and_a_later_contact_shows_it(api, customer, server):
    await inbound(server, customer, "+12025550143", " Stop ")

    assert (await listing(api, customer.live))["pagination"]["total_items"] == 0
    contact = await create(api, customer.live, phone="+12025550143")
    assert contact["opted_out"] is True


async def test_deleting_a_contact_does_not_lift_its_opt_out(api, customer):
    contact = await create(api, customer.live, phone="+12025550143")
    await patch(api, customer.live, contact["id"], opted_out=True)

    deleted = await api.delete(f"/contacts/{contact['id']}", headers=customer.live)

    assert deleted.json()["data"]["opted_out"] is True
    await assert_refused(api, customer, "+12025550143")
    assert (await create(api, customer.live, phone="+12025550143"))["opted_out"] is True


async def test_the_opt_out_belongs_to_the_number_not_the_contact(api, customer):
    contact = await create(api, customer.live, phone="+12025550143", opted_out=True)

    moved = await patch(api, customer.live, contact["id"], phone="+12025550144")

    assert moved["opted_out"] is False
    await assert_refused(api, customer, "+12025550143")
    both = await patch(api, customer.live, contact["id"], phone="+12025550145", opted_out=True)
    assert both["opted_out"] is True
    await assert_refused(api, customer, "+12025550145")
    assert (await send(api, customer.live, "+12025550144")).status_code == 201


async def test_an_opt_out_is_per_account(api, customer, server):
    other = await create_customer(server.runtime)
    await create(api, customer.live, phone="+12025550143", opted_out=True)

    theirs = await create(api, other.live, phone="+12025550143")

    assert theirs["opted_out"] is False
    assert (await send(api, other.live, "+12025550143")).status_code == 201
