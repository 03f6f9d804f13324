"""MMS sends (API.md §8, §12): media_ids / media_urls, US and CA only, MMS providers only.

Live sends go to the provider fakes over loopback; each fake checks the request against
its provider's published spec and records the media URL, which is then fetched back from
LynSMS without a key (as the provider would)."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from tests.factories import create_customer
from tests.fakes import clicksend as clicksend_fake
from tests.fakes.base import Behaviour
from tests.media.conftest import GIF, PNG, uploaded

_numbers = itertools.count(7000)


def us(area: str = "312") -> str:
    return f"+1{area}555{next(_numbers):04d}"


CA = "+14165550{:03d}"  # Toronto


def ca() -> str:
    return CA.format(next(_numbers) % 1000)


@pytest.fixture(scope="module", autouse=True)
def _warm_fakes() -> None:
    clicksend_fake.spec_problems({})  # load the validator before the first timed send


async def send(client, headers, expect: int = 201, **fields: Any) -> dict[str, Any]:
    body = {"from": "LynSMS", **fields}
    response = await client.post("/messages/send", json=body, headers=headers)
    assert response.status_code == expect, response.text
    data: dict[str, Any] = response.json()["data" if expect < 300 else "error"]
    return data


def media_received(fakes: Any, provider: str, to: str) -> list[str]:
    """The media URLs the provider fake accepted for ``to``."""
    (accepted,) = [m for m in fakes.by_name(provider).accepted if m.to == to]
    if provider == "twilio":
        return list(accepted.extra["form"]["MediaUrl"])
    if provider == "sinch":
        return [accepted.extra["media_url"]]
    return [accepted.extra["media_file"]]


async def fetch(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.get(url)


async def balance(client, customer) -> float:
    response = await client.get("/balance", headers=customer.live)
    return float(response.json()["data"]["balance"])


# --- the simulator (test keys) -------------------------------------------------------------
async def test_a_test_key_sends_an_mms_through_the_simulator(mapi, mcustomer):
    media = await uploaded(mapi, mcustomer.test)
    message = await send(mapi, mcustomer.test, to=us(), body="Look", media_ids=[media["id"]])
    assert (message["type"], message["media_urls"]) == ("mms", [media["url"]])
    assert (message["status"], message["provider"]) == ("sent", "simulator")
    assert (message["segments"], message["cost"]) == (1, 0.02)


async def test_an_sms_says_so(mapi, mcustomer):
    message = await send(mapi, mcustomer.test, to=us(), body="Plain")
    assert (message["type"], message["media_urls"]) == ("sms", [])


async def test_the_body_is_optional_and_a_long_one_is_still_one_message(mapi, mcustomer):
    media = await uploaded(mapi, mcustomer.live)
    bare = await send(mapi, mcustomer.live, to=us(), media_ids=[media["id"]])
    assert (bare["body"], bare["type"], bare["segments"]) == ("", "mms", 1)
    long = await send(mapi, mcustomer.live, to=us(), body="x" * 900, media_ids=[media["id"]])
    assert (long["segments"], long["cost"]) == (1, 0.02)


async def test_the_mms_price_is_debited_and_on_the_ledger(mapi, media_server):
    customer = await create_customer(media_server.runtime)
    media = await uploaded(mapi, customer.live)
    before = await balance(mapi, customer)
    message = await send(mapi, customer.live, to=us(), body="Hi", media_ids=[media["id"]])
    assert message["cost"] == 0.02
    assert round(before - await balance(mapi, customer), 4) == 0.02
    fetched = await mapi.get(f"/messages/{message['id']}", headers=customer.live)
    assert fetched.json()["data"]["media_urls"] == [media["url"]]
    assert fetched.json()["data"]["type"] == "mms"


async def test_a_canadian_number_takes_an_mms(mapi, mcustomer):
    media = await uploaded(mapi, mcustomer.live)
    message = await send(mapi, mcustomer.live, to=ca(), media_ids=[media["id"]])
    assert message["type"] == "mms"


async def test_media_urls_of_any_public_host(mapi, mcustomer):
    url = "https://cdn.example.com/cat.jpg"
    message = await send(mapi, mcustomer.live, to=us(), media_urls=[url])
    assert message["media_urls"] == [url]


# --- refusals -----------------------------------------------------------------------------
async def test_an_mms_to_the_uk_is_mms_not_supported(mapi, mcustomer):
    media = await uploaded(mapi, mcustomer.live)
    error = await send(
        mapi, mcustomer.live, 422, to="+447700900100", body="Hi", media_ids=[media["id"]]
    )
    assert (error["code"], error["param"]) == ("mms_not_supported", "to")


async def test_infobip_has_no_mms(mapi, mcustomer):
    media = await uploaded(mapi, mcustomer.live)
    for headers in (mcustomer.live, mcustomer.test):
        error = await send(
            mapi, headers, 422, to=us(), provider="infobip", media_urls=["https://a.example/x.png"]
        )
        assert (error["code"], error["param"]) == ("mms_not_supported", "provider")
    error = await send(
        mapi, mcustomer.live, 422, to=us(), provider="infobip", media_ids=[media["id"]]
    )
    assert error["code"] == "mms_not_supported"


async def test_unknown_or_foreign_media_is_unknown_media(mapi, mcustomer, media_server):
    other = await create_customer(media_server.runtime)
    theirs = await uploaded(mapi, other.live)
    mine_in_test = await uploaded(mapi, mcustomer.test)
    for media_id in ("med_doesnotexist", theirs["id"], mine_in_test["id"]):
        error = await send(mapi, mcustomer.live, 422, to=us(), media_ids=[media_id])
        assert (error["code"], error["param"]) == ("unknown_media", "media_ids")


async def test_deleted_media_is_unknown(mapi, mcustomer):
    media = await uploaded(mapi, mcustomer.live)
    await mapi.delete(f"/media/{media['id']}", headers=mcustomer.live)
    error = await send(mapi, mcustomer.live, 422, to=us(), media_ids=[media["id"]])
    assert error["code"] == "unknown_media"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"media_ids": []}, "media_ids"),
        ({"media_urls": []}, "media_urls"),
        ({"media_urls": ["ftp://a.example/x.png"]}, "media_urls"),
        ({"media_urls": ["not a url"]}, "media_urls"),
        ({"media_urls": [f"https://a.example/{i}.png" for i in range(11)]}, "media_urls"),
    ],
)
async def test_malformed_media_is_a_validation_error(mapi, mcustomer, fields, param):
    error = await send(mapi, mcustomer.live, 422, to=us(), body="Hi", **fields)
    assert (error["code"], error["param"]) == ("validation_error", param)


async def test_nothing_is_charged_for_a_refused_mms(mapi, media_server):
    customer = await create_customer(media_server.runtime)
    before = await balance(mapi, customer)
    await send(mapi, customer.live, 422, to="+447700900100", media_urls=["https://a.example/x.png"])
    assert await balance(mapi, customer) == before


# --- bulk ---------------------------------------------------------------------------------
async def test_bulk_with_media(mapi, media_server):
    customer = await create_customer(media_server.runtime)
    media = await uploaded(mapi, customer.live, data=GIF, content_type="image/gif")
    recipients = [us(), ca(), "+447700900100"]
    response = await mapi.post(
        "/messages/bulk",
        json={"from": "LynSMS", "recipients": recipients, "body": "Hi", "media_ids": [media["id"]]},
        headers=customer.live,
    )
    assert response.status_code == 201, response.text
    result = response.json()["data"]
    assert (result["total"], result["sent"], result["failed"]) == (3, 2, 1)
    us_item, ca_item, uk_item = result["messages"]
    assert uk_item["error"]["code"] == "mms_not_supported"
    assert us_item["cost"] == ca_item["cost"] == 0.02
    message = (await mapi.get(f"/messages/{us_item['id']}", headers=customer.live)).json()
    assert (message["data"]["type"], message["data"]["media_urls"]) == ("mms", [media["url"]])
    assert round(10.0 - await balance(mapi, customer), 4) == 0.04


async def test_bulk_with_an_unknown_media_is_refused_whole(mapi, mcustomer):
    response = await mapi.post(
        "/messages/bulk",
        json={"from": "LynSMS", "recipients": [us()], "media_ids": ["med_nope"]},
        headers=mcustomer.live,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_media"


# --- real providers over loopback ---------------------------------------------------------
@pytest.mark.parametrize("provider", ["twilio", "sinch", "clicksend"])
async def test_each_mms_provider_receives_the_media_and_can_fetch_it(
    mgw, mgw_customer, fakes, provider
):
    media = await uploaded(mgw, mgw_customer.live)
    to = us()
    message = await send(
        mgw, mgw_customer.live, to=to, body="A picture", media_ids=[media["id"]], provider=provider
    )
    assert (message["status"], message["provider"], message["type"]) == ("sent", provider, "mms")
    received = media_received(fakes, provider, to)
    assert received == [media["url"]]
    served = await fetch(received[0])
    assert (served.status_code, served.content) == (200, PNG)
    assert served.headers["content-type"] == "image/png"
    assert message["cost"] == 0.02


async def test_the_clicksend_mms_has_a_subject_and_goes_to_the_mms_endpoint(
    mgw, mgw_customer, fakes
):
    media = await uploaded(mgw, mgw_customer.live)
    to = ca()
    body = "The cat, asleep on the sofa"
    await send(
        mgw, mgw_customer.live, to=to, body=body, media_ids=[media["id"]], provider="clicksend"
    )
    paths = [r.path for r in fakes.clicksend.received]
    assert paths == ["/v3/mms/send"]
    (accepted,) = fakes.clicksend.accepted
    assert accepted.extra["subject"] == body[:20].strip()  # ClickSend: at most 20 characters
    assert accepted.extra["media_file"] == media["url"]


async def test_clicksend_needs_a_body_so_a_bare_mms_goes_elsewhere(mgw, mgw_customer, fakes):
    media = await uploaded(mgw, mgw_customer.live)
    error = await send(
        mgw, mgw_customer.live, 422, to=us(), media_ids=[media["id"]], provider="clicksend"
    )
    assert (error["code"], error["param"]) == ("mms_not_supported", "provider")
    to = us()
    fakes.twilio.behave(to, Behaviour.SERVER_ERROR)
    message = await send(mgw, mgw_customer.live, to=to, media_ids=[media["id"]])
    assert (message["status"], message["provider"]) == ("sent", "sinch")
    assert media_received(fakes, "sinch", to) == [media["url"]]


async def test_mms_routing_skips_providers_without_mms(mgw, mgw_customer, fakes):
    """Route 1 is twilio → sinch → infobip → clicksend: with twilio and sinch failing, an
    MMS goes to clicksend and never to infobip."""
    to = us()
    fakes.twilio.behave(to, Behaviour.SERVER_ERROR)
    fakes.sinch.behave(to, Behaviour.SERVER_ERROR)
    message = await send(
        mgw, mgw_customer.live, to=to, body="Hi", media_urls=["https://a.example/x.png"]
    )
    assert (message["status"], message["provider"]) == ("sent", "clicksend")
    assert message["attempts"] == 3
    assert not [m for m in fakes.infobip.received if to.lstrip("+") in m.body.decode()]


async def test_several_media_go_only_where_they_fit(mgw, mgw_customer, fakes):
    """Sinch and ClickSend carry one media per message: an MMS with two goes to Twilio
    (failover stays among the providers that fit); naming Sinch is refused."""
    urls = ["https://a.example/1.png", "https://a.example/2.png"]
    to = us()
    message = await send(mgw, mgw_customer.live, to=to, media_urls=urls)
    assert message["provider"] == "twilio"
    assert media_received(fakes, "twilio", to) == urls
    error = await send(mgw, mgw_customer.live, 422, to=us(), media_urls=urls, provider="sinch")
    assert (error["code"], error["param"]) == ("mms_not_supported", "provider")
    to = us()
    fakes.twilio.behave(to, Behaviour.SERVER_ERROR)
    queued = await send(mgw, mgw_customer.live, to=to, media_urls=urls)
    assert (queued["status"], queued["attempts"]) == ("queued", 1)  # nobody else fits


async def test_an_sms_is_unchanged_by_all_this(mgw, mgw_customer, fakes):
    to = us()
    message = await send(mgw, mgw_customer.live, to=to, body="Plain", provider="twilio")
    assert message["type"] == "sms"
    (accepted,) = fakes.twilio.accepted
    assert "MediaUrl" not in accepted.extra["form"]
