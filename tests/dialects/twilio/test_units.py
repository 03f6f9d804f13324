"""The pieces of the Twilio dialect without a server: SIDs, shapes, forms, sealing, and the
webhook delivery of a callback whose token cannot be unsealed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from twilio.request_validator import RequestValidator

from lynsms.dialects.twilio import callbacks, forms
from lynsms.dialects.twilio.errors import TwilioError
from lynsms.dialects.twilio.resources import price, twilio_error, twilio_status
from lynsms.dialects.twilio.sids import bounds, id_prefix, sid_of
from lynsms.kit.ids import ALPHABET, new_id
from lynsms.webhooks.delivery import Job, Outcome, attempt_all, plan

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ids = hs.text(alphabet=ALPHABET, min_size=25, max_size=25).map(lambda s: "msg_" + s)


@given(ids)
def test_a_sid_stands_for_the_first_21_characters_of_an_id(message_id):
    sid = sid_of(message_id)
    assert len(sid) == 34 and sid.startswith("SM") and int(sid[2:], 16) >= 0
    prefix = id_prefix(sid)
    assert prefix == message_id[:25]
    low, high = bounds(prefix)
    assert low <= message_id <= high
    assert id_prefix("SM" + sid[2:].upper()) == prefix  # hex of either case


@given(ids, ids)
def test_sids_sort_like_ids(first, second):
    if first[:25] != second[:25]:
        assert (first < second) == (sid_of(first) < sid_of(second))


def test_real_ids_and_what_is_no_sid():
    message_id = new_id("msg")
    assert id_prefix(sid_of(message_id)) == message_id[:25]
    for text in ("SM" + "f" * 32, "SM123", "MM" + "0" * 32, "SM" + "g" * 32, ""):
        assert id_prefix(text) is None  # 0xfff… is beyond 62**21


def test_prices_statuses_and_error_codes():
    assert (price(500), price(12_345), price(0)) == ("-0.0500", "-1.2345", "0.0000")
    assert [twilio_status(s) for s in ("cancelled", "expired", "delivered", "received")] == [
        "canceled",
        "failed",
        "delivered",
        "received",
    ]
    assert twilio_error("undelivered", "30003", "carrier", "simulator") == (30003, "carrier")
    assert twilio_error("undelivered", "402", "no route", "sinch") == (30008, "no route")
    assert twilio_error("failed", "rejected", "bad number", "infobip") == (21211, "bad number")
    assert twilio_error("failed", "blacklisted", "", "twilio") == (21610, None)
    assert twilio_error("expired", "expired", "too late", None) == (30036, "too late")
    assert twilio_error("queued", "provider_unavailable", "retrying", "twilio") == (None, None)


def test_date_sent_filters():
    day = forms.list_query({"DateSent": "2026-11-25T00:00:00Z"}).filters
    assert day == {"sent_from": NOW - timedelta(hours=12), "sent_until": NOW + timedelta(hours=12)}
    until_day = forms.list_query({"DateSent<": "2026-11-25"}).filters
    assert until_day == {"sent_until": NOW + timedelta(hours=12)}
    until = forms.list_query({"DateSent<": "2026-11-25T12:00:00Z"}).filters
    assert until == {"sent_until": NOW + timedelta(seconds=1)}
    assert forms.list_query({"DateSent>": "2026-11-25T12:00:00Z"}).filters == {"sent_from": NOW}
    for params in ({"DateSent": "soon"}, {"PageSize": "0"}, {"PageSize": "1001"}, {"Page": "-1"}):
        with pytest.raises(TwilioError) as refused:
            forms.list_query(params)
        assert (refused.value.status, refused.value.code) == (400, 20001)


def test_page_tokens():
    sid = sid_of(new_id("msg"))
    assert forms.list_query({"PageToken": "PA" + sid}).older_than == id_prefix(sid)
    assert forms.list_query({"PageToken": "PB" + sid}).newer_than == id_prefix(sid)
    for token in ("PX" + sid, "PA", "PAnope"):
        with pytest.raises(TwilioError):
            forms.list_query({"PageToken": token})


def test_short_validity_becomes_an_expiry():
    form = {"To": ["+12025550143"], "From": ["LynSMS"], "Body": ["x"], "ValidityPeriod": ["30"]}
    request = forms.create_request(form).request
    assert request.validity_period is None and request.expire_at is not None
    long = forms.create_request({**form, "ValidityPeriod": ["3600"]}).request
    assert (long.validity_period, long.expire_at) == (3600, None)
    at = "2026-12-01T10:00:00Z"
    scheduled = forms.create_request({**form, "SendAt": [at], "ScheduleType": ["fixed"]}).request
    assert scheduled.send_at == at and scheduled.expire_at == "2026-12-01T10:00:30+00:00"


def test_sealing_round_trip_and_another_key():
    sealed = callbacks.seal(b"server-key", "ds_live_abc")
    assert "ds_live_abc" not in sealed
    assert callbacks.unseal(b"server-key", sealed) == "ds_live_abc"
    assert callbacks.unseal(b"another-key", sealed) is None
    assert callbacks.unseal(b"server-key", "garbage") is None


def test_callback_signature_is_twilios():
    payload = orjson.dumps(
        {
            "data": {
                "id": "msg_0Ut8kQzAbCdEfGhIjKlMnOpQr",
                "status": "failed",
                "to": "+12025550143",
                "from": "LynSMS",
                "error": {"code": "rejected", "message": "bad"},
                "provider": "twilio",
            }
        }
    ).decode()
    url = "https://example.com/cb?a=1"
    body, headers = callbacks.callback_request(payload, "acct_1", url, "tok", "evt_1", NOW)
    params = dict(httpx.QueryParams(body.decode()))
    assert params["ErrorCode"] == "21211" and params["MessageStatus"] == "failed"
    assert "RawDlrDoneDate" not in params
    assert RequestValidator("tok").validate(url, params, headers["x-twilio-signature"])


def twilio_job(sealed: str | None) -> Job:
    return Job(
        delivery_id=1,
        attempts=0,
        event_id="evt_1",
        event_type="message.sent",
        payload=orjson.dumps({"data": {"id": "msg_1", "status": "sent"}}).decode(),
        event_created_at=NOW,
        endpoint_id="whk_twL1",
        url="http://127.0.0.1:9/cb",
        format=callbacks.FORMAT,
        headers={},
        endpoint_live=True,
        failing_since=None,
        account_id="acct_1",
        sealed_token=sealed,
    )


async def test_a_token_sealed_under_another_key_fails_the_attempt_without_sending():
    job = twilio_job(callbacks.seal(b"old-key", "ds_live_abc"))
    requests: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: requests.append(r) or httpx.Response(200))
    async with httpx.AsyncClient(transport=transport) as client:
        (outcome,) = await attempt_all([client], [job], b"new-key", allow_private=True)
    assert requests == []
    assert outcome.attempted and "sealed under another secret key" in (outcome.error or "")
    result = plan([job], [outcome], NOW, [1.0])
    assert result.deliveries[0]["p_status"] == "pending"
    assert not result.failing and not result.disable  # one message's URL, not the endpoint's


def test_a_410_fails_only_that_callback():
    gone = Outcome(True, NOW, 410, 3, "HTTP 410")
    result = plan([twilio_job("x")], [gone], NOW, [1.0])
    assert result.deliveries[0]["p_status"] == "failed"
    assert not result.disable and not result.failing
