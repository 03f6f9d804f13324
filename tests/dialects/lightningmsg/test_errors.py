"""Seed 003's error codes and API.md §12's HTTP statuses; the native /api/v1 rules stay."""

from __future__ import annotations

import pytest

from lynsms.database import session_scope
from tests.dialects.lightningmsg.conftest import BASE, Client, grant
from tests.factories import create_customer, create_key

MOBILE = "+40123456789"


async def test_authentication(lmsg: Client) -> None:
    body = {"secret_code": lmsg.secret_code}
    no_key = await lmsg.http.post(f"{BASE}/get_packages", data=body)
    assert (no_key.status_code, no_key.json()) == (
        401,
        {"status": "4003", "message": "The provided API key is invalid or unauthorized."},
    )
    bad_key = await lmsg.form("get_packages", body, headers={"X-Api-Key": "ds_live_nope"})
    assert (bad_key.status_code, bad_key.json()["status"]) == (401, "4003")
    bearer = await lmsg.http.post(
        f"{BASE}/get_packages", data=body, headers=lmsg.customer.live
    )  # a native Authorization header is no X-Api-Key
    assert (bearer.status_code, bearer.json()["status"]) == (401, "4003")

    missing = await lmsg.form("get_packages", {})
    assert (missing.status_code, missing.json()["status"]) == (401, "4001")
    wrong = await lmsg.json("get_packages", {"secret_code": "89gysdgsldn232"})
    assert (wrong.status_code, wrong.json()) == (
        401,
        {"status": "4001", "message": "The provided secret code is invalid."},
    )


async def test_another_accounts_secret_or_message(lmsg: Client, lmsg_server) -> None:
    other = await create_customer(lmsg_server.runtime)  # no secret set: nothing matches
    crossed = await lmsg.form(
        "get_packages", {"secret_code": lmsg.secret_code}, headers={"X-Api-Key": other.live_key}
    )
    assert (crossed.status_code, crossed.json()["status"]) == (401, "4001")

    sent = await lmsg.form(
        "send",
        {
            "secret_code": lmsg.secret_code,
            "mobile": MOBILE,
            "message": "hi",
            "send_date": "2099-01-01 10:00:00",
        },
    )
    sms_id = sent.json()["sms_data"]["sms_id"]
    async with session_scope(lmsg_server.runtime.database, write=True) as session:
        from lynsms.dialects.lightningmsg import secrets

        other_secret = await secrets.rotate(session, other.account_id)
    for operation in (f"get_status/{sms_id}", f"cancel/{sms_id}"):
        response = await lmsg.form(
            operation, {"secret_code": other_secret}, headers={"X-Api-Key": other.live_key}
        )
        assert (response.status_code, response.json()["status"]) == (404, "0100")


async def test_scopes(lmsg: Client, lmsg_server) -> None:
    reader = await create_key(
        lmsg_server.runtime, lmsg.customer.account_id, scopes=["messages:read"]
    )
    refused = await lmsg.form(
        "send",
        {"secret_code": lmsg.secret_code, "mobile": MOBILE, "message": "hi"},
        headers={"X-Api-Key": reader},
    )
    assert (refused.status_code, refused.json()["status"]) == (403, "4003")
    listed = await lmsg.form(
        "get_sent_messages", {"secret_code": lmsg.secret_code}, headers={"X-Api-Key": reader}
    )
    assert listed.status_code == 200


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"message": "hi"}, 400, "0001"),
        ({"mobile": MOBILE}, 400, "0001"),
        ({"mobile": "12ab", "message": "hi"}, 400, "4007"),
        ({"mobile": MOBILE, "message": "x" * 1601}, 400, "4008"),
        ({"mobile": MOBILE, "message": "hi", "send_date": "2020-01-01 00:00:00"}, 400, "4009"),
        ({"mobile": MOBILE, "message": "hi", "send_date": "2030-06-10T18:30:00Z"}, 400, "4009"),
    ],
)
async def test_send_validation(lmsg: Client, fields, status, code) -> None:
    response = await lmsg.form("send", {"secret_code": lmsg.secret_code, **fields})
    assert (response.status_code, response.json()["status"]) == (status, code)
    assert set(response.json()) == {"status", "message"} and response.json()["message"]


async def test_not_found_and_unknown_operation(lmsg: Client) -> None:
    body = {"secret_code": lmsg.secret_code}
    missing = await lmsg.form("get_status/msg_doesnotexist", body)
    assert (missing.status_code, missing.json()["status"]) == (404, "0100")
    missing = await lmsg.json("cancel/msg_doesnotexist", body)
    assert (missing.status_code, missing.json()["status"]) == (404, "0100")
    unknown = await lmsg.form("send_fax", body)
    assert (unknown.status_code, unknown.json()["status"]) == (404, "0050")
    bad_json = await lmsg.http.post(
        f"{BASE}/get_packages",
        content=b"{not json",
        headers={**lmsg.key, "Content-Type": "application/json"},
    )
    assert (bad_json.status_code, bad_json.json()["status"]) == (400, "0001")


async def test_payment_codes(lmsg_server, lmsg: Client) -> None:
    poor = await create_customer(lmsg_server.runtime, balance="0.00")
    async with session_scope(lmsg_server.runtime.database, write=True) as session:
        from lynsms.dialects.lightningmsg import secrets

        code = await secrets.rotate(session, poor.account_id)
    headers = {"X-Api-Key": poor.live_key}
    nothing = await lmsg.form(
        "send", {"secret_code": code, "mobile": MOBILE, "message": "hi"}, headers=headers
    )
    assert (nothing.status_code, nothing.json()["status"]) == (402, "4004")

    await grant(lmsg_server, poor.account_id, "1 SMS", 1)
    too_long = await lmsg.form(
        "send", {"secret_code": code, "mobile": MOBILE, "message": "x" * 400}, headers=headers
    )  # 3 segments, one prepaid, no money
    assert (too_long.status_code, too_long.json()["status"]) == (402, "4005")
    fits = await lmsg.form(
        "send", {"secret_code": code, "mobile": MOBILE, "message": "hi"}, headers=headers
    )
    assert fits.status_code == 200
    assert (fits.json()["total_sms"], fits.json()["used_sms"]) == ("1", "1")


async def test_media_types_here_and_the_native_rule_elsewhere(lmsg: Client, native) -> None:
    xml = await lmsg.http.post(
        f"{BASE}/get_packages", content=b"<x/>", headers={**lmsg.key, "Content-Type": "text/xml"}
    )
    assert xml.status_code == 415
    form_native = await native.post(
        "/messages/send", data={"to": MOBILE, "body": "hi"}, headers=lmsg.customer.live
    )
    assert form_native.status_code == 415
    assert form_native.json()["error"]["code"] == "unsupported_media_type"
