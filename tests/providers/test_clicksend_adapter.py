"""The ClickSend adapter through ``httpx.MockTransport`` (never the network).

Send rows: a mocked reply, the exact request expected (method, URL, headers, JSON
body) and the expected ``SendResult`` or error (class, ``retryable``,
``provider_code``, ``http_status``). Then transport failures, the callback token,
the receipt status table and inbound parsing.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import pydantic
import pytest

from lynsms.providers.base import (
    BillingFailed,
    Blacklisted,
    CallbackRejected,
    CallbackRequest,
    ConfigurationError,
    ConnectionFailed,
    DeliveryReport,
    InboundSms,
    OutboundSms,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    Rejected,
    SendResult,
    Throttled,
)
from lynsms.providers.clicksend import ClickSendConfig, ClickSendProvider
from lynsms.providers.clicksend.callbacks import (
    delivery_status,
    parse_inbound_callback,
    parse_status_callback,
)

USERNAME = "acme-api"
API_KEY = "8C2A0F0E-2B7D-4C1A-9E55-SECRETSECRET"
TOKEN = "cb-token-4f9a1c"
BASIC = base64.b64encode(f"{USERNAME}:{API_KEY}".encode()).decode()
BASE_URL = "https://rest.clicksend.test"
MESSAGE_ID = "1ABC3200-C38C-6308-BE4B-C7C51D01DCF0"

SMS = OutboundSms(
    message_id="msg_01JABCDEF",
    to="+61411111111",
    sender="LynSMS",
    body="Your code is 1234",
    status_callback_url="https://sms.example.com/callbacks/clicksend/status",
    validity_seconds=3600,
)
SMS_BODY = {
    "messages": [
        {
            "source": "lynsms",
            "to": "+61411111111",
            "body": "Your code is 1234",
            "from": "LynSMS",
            "custom_string": "msg_01JABCDEF",
        }
    ]
}
MMS = OutboundSms(
    message_id="msg_01JMMS",
    to="+14155550100",
    sender="+14155550199",
    body="Look at this picture of our new shop",
    media_urls=("https://sms.example.com/media/med_1.jpg",),
)
MMS_BODY = {
    "media_file": "https://sms.example.com/media/med_1.jpg",
    "messages": [
        {
            "source": "lynsms",
            "to": "+14155550100",
            "body": "Look at this picture of our new shop",
            "from": "+14155550199",
            "custom_string": "msg_01JMMS",
            "subject": "Look at this picture",
        }
    ],
}


# --- replies ------------------------------------------------------------------------------
def queued(status: str = "SUCCESS", message_id: str | None = MESSAGE_ID) -> dict[str, Any]:
    """ClickSend's 200 envelope with one message of the given status (spec example shape)."""
    message: dict[str, Any] = {
        "direction": "out",
        "date": 1721099039,
        "to": "+61411111111",
        "body": "Your code is 1234",
        "from": "LynSMS",
        "schedule": 1721099039,
        "message_parts": 1,
        "message_price": "0.0792",
        "custom_string": "msg_01JABCDEF",
        "status": status,
    }
    if message_id is not None:
        message["message_id"] = message_id
    data = {"total_price": 0.0792, "total_count": 1, "queued_count": 1, "messages": [message]}
    return envelope(200, "SUCCESS", "Messages queued for delivery.", data)


def envelope(http_code: int, code: str, text: str, data: Any = None) -> dict[str, Any]:
    return {"http_code": http_code, "response_code": code, "response_msg": text, "data": data}


@dataclass(frozen=True)
class Reply:
    status: int = 200
    json: Any = None
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> httpx.Response:
        if self.json is not None:
            return httpx.Response(self.status, json=self.json, headers=self.headers)
        return httpx.Response(self.status, content=self.content, headers=self.headers)


@dataclass(frozen=True)
class Failure:
    error: type[ProviderError]
    retryable: bool
    provider_code: str | None
    http_status: int | None
    retry_after: float | None = None


