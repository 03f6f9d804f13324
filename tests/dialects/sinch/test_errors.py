"""Refusals in Sinch's shape ``{"code", "text"}`` with Sinch's statuses, as plain HTTP
shaped like Sinch's documentation (the client validates before sending), and the
official client's view of them."""

from __future__ import annotations

import pytest
from sinch.core.exceptions import SinchException

from tests.dialects.sinch.conftest import call, sinch_client
from tests.factories import create_customer

TO = "12025550143"


def batch(**fields: object) -> dict[str, object]:
    return {"to": [TO], "from": "LynSMS", "body": "Hi", **fields}


async def test_bearer_must_be_a_key_of_the_plans_account(sinch_server, xms, customer):
    other = await create_customer(sinch_server.runtime)
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": f"Basic {customer.live_key}"},
        other.live,  # a key of another account
    ):
        response = await xms.get(f"/{customer.account_id}/batches", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized" and response.json()["text"]
    response = await xms.get(f"/{other.account_id}/batches", headers=other.live)
    assert response.status_code == 200


async def test_the_official_client_sees_a_401(sinch_server, customer):
    wrong = sinch_client(sinch_server, customer.account_id, "ds_live_not-a-key")
    with pytest.raises(SinchException) as raised:
        await call(wrong.sms.batches.list)
    assert raised.value.http_response.status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "code", "text"),
    [
        (b"{", 400, "syntax_invalid_json", "not valid JSON"),
        (b"[]", 400, "syntax_invalid_json", "JSON object"),
        (batch(to=[TO, "12-ab"]), 400, "syntax_invalid_parameter_format", "'to[1]'"),
        (batch(to=[]), 400, "syntax_constraint_violation", "between 1 and 1000"),
        (batch(to=[TO] * 1001), 400, "syntax_constraint_violation", "between 1 and 1000"),
        ({"to": [TO], "from": "LynSMS"}, 400, "syntax_constraint_violation", "'body'"),
        ({"to": [TO], "body": "Hi"}, 400, "syntax_constraint_violation", "'from'"),
        (batch(body="x" * 1601), 400, "syntax_constraint_violation", "1600"),
        (batch(type="mt_binary"), 400, "syntax_invalid_parameter_format", "'type'"),
        (batch(delivery_report="all"), 400, "syntax_invalid_parameter_format", "delivery_report"),
        (batch(send_at="tomorrow"), 400, "syntax_invalid_parameter_format", "'send_at'"),
        (
            batch(send_at="2030-01-02T00:00:00Z", expire_at="2030-01-01T00:00:00Z"),
            400,
            "syntax_constraint_violation",
            "expire_at",
        ),
        (batch(callback_url="ftp://x"), 400, "syntax_invalid_parameter_format", "callback_url"),
        (batch(colour="red"), 400, "syntax_invalid_json", "'colour'"),
        (batch(delivery_report="full"), 403, "missing_callback_url", "callback_url"),
        (batch(**{"from": "Unapproved"}), 403, "sender_not_approved", "not approved"),
        (batch(**{"from": "!!"}), 400, "syntax_invalid_parameter_format", "'from'"),
    ],
)
async def test_send_refusals(xms, customer, native, body, status, code, text):
    path = f"/{customer.account_id}/batches"
    if isinstance(body, bytes):
        response = await xms.post(
            path, content=body, headers={**customer.live, "content-type": "application/json"}
        )
    else:
        response = await xms.post(path, json=body, headers=customer.live)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert text in response.json()["text"]
    listed = await native.get("/messages", headers=customer.live)
    assert listed.json()["data"] == []  # nothing sent, nothing charged


async def test_json_only(xms, customer):
    response = await xms.post(
        f"/{customer.account_id}/batches",
        content=b"to=1",
        headers={**customer.live, "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


async def test_not_found_in_sinch_shape(xms, customer):
    plan = f"/{customer.account_id}"
    for path in (
        "/batches/blk_nope",
        "/batches/blk_nope/delivery_report",
        "/inbounds/msg_nope",
        "/groups",
    ):
        response = await xms.get(plan + path, headers=customer.live)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    created = await xms.post(plan + "/batches", json=batch(), headers=customer.live)
    batch_id = created.json()["id"]
    response = await xms.get(
        f"{plan}/batches/{batch_id}/delivery_report/12025559999", headers=customer.live
    )
    assert response.status_code == 404
    response = await xms.delete(f"{plan}/batches/{batch_id}", headers=customer.test)
    assert response.status_code == 404  # a test key does not see live batches


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("page=-1", "page"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page=x", "page"),
        ("start_date=yesterday", "start_date"),
    ],
)
async def test_list_refusals(xms, customer, query, param):
    response = await xms.get(f"/{customer.account_id}/batches?{query}", headers=customer.live)
    assert response.status_code == 400
    assert response.json()["code"] == "syntax_invalid_parameter_format"
    assert f"'{param}'" in response.json()["text"]


async def test_report_refusals(xms, customer):
    plan = f"/{customer.account_id}"
    created = await xms.post(plan + "/batches", json=batch(), headers=customer.live)
    report = f"{plan}/batches/{created.json()['id']}/delivery_report"
    for query in ("type=partial", "status=Gone", "code=abc"):
        response = await xms.get(f"{report}?{query}", headers=customer.live)
        assert response.status_code == 400, query
        assert response.json()["code"] == "syntax_invalid_parameter_format"


async def test_a_key_without_money_is_refused(sinch_server, xms):
    broke = await create_customer(sinch_server.runtime, balance="0.00")
    response = await xms.post(f"/{broke.account_id}/batches", json=batch(), headers=broke.live)
    assert response.status_code == 402
    assert response.json()["code"] == "insufficient_balance"
