"""The Sinch dialect's pure parts: numbers, parameters, statuses, report building."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lynsms.dialects.sinch.callbacks import ENDPOINT
from lynsms.dialects.sinch.errors import SinchError, from_lynsms
from lynsms.dialects.sinch.requests import batch, msisdn, substitute
from lynsms.dialects.sinch.resources import delivery_report, sinch_status, sinch_time
from lynsms.exceptions import ValidationFailed
from lynsms.kit.phones import InvalidNumber
from lynsms.webhooks.service import matches


@pytest.mark.parametrize(
    "raw", ["+12025550143", "12025550143", "0012025550143", "1 (202) 555-0143"]
)
def test_msisdn_takes_sinchs_forms(raw):
    assert msisdn(raw) == "+12025550143"


@pytest.mark.parametrize("raw", ["", "+", "12-ab", "123"])
def test_msisdn_refuses_the_rest(raw):
    with pytest.raises(InvalidNumber):
        msisdn(raw)


def test_substitute_uses_the_recipients_value_then_the_default():
    parameters = {"name": {"+12025550143": "Ann", "default": "you"}, "x": {"+1": "y"}}
    body = "Hi ${name}, ${x} ${unknown}"
    assert substitute(body, parameters, "+12025550143") == "Hi Ann, ${x} ${unknown}"
    assert substitute(body, parameters, "+12025550144") == "Hi you, ${x} ${unknown}"
    assert substitute(body, None, "+12025550143") == body


def test_batch_keys_parameters_by_e164_and_echoes_them_as_given():
    given = {"name": {"0012025550143": "Ann"}}
    spec = batch({"to": ["12025550143"], "from": "LynSMS", "body": "${name}", "parameters": given})
    assert spec.bodies == {"+12025550143": "Ann"}
    assert spec.parameters == given
    with pytest.raises(SinchError) as raised:
        batch({"to": ["12025550143"], "from": "x", "body": "b", "parameters": {"n": {"bad": "v"}}})
    assert raised.value.code == "syntax_invalid_parameter_format"


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        ("scheduled", None, ("Queued", 400)),
        ("queued", None, ("Queued", 400)),
        ("sent", None, ("Dispatched", 401)),
        ("delivered", None, ("Delivered", 0)),
        ("undelivered", "30003", ("Failed", 30003)),
        ("undelivered", "carrier", ("Failed", 404)),
        ("failed", "rejected", ("Rejected", 408)),
        ("failed", "blacklisted", ("Rejected", 408)),
        ("failed", "exhausted", ("Aborted", 402)),
        ("expired", "expired", ("Expired", 406)),
        ("cancelled", None, ("Cancelled", 407)),
    ],
)
def test_statuses_map_to_sinchs(status, error, expected):
    assert sinch_status(status, error) == expected


def test_sinch_time_is_utc_with_milliseconds_and_z():
    moment = datetime(2026, 11, 25, 15, 4, 5, 123456, tzinfo=UTC)
    assert sinch_time(moment) == "2026-11-25T15:04:05.123Z"
    assert sinch_time(None) is None


def test_delivery_report_counts_refused_recipients_and_empties_when_cancelled():
    row = {"id": "blk_1", "refused": ["12025550199"], "canceled": False, "client_reference": None}
    messages = [
        {"to_number": "+12025550143", "status": "delivered", "error_code": None},
        {"to_number": "+12025550144", "status": "delivered", "error_code": None},
    ]
    report = delivery_report(row, messages, full=True)
    assert report["total_message_count"] == 3
    assert report["statuses"] == [
        {
            "code": 0,
            "status": "Delivered",
            "count": 2,
            "recipients": ["12025550143", "12025550144"],
        },
        {"code": 408, "status": "Rejected", "count": 1, "recipients": ["12025550199"]},
    ]
    assert "client_reference" not in report
    assert delivery_report({**row, "canceled": True}, messages, full=True)["statuses"] == []


def test_service_refusals_translate():
    assert from_lynsms(ValidationFailed("x", code="invalid_phone_number")).status == 400
    opted = from_lynsms(ValidationFailed("x", code="recipient_opted_out"))
    assert (opted.status, opted.code) == (403, "recipient_opted_out")


def test_a_sinch_endpoint_takes_only_the_events_chosen_for_it():
    hook = {"format": "sinch", "mode": "live", "events": [], "created_at": datetime.now(UTC)}
    event = {"id": "evt_1", "mode": "live", "type": "message.sent", "message_id": "msg_1"}
    assert matches(hook, event, frozenset({"evt_1"}))
    assert not matches(hook, event, frozenset({"msg_1"}))  # not by message, as twilio's
    assert not matches({**hook, "mode": "test"}, event, frozenset({"evt_1"}))


def test_hidden_endpoint_ids_fit_and_differ_by_mode():
    live = ENDPOINT.endpoint_id("acct_" + "a" * 25, "live")
    test = ENDPOINT.endpoint_id("acct_" + "a" * 25, "test")
    assert len(live) <= 32 and live != test and live.startswith("whk_sn")