@dataclass(frozen=True)
class Case:
    name: str
    reply: Reply
    expected: SendResult | Failure
    sms: OutboundSms = SMS
    path: str = "/v3/sms/send"
    body: dict[str, Any] = field(default_factory=lambda: SMS_BODY)


PARTIAL = envelope(
    200,
    "SUCCESS",
    "Messages queued for delivery.",
    {
        "total_price": 0,
        "total_count": 1,
        "queued_count": 0,
        "blocked_count": 1,
        "messages": [{"message_id": MESSAGE_ID, "status": "COUNTRY_NOT_ENABLED", "schedule": ""}],
    },
)
HTML_503 = b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
THROTTLED_429 = envelope(429, "HTTP_TOO_MANY_REQUESTS", "Too many attempts.")

CASES = [
    Case("queued", Reply(json=queued()), SendResult(MESSAGE_ID, "SUCCESS")),
    Case(
        "mms queued",
        Reply(json=queued()),
        SendResult(MESSAGE_ID, "SUCCESS"),
        sms=MMS,
        path="/v3/mms/send",
        body=MMS_BODY,
    ),
    Case(
        "invalid recipient inside 200",
        Reply(json=queued("INVALID_RECIPIENT")),
        Failure(Rejected, False, "INVALID_RECIPIENT", 200),
    ),
    Case(
        "partial: 200 SUCCESS envelope, this message blocked",
        Reply(json=PARTIAL),
        Failure(ConfigurationError, False, "COUNTRY_NOT_ENABLED", 200),
    ),
    Case(
        "no credit inside 200",
        Reply(json=queued("INSUFFICIENT_CREDIT")),
        Failure(BillingFailed, False, "INSUFFICIENT_CREDIT", 200),
    ),
    Case(
        "blocked number inside 200",
        Reply(json=queued("BLOCKED")),
        Failure(Blacklisted, False, "BLOCKED", 200),
    ),
    Case(
        "opted out inside 200",
        Reply(json=queued("OPTED_OUT")),
        Failure(Blacklisted, False, "OPTED_OUT", 200),
    ),
    Case(
        "bad sender id inside 200",
        Reply(json=queued("INVALID_SENDER_ID")),
        Failure(ConfigurationError, False, "INVALID_SENDER_ID", 200),
    ),
    Case(
        "duplicate throttled inside 200",
        Reply(json=queued("THROTTLED")),
        Failure(Throttled, True, "THROTTLED", 200),
    ),
    Case(
        "internal error inside 200",
        Reply(json=queued("INTERNAL_ERROR")),
        Failure(ProviderUnavailable, True, "INTERNAL_ERROR", 200),
    ),
    Case(
        "unknown status inside 200",
        Reply(json=queued("SOMETHING_IS_WRONG")),
        Failure(Rejected, False, "SOMETHING_IS_WRONG", 200),
    ),
    Case(
        "success without message_id",
        Reply(json=queued(message_id=None)),
        Failure(ProviderUnavailable, True, None, 200),
    ),
    Case(
        "200 without messages",
        Reply(json=envelope(200, "SUCCESS", "Messages queued for delivery.", {"messages": []})),
        Failure(ProviderUnavailable, True, None, 200),
    ),
    Case(
        "request-level code inside 200",
        Reply(json=envelope(200, "INSUFFICIENT_CREDIT", "You have no credit.")),
        Failure(BillingFailed, False, "INSUFFICIENT_CREDIT", 200),
    ),
    Case(
        "error envelope inside 200",
        Reply(json=envelope(401, "UNAUTHORIZED", "Authorization failed.")),
        Failure(ConfigurationError, False, "UNAUTHORIZED", 401),
    ),
    Case(
        "200 not JSON",
        Reply(content=b"<html>ok</html>"),
        Failure(ProviderUnavailable, True, None, 200),
    ),
    Case(
        "401 bad credentials",
        Reply(401, envelope(401, "UNAUTHORIZED", "Authorization failed.")),
        Failure(ConfigurationError, False, "UNAUTHORIZED", 401),
    ),
    Case(
        "403 suspended account",
        Reply(403, envelope(403, "FORBIDDEN", "Your account is suspended.")),
        Failure(ConfigurationError, False, "FORBIDDEN", 403),
    ),
    Case(
        "429 with Retry-After",
        Reply(429, THROTTLED_429, headers={"Retry-After": "20"}),
        Failure(Throttled, True, "HTTP_TOO_MANY_REQUESTS", 429, retry_after=20.0),
    ),
    Case(
        "429 without Retry-After",
        Reply(429, THROTTLED_429),
        Failure(Throttled, True, "HTTP_TOO_MANY_REQUESTS", 429),
    ),
    Case(
        "500 envelope",
        Reply(500, envelope(500, "INTERNAL_SERVER_ERROR", "Internal server error.")),
        Failure(ProviderUnavailable, True, "INTERNAL_SERVER_ERROR", 500),
    ),
    Case(
        "503 unparseable gateway page",
        Reply(503, content=HTML_503, headers={"content-type": "text/html"}),
        Failure(ProviderUnavailable, True, None, 503),
    ),
    Case(
        "400 bad request",
        Reply(400, envelope(400, "BAD_REQUEST", "The messages field is required.")),
        Failure(Rejected, False, "BAD_REQUEST", 400),
    ),
    Case(
        "400 with an application code",
        Reply(400, envelope(400, "INSUFFICIENT_CREDIT", "You have no credit.")),
        Failure(BillingFailed, False, "INSUFFICIENT_CREDIT", 400),
    ),
    Case(
        "404 wrong base_url",
        Reply(404, envelope(404, "NOT_FOUND", "Invalid endpoint. Please try again.")),
        Failure(ConfigurationError, False, "NOT_FOUND", 404),
    ),
]


