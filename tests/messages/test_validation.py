"""Every bad input of the send path gets its own 4xx code, in the envelope, naming the field."""

from __future__ import annotations

import pytest

SEND = {"to": "+12025550143", "from": "LynSMS", "body": "hello"}


def assert_error(response, status, code, param=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["meta"]["request_id"] == response.headers["x-request-id"]
    if param is not None:
        assert body["error"]["param"] == param
    return body["error"]


@pytest.mark.parametrize(
    ("changes", "code", "param"),
    [
        ({"to": "0712345678"}, "invalid_phone_number", "to"),
        ({"to": "2025550143"}, "invalid_phone_number", "to"),
        ({"to": "+1202555014x"}, "invalid_phone_number", "to"),
        ({"to": "+123"}, "invalid_phone_number", "to"),
        ({"to": "+1202555014399999"}, "invalid_phone_number", "to"),
        ({"from": "TWELVECHARSX"}, "invalid_sender", "from"),
        ({"from": "12"}, "invalid_sender", "from"),
        ({"from": "Bad!Sender"}, "invalid_sender", "from"),
        ({"body": ""}, "empty_body", "body"),
        ({"body": "a" * 1601}, "message_too_long", "body"),
        ({"send_at": "2020-01-01T00:00:00Z"}, "invalid_schedule_date", "send_at"),
        ({"send_at": "tomorrow"}, "invalid_schedule_date", "send_at"),
        ({"provider": "acme"}, "unknown_provider", "provider"),
        ({"colour": "blue"}, "validation_error", "colour"),
        ({"validity_period": 5}, "validation_error", "validity_period"),
        ({"reference": "r" * 129}, "validation_error", "reference"),
    ],
)
async def test_send_validation_codes(api, customer, changes, code, param):
    response = await api.post("/messages/send", json={**SEND, **changes}, headers=customer.test)
    assert_error(response, 422, code, param)


async def test_1600_code_points_is_the_limit_not_utf16_units(api, customer):
    body = "😀" * 1600  # 1600 code points, 3200 UTF-16 units
    response = await api.post("/messages/send", json={**SEND, "body": body}, headers=customer.test)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("missing", ["to", "from", "body"])
async def test_missing_required_field_is_named(api, customer, missing):
    payload = {k: v for k, v in SEND.items() if k != missing}
    error = assert_error(
        await api.post("/messages/send", json=payload, headers=customer.test),
        422,
        "validation_error",
        missing,
    )
    assert missing in error["message"]


async def test_live_send_from_unapproved_sender(api, customer):
    response = await api.post(
        "/messages/send", json={**SEND, "from": "Unknown"}, headers=customer.live
    )
    assert_error(response, 422, "sender_not_approved", "from")


async def test_malformed_json_is_400(api, customer):
    response = await api.post(
        "/messages/send",
        content=b'{"to": ',
        headers={**customer.test, "Content-Type": "application/json"},
    )
    assert_error(response, 400, "invalid_json")


async def test_non_json_content_type_is_415(api, customer):
    response = await api.post(
        "/messages/send",
        content=b"to=+12025550143",
        headers={**customer.test, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 415, "unsupported_media_type")


async def test_body_over_one_mebibyte_is_413(api, customer):
    response = await api.post(
        "/messages/send",
        content=b"{" + b" " * (1024 * 1024) + b"}",
        headers={**customer.test, "Content-Type": "application/json"},
    )
    assert_error(response, 413, "payload_too_large")


async def test_chunked_body_over_one_mebibyte_is_413(api, customer):
    async def chunks():
        for _ in range(20):
            yield b" " * 65536

    response = await api.post(
        "/messages/send",
        content=chunks(),
        headers={**customer.test, "Content-Type": "application/json"},
    )
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("payload", [[], "text", 12, None, {"to": 5, "from": [], "body": {}}])
async def test_wrong_json_types_are_422_not_500(api, customer, payload):
    response = await api.post("/messages/send", json=payload, headers=customer.test)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_unknown_endpoint_is_enveloped_404(api, customer):
    assert_error(await api.get("/nothing-here", headers=customer.test), 404, "not_found")


async def test_wrong_method_is_enveloped_405(api, customer):
    assert_error(
        await api.put("/messages/send", json={}, headers=customer.test), 405, "method_not_allowed"
    )
