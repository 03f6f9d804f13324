"""An inbound STOP through a provider's real callback (Sinch's JSON with ``?token=``)
opts the contact out; START opts it back in (API.md §4, §8)."""

from __future__ import annotations

from tests.contacts.helpers import create
from tests.providers.test_callbacks_e2e import inbound, number, owned_long_code, post


async def contact_of(gw, customer, contact_id: str) -> dict:
    return (await gw.get(f"/contacts/{contact_id}", headers=customer.live)).json()["data"]  # type: ignore[no-any-return]


async def test_stop_and_start_callbacks_move_the_contacts_flag(gw, gw_customer, fakes, gateway):
    code, sender = await owned_long_code(gateway, gw_customer), number()
    contact = await create(gw, gw_customer.live, phone=sender, name="Ada")

    stop = await post(gw, inbound(gateway, fakes, "sinch", sender, code, "STOP"))

    assert stop.status_code == 200, stop.text
    assert (await contact_of(gw, gw_customer, contact["id"]))["opted_out"] is True
    refused = await gw.post(
        "/messages/send",
        json={"to": sender, "from": "LynSMS", "body": "Sale"},
        headers=gw_customer.live,
    )
    assert refused.json()["error"]["code"] == "recipient_opted_out"

    start = await post(gw, inbound(gateway, fakes, "sinch", sender, code, "START"))

    assert start.status_code == 200, start.text
    assert (await contact_of(gw, gw_customer, contact["id"]))["opted_out"] is False