# --- harness ------------------------------------------------------------------------------
def config(**overrides: Any) -> ClickSendConfig:
    values: dict[str, Any] = {
        "username": USERNAME,
        "api_key": API_KEY,
        "base_url": BASE_URL,
        "callback_token": TOKEN,
    }
    return ClickSendConfig(**(values | overrides))


class Recorder:
    """A MockTransport handler that answers one reply (or raises) and keeps the requests."""

    def __init__(self, reply: Reply | Exception) -> None:
        self.reply = reply
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply.response()


async def send(
    sms: OutboundSms, reply: Reply | Exception, **options: Any
) -> tuple[SendResult | ProviderError, Recorder]:
    recorder = Recorder(reply)
    base_url = options.pop("base_url", BASE_URL)
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as client:
        provider = ClickSendProvider(config(base_url=base_url), client, **options)
        try:
            return await provider.send(sms), recorder
        except ProviderError as exc:
            return exc, recorder


def assert_request(request: httpx.Request, path: str, body: dict[str, Any]) -> None:
    assert request.method == "POST"
    assert str(request.url) == BASE_URL + path
    assert request.headers["authorization"] == f"Basic {BASIC}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert json.loads(request.content) == body


def assert_failure(outcome: SendResult | ProviderError, expected: Failure) -> None:
    assert type(outcome) is expected.error, outcome
    assert isinstance(outcome, ProviderError)
    assert outcome.retryable is expected.retryable
    assert outcome.provider_code == expected.provider_code
    assert outcome.http_status == expected.http_status
    assert outcome.retry_after == expected.retry_after
    assert API_KEY not in str(outcome)
    assert BASIC not in str(outcome)


# --- send ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_send_maps_each_reply(case: Case) -> None:
    outcome, recorder = await send(case.sms, case.reply)

    assert len(recorder.requests) == 1
    assert_request(recorder.requests[0], case.path, case.body)
    if isinstance(case.expected, SendResult):
        assert outcome == case.expected
    else:
        assert_failure(outcome, case.expected)


@pytest.mark.parametrize(
    ("exception", "error"),
    [
        (httpx.ReadTimeout("timed out"), ProviderTimeout),
        (httpx.ConnectTimeout("timed out"), ProviderTimeout),
        (httpx.ConnectError("[Errno 111] Connection refused"), ConnectionFailed),
        (httpx.RemoteProtocolError("peer closed connection"), ConnectionFailed),
    ],
    ids=["read timeout", "connect timeout", "connect error", "reset"],
)
async def test_transport_failures_are_retryable(
    exception: Exception, error: type[ProviderError]
) -> None:
    outcome, recorder = await send(SMS, exception)

    assert len(recorder.requests) == 1
    assert_failure(outcome, Failure(error, True, None, None))


async def test_every_call_carries_the_configured_timeout() -> None:
    _, recorder = await send(SMS, Reply(json=queued()), timeout=2.5)

    timeout = recorder.requests[0].extensions["timeout"]
    assert timeout == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}


async def test_base_url_trailing_slash_is_ignored() -> None:
    outcome, recorder = await send(SMS, Reply(json=queued()), base_url=BASE_URL + "/")

    assert outcome == SendResult(MESSAGE_ID, "SUCCESS")
    assert str(recorder.requests[0].url) == "https://rest.clicksend.test/v3/sms/send"


async def test_a_message_without_sender_lets_clicksend_choose() -> None:
    sms = OutboundSms(message_id="msg_2", to="+61411111111", sender="", body="hi")

    _, recorder = await send(sms, Reply(json=queued()))

    expected = {"source": "lynsms", "to": "+61411111111", "body": "hi", "custom_string": "msg_2"}
    assert json.loads(recorder.requests[0].content) == {"messages": [expected]}


async def test_mms_with_two_media_is_rejected_before_any_call() -> None:
    sms = OutboundSms(
        message_id="msg_3",
        to="+14155550100",
        sender="+14155550199",
        body="two pictures",
        media_urls=("https://a.example/1.jpg", "https://a.example/2.jpg"),
    )

    outcome, recorder = await send(sms, Reply(json=queued()))

    assert recorder.requests == []
    assert_failure(outcome, Failure(Rejected, False, None, None))


async def test_mms_subject_falls_back_when_the_body_is_blank() -> None:
    sms = OutboundSms(
        message_id="msg_4",
        to="+14155550100",
        sender="+14155550199",
        body="   ",
        media_urls=("https://a.example/1.jpg",),
    )

    _, recorder = await send(sms, Reply(json=queued()))

    assert json.loads(recorder.requests[0].content)["messages"][0]["subject"] == "MMS"


# --- provider and config ------------------------------------------------------------------
def test_provider_declares_its_name_mms_and_secrets() -> None:
    provider = ClickSendProvider(config(), httpx.AsyncClient())

    assert provider.name == "clicksend"
    assert provider.supports_mms is True
    assert provider.redact_values() == [API_KEY, BASIC, TOKEN]


def test_redact_values_skips_a_missing_callback_token() -> None:
    provider = ClickSendProvider(config(callback_token=None), httpx.AsyncClient())

    assert provider.redact_values() == [API_KEY, BASIC]


def test_config_defaults_and_forbids_unknown_keys() -> None:
    minimal = ClickSendConfig(username=USERNAME, api_key=API_KEY)

    assert minimal.base_url == "https://rest.clicksend.com"
    assert minimal.callback_token is None
    assert API_KEY not in repr(config())
    assert TOKEN not in repr(config())
    with pytest.raises(pydantic.ValidationError, match="extra"):
        ClickSendConfig(username=USERNAME, api_key=API_KEY, password="x")  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError, match="base_url must start with http"):
        ClickSendConfig(username=USERNAME, api_key=API_KEY, base_url="rest.clicksend.com")


# --- callbacks: authentication ------------------------------------------------------------
RECEIPT = {
    "timestamp_send": "1721099039",
    "timestamp": "1721099100",
    "message_id": MESSAGE_ID,
    "status": "Failed",
    "status_code": "301",
    "status_text": "Failed: Message not delivered",
    "error_code": "8",
    "error_text": "Unknown subscriber. Number is inactive or invalid",
    "custom_string": "msg_01JABCDEF",
    "user_id": "123456",
    "subaccount_id": "123456",
    "message_type": "sms",
}
STATUS_URL = "https://sms.example.com/callbacks/clicksend/status"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def callback(fields: Any, *, token: str | None = TOKEN, as_json: bool = False) -> CallbackRequest:
    query = {"token": token} if token is not None else {}
    target = STATUS_URL + (f"?{urlencode(query)}" if query else "")
    if as_json:
        headers, body = {"content-type": "application/json"}, json.dumps(fields).encode()
    else:
        headers, body = dict(FORM), urlencode(fields).encode()
    return CallbackRequest(url=target, headers=headers, body=body, query=query)


def test_a_good_token_is_accepted() -> None:
    reports = parse_status_callback(config(), callback(RECEIPT))

    assert [report.provider_message_id for report in reports] == [MESSAGE_ID]


@pytest.mark.parametrize(
    ("token", "configured"),
    [("wrong-token", TOKEN), (None, TOKEN), ("", TOKEN), (TOKEN.upper(), TOKEN), ("", None)],
    ids=["bad", "missing", "empty", "wrong case", "none configured"],
)
def test_a_bad_or_missing_token_is_rejected(token: str | None, configured: str | None) -> None:
    request = callback(RECEIPT, token=token)

    with pytest.raises(CallbackRejected):
        parse_status_callback(config(callback_token=configured), request)
    with pytest.raises(CallbackRejected):
        parse_inbound_callback(config(callback_token=configured), request)


def test_the_token_is_read_from_the_url_when_query_is_not_given() -> None:
    request = CallbackRequest(
        url=f"{STATUS_URL}?token={TOKEN}", headers=dict(FORM), body=urlencode(RECEIPT).encode()
    )

    assert len(parse_status_callback(config(), request)) == 1
    wrong = CallbackRequest(url=f"{STATUS_URL}?token=nope", headers=dict(FORM), body=b"")
    with pytest.raises(CallbackRejected):
        parse_status_callback(config(), wrong)


# --- callbacks: delivery receipts ---------------------------------------------------------
@pytest.mark.parametrize(
    ("status_code", "status", "expected"),
    [
        ("200", "Queued", "sent"),
        ("200", "Scheduled", "sent"),
        ("200", "WaitApproval", "sent"),
        ("200", "Sent", "sent"),
        ("201", "Sent", "delivered"),  # ClickSend's own table: "Sent" with 201 = on handset
        ("201", "", "delivered"),
        ("300", "Failed", "sent"),  # temporary network error, ClickSend retries
        ("301", "Failed", "undelivered"),
        ("301", "Cancelled", "failed"),
        ("", "CancelledAfterReview", "failed"),
        ("", "Delivered", "delivered"),
        ("", "Undelivered", "undelivered"),
        (" 201 ", "", "delivered"),
        ("999", "Mystery", None),
        ("", "", None),
    ],
)
def test_receipt_status_table(status_code: str, status: str, expected: str | None) -> None:
    assert delivery_status(status_code, status) == expected


def test_a_failed_receipt_keeps_clicksend_codes_and_text() -> None:
    reports = parse_status_callback(config(), callback(RECEIPT))

    assert reports == [
        DeliveryReport(
            provider_message_id=MESSAGE_ID,
            status="undelivered",
            provider_status="Failed",
            error_code="8",
            error_message="Unknown subscriber. Number is inactive or invalid",
            occurred_at=datetime(2024, 7, 16, 3, 5, tzinfo=UTC),
            recipient=None,
        )
    ]


def test_a_json_delivered_receipt_has_no_error() -> None:
    fields = RECEIPT | {
        "status": "Sent",
        "status_code": 201,
        "status_text": "Success: Message received on handset.",
        "error_code": 0,
        "error_text": None,
        "timestamp": 1721099100,
        "to": "61411111111",
    }

    reports = parse_status_callback(config(), callback(fields, as_json=True))

    assert reports == [
        DeliveryReport(
            provider_message_id=MESSAGE_ID,
            status="delivered",
            provider_status="Sent",
            error_code=None,
            error_message=None,
            occurred_at=datetime(2024, 7, 16, 3, 5, tzinfo=UTC),
            recipient="+61411111111",
        )
    ]


def test_a_json_list_carries_several_receipts() -> None:
    second = RECEIPT | {"message_id": "2BCD", "status_code": "200", "status": "Queued"}

    reports = parse_status_callback(config(), callback([RECEIPT, second], as_json=True))

    assert [(r.provider_message_id, r.status) for r in reports] == [
        (MESSAGE_ID, "undelivered"),
        ("2BCD", "sent"),
    ]


def test_the_legacy_messageid_field_is_read() -> None:
    fields = {k: v for k, v in RECEIPT.items() if k != "message_id"} | {"messageid": "LEGACY-1"}

    reports = parse_status_callback(config(), callback(fields))

    assert [report.provider_message_id for report in reports] == ["LEGACY-1"]


@pytest.mark.parametrize(
    "fields",
    [
        {k: v for k, v in RECEIPT.items() if k != "message_id"},
        RECEIPT | {"status_code": "999", "status": "Mystery"},
        RECEIPT | {"timestamp": "not-a-time", "status_code": "", "status": ""},
    ],
    ids=["no message id", "unknown status", "no status"],
)
def test_unusable_receipts_are_dropped(fields: dict[str, str]) -> None:
    assert parse_status_callback(config(), callback(fields)) == []


def test_an_unparseable_json_receipt_is_dropped() -> None:
    request = CallbackRequest(
        url=STATUS_URL,
        headers={"content-type": "application/json"},
        body=b"{not json",
        query={"token": TOKEN},
    )

    assert parse_status_callback(config(), request) == []


def test_the_provider_delegates_to_the_callback_parsers() -> None:
    provider = ClickSendProvider(config(), httpx.AsyncClient())

    assert provider.parse_status_callback(callback(RECEIPT)) == parse_status_callback(
        config(), callback(RECEIPT)
    )
    assert provider.parse_inbound_callback(callback(INBOUND)) == [EXPECTED_INBOUND]
    with pytest.raises(CallbackRejected):
        provider.parse_status_callback(callback(RECEIPT, token="bad"))


# --- callbacks: inbound -------------------------------------------------------------------
INBOUND = {
    "timestamp": "1436174407",
    "from": "+61411111111",
    "to": "+61422222222",
    "body": "STOP",
    "original_body": "Your code is 1234",
    "original_message_id": MESSAGE_ID,
    "custom_string": "msg_01JABCDEF",
    "message_id": "C557B56E-83C0-4070-A74C-9BF05474B418",
    "user_id": "123456",
    "_keyword": "stop",
}
EXPECTED_INBOUND = InboundSms(
    sender="+61411111111",
    to="+61422222222",
    body="STOP",
    provider_message_id="C557B56E-83C0-4070-A74C-9BF05474B418",
    received_at=datetime(2015, 7, 6, 9, 20, 7, tzinfo=UTC),
)


def test_a_form_inbound_message_is_parsed() -> None:
    assert parse_inbound_callback(config(), callback(INBOUND)) == [EXPECTED_INBOUND]


def test_a_json_inbound_message_is_parsed() -> None:
    fields = INBOUND | {"timestamp": 1436174407, "user_id": 123456}

    assert parse_inbound_callback(config(), callback(fields, as_json=True)) == [EXPECTED_INBOUND]


def test_inbound_reads_timestamp_send_and_numbers_without_plus() -> None:
    fields = {k: v for k, v in INBOUND.items() if k != "timestamp"}
    fields |= {"timestamp_send": "1436174407", "from": "61411111111", "to": "76000"}

    messages = parse_inbound_callback(config(), callback(fields))

    assert messages == [
        InboundSms(
            sender="+61411111111",
            to="76000",  # a short code stays as given
            body="STOP",
            provider_message_id=EXPECTED_INBOUND.provider_message_id,
            received_at=EXPECTED_INBOUND.received_at,
        )
    ]


@pytest.mark.parametrize("missing", ["from", "to", "message_id"])
def test_inbound_without_its_identity_is_dropped(missing: str) -> None:
    fields = {k: v for k, v in INBOUND.items() if k != missing}

    assert parse_inbound_callback(config(), callback(fields)) == []
