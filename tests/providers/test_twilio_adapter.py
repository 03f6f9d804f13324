"""TwilioProvider through ``httpx.MockTransport``: each row is a mocked reply, the exact request
the adapter must have made, and the SendResult or ProviderError it must map the reply to."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

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
from lynsms.providers.twilio import TwilioConfig, TwilioProvider
from lynsms.providers.twilio import callbacks as twilio_callbacks
from lynsms.providers.twilio.callbacks import compute_signature, url_variants, verify_request
from tests.fakes.twilio import twilio_signature

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "tw-auth-token-5f2b9c"
CREDENTIALS = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
SEND_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
MESSAGE_SID = "SM1f0e3c5b7a9d4e2f8c6b4a2d0e9f7c5a"
CALLBACK = "https://sms.example.com/callbacks/twilio/status?message_id=msg_01"
SMS = OutboundSms(
    message_id="msg_01",
    to="+12025550143",
    sender="+15005550006",
    body="Your code is 123456",
    status_callback_url=CALLBACK,
    validity_seconds=600,
)
SMS_FORM = [
    ("To", "+12025550143"),
    ("From", "+15005550006"),
    ("Body", "Your code is 123456"),
    ("StatusCallback", CALLBACK),
    ("ValidityPeriod", "600"),
]
CONFIG = TwilioConfig(account_sid=SID, auth_token=TOKEN)


def twilio_error(
    status: int, code: int, message: str, retry_after: str | None = None
) -> httpx.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return httpx.Response(status, json=body, headers=headers)


def created(sid: str = MESSAGE_SID, status: str = "queued") -> httpx.Response:
    body = {"sid": sid, "status": status, "account_sid": SID, "num_segments": "1", "price": None}
    return httpx.Response(201, json=body)


@dataclass(frozen=True)
class Failure:
    error: type[ProviderError]
    retryable: bool
    provider_code: str | None
    http_status: int | None
    retry_after: float | None = None


@dataclass(frozen=True)
class Row:
    id: str
    reply: httpx.Response | type[httpx.RequestError]
    expected: SendResult | Failure
    extra: dict[str, str] = field(default_factory=dict)


ROWS = [
    Row("201 queued", created(), SendResult(MESSAGE_SID, "queued")),
    Row("200 accepted", created(status="accepted"), SendResult(MESSAGE_SID, "accepted")),
    Row("400 21211 invalid To", twilio_error(400, 21211, "Invalid 'To' Phone Number"),
        Failure(Rejected, False, "21211", 400)),
    Row("400 21614 not mobile", twilio_error(400, 21614, "'To' number is not a valid mobile"),
        Failure(Rejected, False, "21614", 400)),
    Row("400 21612 unroutable", twilio_error(400, 21612, "cannot be connected"),
        Failure(Rejected, False, "21612", 400)),
    Row("400 21617 body too long", twilio_error(400, 21617, "exceeds 1600 characters"),
        Failure(Rejected, False, "21617", 400)),
    Row("400 unknown code", twilio_error(400, 21999, "something new"),
        Failure(Rejected, False, "21999", 400)),
    Row("400 21610 unsubscribed", twilio_error(400, 21610, "unsubscribed recipient"),
        Failure(Blacklisted, False, "21610", 400)),
    Row("401 20003 auth", twilio_error(401, 20003, "Authenticate"),
        Failure(ConfigurationError, False, "20003", 401)),
    Row("404 20404 wrong account", twilio_error(404, 20404, "resource not found"),
        Failure(ConfigurationError, False, "20404", 404)),
    Row("400 21606 bad From", twilio_error(400, 21606, "not a valid message-capable number"),
        Failure(ConfigurationError, False, "21606", 400)),
    Row("400 21408 geo permission", twilio_error(400, 21408, "region not enabled"),
        Failure(ConfigurationError, False, "21408", 400)),
    Row("400 21609 bad StatusCallback", twilio_error(400, 21609, "invalid StatusCallback"),
        Failure(ConfigurationError, False, "21609", 400)),
    Row("401 20005 account not active", twilio_error(401, 20005, "Account not active"),
        Failure(BillingFailed, False, "20005", 401)),
    Row("403 10001 out of funds", twilio_error(403, 10001, "Account is not active"),
        Failure(BillingFailed, False, "10001", 403)),
    Row("402 without body", httpx.Response(402), Failure(BillingFailed, False, None, 402)),
    Row("429 20429 + Retry-After", twilio_error(429, 20429, "Too Many Requests", "3"),
        Failure(Throttled, True, "20429", 429, 3.0)),
    Row("429 bad Retry-After", twilio_error(429, 20429, "Too Many Requests", "soon"),
        Failure(Throttled, True, "20429", 429)),
    Row("400 21611 queue full", twilio_error(400, 21611, "queue full"),
        Failure(Throttled, True, "21611", 400)),
    Row("400 14107 rate limit", twilio_error(400, 14107, "rate limit"),
        Failure(Throttled, True, "14107", 400)),
    Row("500 20500", twilio_error(500, 20500, "Internal Server Error"),
        Failure(ProviderUnavailable, True, "20500", 500)),
    Row("503 20503 + Retry-After", twilio_error(503, 20503, "Service Unavailable", "7"),
        Failure(ProviderUnavailable, True, "20503", 503, 7.0)),
    Row("502 html body", httpx.Response(502, text="<html>Bad Gateway</html>"),
        Failure(ProviderUnavailable, True, None, 502)),
    Row("503 empty body", httpx.Response(503), Failure(ProviderUnavailable, True, None, 503)),
    Row("500 with hard code", twilio_error(500, 21211, "odd"),
        Failure(ProviderUnavailable, True, "21211", 500)),
    Row("400 unparseable", httpx.Response(400, text="oops"), Failure(Rejected, False, None, 400)),
    Row("401 unparseable", httpx.Response(401, text="no"),
        Failure(ConfigurationError, False, None, 401)),
    Row("400 string code", httpx.Response(400, json={"code": "21610", "message": "stop"}),
        Failure(Blacklisted, False, "21610", 400)),
    Row("400 json list", httpx.Response(400, json=[1, 2]), Failure(Rejected, False, None, 400)),
    Row("301 redirect", httpx.Response(301, headers={"Location": "https://elsewhere"}),
        Failure(ConfigurationError, False, None, 301)),
    Row("201 unparseable", httpx.Response(201, text="not json"),
        Failure(ProviderUnavailable, True, None, 201)),
    Row("201 without sid", httpx.Response(201, json={"status": "queued"}),
        Failure(ProviderUnavailable, True, None, 201)),
    Row("read timeout", httpx.ReadTimeout, Failure(ProviderTimeout, True, None, None)),
    Row("connect timeout", httpx.ConnectTimeout, Failure(ProviderTimeout, True, None, None)),
    Row("write timeout", httpx.WriteTimeout, Failure(ProviderTimeout, True, None, None)),
    Row("connect error", httpx.ConnectError, Failure(ConnectionFailed, True, None, None)),
    Row("reset", httpx.RemoteProtocolError, Failure(ConnectionFailed, True, None, None)),
]  # fmt: skip


async def send_with(
    reply: httpx.Response | type[httpx.RequestError],
    sms: OutboundSms = SMS,
    *,
    config: TwilioConfig = CONFIG,
    timeout: float = 10.0,
) -> tuple[list[httpx.Request], SendResult | ProviderError]:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if isinstance(reply, httpx.Response):
            return reply
        raise reply("simulated", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        provider = TwilioProvider(config, client, timeout=timeout)
        try:
            return requests, await provider.send(sms)
        except ProviderError as exc:
            return requests, exc


def form_of(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.content.decode(), keep_blank_values=True, strict_parsing=True)


def assert_send_request(request: httpx.Request, form: list[tuple[str, str]]) -> None:
    assert request.method == "POST"
    assert str(request.url) == SEND_URL
    assert request.headers["authorization"] == f"Basic {CREDENTIALS}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["accept"] == "application/json"
    assert form_of(request) == form


# --- send: reply mapping -------------------------------------------------------------------
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
async def test_send_maps_each_reply(row: Row) -> None:
    requests, outcome = await send_with(row.reply)

    assert len(requests) == 1
    assert_send_request(requests[0], SMS_FORM)
    if isinstance(row.expected, SendResult):
        assert outcome == row.expected
        return
    assert type(outcome) is row.expected.error
    assert isinstance(outcome, ProviderError)
    assert outcome.retryable is row.expected.retryable
    assert outcome.provider_code == row.expected.provider_code
    assert outcome.http_status == row.expected.http_status
    assert outcome.retry_after == row.expected.retry_after
    assert TOKEN not in str(outcome)
    assert CREDENTIALS not in str(outcome)


async def test_error_message_names_code_status_and_twilio_text() -> None:
    _, outcome = await send_with(twilio_error(400, 21211, "Invalid 'To' Phone Number: +1202"))

    assert isinstance(outcome, Rejected)
    assert str(outcome) == "Twilio 21211 (HTTP 400): Invalid 'To' Phone Number: +1202"


async def test_unparseable_error_message_says_so() -> None:
    _, outcome = await send_with(httpx.Response(502, text="<html/>"))

    assert str(outcome) == "Twilio HTTP 502: unparseable reply"


async def test_secrets_echoed_by_the_reply_are_redacted() -> None:
    reply = twilio_error(401, 20003, f"bad token {TOKEN} / Basic {CREDENTIALS}")

    _, outcome = await send_with(reply)

    assert isinstance(outcome, ConfigurationError)
    assert str(outcome) == "Twilio 20003 (HTTP 401): bad token [redacted] / [redacted]"


async def test_every_call_carries_the_configured_timeout() -> None:
    requests, _ = await send_with(created(), timeout=2.5)

    assert requests[0].extensions["timeout"] == {
        "connect": 2.5,
        "read": 2.5,
        "write": 2.5,
        "pool": 2.5,
    }


async def test_transport_error_keeps_the_cause_and_no_secret() -> None:
    _, outcome = await send_with(httpx.ReadTimeout)

    assert isinstance(outcome, ProviderTimeout)
    assert isinstance(outcome.__cause__, httpx.ReadTimeout)
    assert str(outcome) == "no reply within the timeout (ReadTimeout)"


# --- send: the request built for each kind of message ---------------------------------------
MEDIA = ("https://cdn.example.com/a.jpg", "https://cdn.example.com/b.png?x=1&y=2")
SERVICE = "MG0123456789abcdef0123456789abcdef"
TO, FROM = "+12025550143", "+15005550006"


def sms_to(
    body: str = "x",
    *,
    sender: str = FROM,
    media_urls: tuple[str, ...] = (),
    validity_seconds: int | None = None,
) -> OutboundSms:
    return OutboundSms(
        "msg_1", TO, sender, body, media_urls=media_urls, validity_seconds=validity_seconds
    )


FORM_ROWS = [
    ("minimal", sms_to("Hi"), [("To", TO), ("From", FROM), ("Body", "Hi")]),
    ("alphanumeric sender", sms_to("Hi", sender="LynSMS"),
     [("To", TO), ("From", "LynSMS"), ("Body", "Hi")]),
    ("messaging service", sms_to("Hi", sender=SERVICE),
     [("To", TO), ("MessagingServiceSid", SERVICE), ("Body", "Hi")]),
    ("mms with text", sms_to("Look", media_urls=MEDIA),
     [("To", TO), ("From", FROM), ("Body", "Look"),
      ("MediaUrl", MEDIA[0]), ("MediaUrl", MEDIA[1])]),
    ("mms without text", sms_to("", media_urls=MEDIA[:1]),
     [("To", TO), ("From", FROM), ("MediaUrl", MEDIA[0])]),
    ("validity above Twilio max", sms_to(validity_seconds=86_400),
     [("To", TO), ("From", FROM), ("Body", "x"), ("ValidityPeriod", "36000")]),
    ("validity zero", sms_to(validity_seconds=0),
     [("To", TO), ("From", FROM), ("Body", "x"), ("ValidityPeriod", "1")]),
    ("unicode and reserved characters", sms_to("Ünïcode & a=b+c 👍"),
     [("To", TO), ("From", FROM), ("Body", "Ünïcode & a=b+c 👍")]),
]  # fmt: skip


@pytest.mark.parametrize(("sms", "form"), [r[1:] for r in FORM_ROWS], ids=[r[0] for r in FORM_ROWS])
async def test_send_builds_twilio_form(sms: OutboundSms, form: list[tuple[str, str]]) -> None:
    requests, outcome = await send_with(created(), sms)

    assert outcome == SendResult(MESSAGE_SID, "queued")
    assert_send_request(requests[0], form)


async def test_mms_reply_with_mm_sid() -> None:
    sms = sms_to("", media_urls=MEDIA)
    mms_sid = "MM" + MESSAGE_SID[2:]

    _, outcome = await send_with(created(sid=mms_sid), sms)

    assert outcome == SendResult(mms_sid, "queued")


async def test_base_url_is_the_host_root_and_a_trailing_slash_is_dropped() -> None:
    config = TwilioConfig(account_sid=SID, auth_token=TOKEN, base_url="http://127.0.0.1:9999/")

    requests, _ = await send_with(created(), config=config)

    assert str(requests[0].url) == f"http://127.0.0.1:9999/2010-04-01/Accounts/{SID}/Messages.json"


# --- config and provider surface ---------------------------------------------------------------
def test_config_defaults_and_hides_the_token() -> None:
    config = TwilioConfig(account_sid=SID, auth_token=TOKEN)

    assert config.base_url == "https://api.twilio.com"
    assert TOKEN not in repr(config)


@pytest.mark.parametrize(
    "fields",
    [
        {"account_sid": SID, "auth_token": TOKEN, "region": "ie1"},
        {"account_sid": "AC123", "auth_token": TOKEN},
        {"account_sid": SID, "auth_token": ""},
        {"auth_token": TOKEN},
    ],
    ids=["extra field", "short sid", "empty token", "missing sid"],
)
def test_config_rejects(fields: dict[str, str]) -> None:
    with pytest.raises(pydantic.ValidationError):
        TwilioConfig.model_validate(fields)


async def test_provider_surface_and_redaction() -> None:
    async with httpx.AsyncClient() as client:
        provider = TwilioProvider(CONFIG, client)

    assert (provider.name, provider.supports_mms) == ("twilio", True)
    assert provider.redact_values() == [TOKEN, CREDENTIALS, f"Basic {CREDENTIALS}"]


# --- X-Twilio-Signature ----------------------------------------------------------------------
# Twilio's published example (docs "Webhooks security"): token 12345 → 0/KCTR6DLpKmkAf8muzZqo1nDgQ=
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
VECTOR_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
VECTOR_CONFIG = TwilioConfig(account_sid=SID, auth_token="12345")


def vector_request(url: str = VECTOR_URL, body: str = urlencode(VECTOR_PARAMS)) -> CallbackRequest:
    headers = {
        "x-twilio-signature": VECTOR_SIGNATURE,
        "content-type": "application/x-www-form-urlencoded",
    }
    return CallbackRequest(url=url, headers=headers, body=body.encode())


def test_signature_matches_twilio_published_vector() -> None:
    assert compute_signature("12345", VECTOR_URL, VECTOR_PARAMS.items()) == VECTOR_SIGNATURE
    assert twilio_signature("12345", VECTOR_URL, VECTOR_PARAMS) == VECTOR_SIGNATURE


def test_verify_accepts_the_vector_in_any_field_order() -> None:
    shuffled = urlencode(list(reversed(VECTOR_PARAMS.items())))

    params = verify_request("12345", vector_request(body=shuffled))

    assert dict(params) == VECTOR_PARAMS


@pytest.mark.parametrize(
    "request_",
    [
        vector_request(url="https://mycompany.com/myapp.php?foo=1&bar=3"),
        vector_request(url="http://mycompany.com/myapp.php?foo=1&bar=2"),
        vector_request(url="https://mycompany.com/myapp.php"),
        vector_request(body=urlencode({**VECTOR_PARAMS, "Digits": "1235"})),
        vector_request(body=urlencode({**VECTOR_PARAMS, "Extra": "x"})),
        vector_request(body=urlencode({k: v for k, v in VECTOR_PARAMS.items() if k != "To"})),
        CallbackRequest(url=VECTOR_URL, headers={}, body=urlencode(VECTOR_PARAMS).encode()),
        CallbackRequest(url=VECTOR_URL, headers={"x-twilio-signature": ""}, body=b"To=%2B1"),
        CallbackRequest(
            url=VECTOR_URL,
            headers={"x-twilio-signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ"},
            body=urlencode(VECTOR_PARAMS).encode(),
        ),
        CallbackRequest(url=VECTOR_URL, headers={"x-twilio-signature": "abc"}, body=b"\xff\xfe"),
    ],
    ids=[
        "query changed",
        "scheme changed",
        "query dropped",
        "param changed",
        "param added",
        "param removed",
        "header missing",
        "header empty",
        "signature truncated",
        "body not utf-8",
    ],
)
def test_verify_rejects(request_: CallbackRequest) -> None:
    with pytest.raises(CallbackRejected):
        verify_request("12345", request_)


def test_verify_rejects_another_token() -> None:
    with pytest.raises(CallbackRejected):
        verify_request("54321", vector_request())


@pytest.mark.parametrize(
    ("url", "variants"),
    [
        ("https://a.example/cb?x=1", ["https://a.example/cb?x=1", "https://a.example:443/cb?x=1"]),
        ("https://a.example:443/cb", ["https://a.example:443/cb", "https://a.example/cb"]),
        ("http://a.example/cb", ["http://a.example/cb", "http://a.example:80/cb"]),
        ("https://a.example:8443/cb", ["https://a.example:8443/cb"]),
        ("ftp://a.example/cb", ["ftp://a.example/cb"]),
    ],
)
def test_url_variants(url: str, variants: list[str]) -> None:
    assert url_variants(url) == variants


@pytest.mark.parametrize(
    ("signed_for", "called"),
    [
        ("https://sms.example.com/cb?m=1", "https://sms.example.com:443/cb?m=1"),
        ("https://sms.example.com:443/cb?m=1", "https://sms.example.com/cb?m=1"),
    ],
)
def test_verify_accepts_default_port_either_way(signed_for: str, called: str) -> None:
    body = {"MessageSid": MESSAGE_SID, "MessageStatus": "sent"}
    headers = {"x-twilio-signature": twilio_signature(TOKEN, signed_for, body)}

    params = verify_request(TOKEN, CallbackRequest(called, headers, urlencode(body).encode()))

    assert dict(params) == body


def test_verify_does_not_strip_a_non_default_port() -> None:
    body = {"MessageSid": MESSAGE_SID}
    headers = {"x-twilio-signature": twilio_signature(TOKEN, "https://sms.example.com/cb", body)}
    request = CallbackRequest("https://sms.example.com:8443/cb", headers, urlencode(body).encode())

    with pytest.raises(CallbackRejected):
        verify_request(TOKEN, request)


# --- status callbacks -------------------------------------------------------------------------
def signed_request(url: str, fields: dict[str, str], token: str = TOKEN) -> CallbackRequest:
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilio_signature(token, url, fields),
    }
    return CallbackRequest(url=url, headers=headers, body=urlencode(fields).encode())


def status_fields(status: str, **extra: str) -> dict[str, str]:
    return {
        "SmsSid": MESSAGE_SID,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": "+12025550143",
        "MessageSid": MESSAGE_SID,
        "AccountSid": SID,
        "From": "+15005550006",
        "ApiVersion": "2010-04-01",
        **extra,
    }


STATUS_ROWS = [
    ("accepted", "sent"),
    ("scheduled", "sent"),
    ("queued", "sent"),
    ("sending", "sent"),
    ("sent", "sent"),
    ("delivered", "delivered"),
    ("read", "delivered"),
    ("undelivered", "undelivered"),
    ("failed", "failed"),
    ("canceled", "failed"),
]


@pytest.mark.parametrize(("twilio_status", "ours"), STATUS_ROWS)
def test_status_mapping(twilio_status: str, ours: str) -> None:
    request = signed_request(CALLBACK, status_fields(twilio_status))

    reports = twilio_callbacks.parse_status_callback(CONFIG, request)

    assert reports == [
        DeliveryReport(
            provider_message_id=MESSAGE_SID,
            status=ours,  # type: ignore[arg-type]
            provider_status=twilio_status,
            recipient="+12025550143",
        )
    ]


def test_status_mapping_covers_the_spec_enum_except_inbound_and_partial() -> None:
    spec_enum = {
        *("queued", "sending", "sent", "failed", "delivered", "undelivered", "receiving"),
        *("received", "accepted", "scheduled", "read", "partially_delivered", "canceled"),
    }
    ignored = {"receiving", "received", "partially_delivered"}

    assert set(twilio_callbacks.STATUS_MAP) == spec_enum - ignored
    assert {s for s, _ in STATUS_ROWS} == spec_enum - ignored


@pytest.mark.parametrize("twilio_status", ["receiving", "received", "partially_delivered", "new"])
def test_status_callbacks_without_a_mapping_are_acknowledged_and_ignored(
    twilio_status: str,
) -> None:
    request = signed_request(CALLBACK, status_fields(twilio_status))

    assert twilio_callbacks.parse_status_callback(CONFIG, request) == []


@pytest.mark.parametrize(("status", "code"), [("failed", "30008"), ("undelivered", "30003")])
def test_status_callback_keeps_error_code(status: str, code: str) -> None:
    fields = status_fields(status, ErrorCode=code, RawDlrDoneDate="2405011230")

    reports = twilio_callbacks.parse_status_callback(CONFIG, signed_request(CALLBACK, fields))

    assert reports == [
        DeliveryReport(MESSAGE_SID, status, status, error_code=code, recipient="+12025550143")  # type: ignore[arg-type]
    ]


def test_status_callback_with_only_the_legacy_sms_fields() -> None:
    fields = {"SmsSid": MESSAGE_SID, "SmsStatus": "delivered", "AccountSid": SID}

    reports = twilio_callbacks.parse_status_callback(CONFIG, signed_request(CALLBACK, fields))

    assert reports == [DeliveryReport(MESSAGE_SID, "delivered", "delivered")]


def test_status_callback_without_a_sid_is_ignored() -> None:
    fields = {"MessageStatus": "delivered", "AccountSid": SID}

    assert twilio_callbacks.parse_status_callback(CONFIG, signed_request(CALLBACK, fields)) == []


def test_status_callback_signed_with_another_token_is_rejected() -> None:
    request = signed_request(CALLBACK, status_fields("delivered"), token="not-the-token")

    with pytest.raises(CallbackRejected):
        twilio_callbacks.parse_status_callback(CONFIG, request)


def test_status_callback_for_another_url_is_rejected() -> None:
    request = signed_request(CALLBACK, status_fields("delivered"))
    moved = CallbackRequest(CALLBACK.replace("msg_01", "msg_02"), request.headers, request.body)

    with pytest.raises(CallbackRejected):
        twilio_callbacks.parse_status_callback(CONFIG, moved)


# --- inbound messages --------------------------------------------------------------------------
INBOUND_URL = "https://sms.example.com/callbacks/twilio/inbound"


def inbound_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": MESSAGE_SID,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "94105",
        "SmsSid": MESSAGE_SID,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": "STOP please & thanks 👍",
        "FromCountry": "US",
        "To": "+15005550006",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": MESSAGE_SID,
        "AccountSid": SID,
        "From": "+14155552671",
        "ApiVersion": "2010-04-01",
    }
    return {**fields, **overrides}


def test_inbound_message_is_parsed() -> None:
    request = signed_request(INBOUND_URL, inbound_fields())

    messages = twilio_callbacks.parse_inbound_callback(CONFIG, request)

    assert messages == [
        InboundSms(
            sender="+14155552671",
            to="+15005550006",
            body="STOP please & thanks 👍",
            provider_message_id=MESSAGE_SID,
        )
    ]


def test_inbound_mms_without_body_keeps_an_empty_body() -> None:
    fields = inbound_fields(Body="", NumMedia="1", MediaUrl0="https://api.twilio.com/m/1")

    messages = twilio_callbacks.parse_inbound_callback(CONFIG, signed_request(INBOUND_URL, fields))

    assert [m.body for m in messages] == [""]


def test_inbound_without_sender_is_ignored() -> None:
    fields = {k: v for k, v in inbound_fields().items() if k != "From"}

    assert (
        twilio_callbacks.parse_inbound_callback(CONFIG, signed_request(INBOUND_URL, fields)) == []
    )


def test_inbound_with_bad_signature_is_rejected() -> None:
    request = signed_request(INBOUND_URL, inbound_fields())
    tampered = CallbackRequest(
        INBOUND_URL, request.headers, request.body.replace(b"STOP", b"START")
    )

    with pytest.raises(CallbackRejected):
        twilio_callbacks.parse_inbound_callback(CONFIG, tampered)


async def test_provider_methods_delegate_with_the_configured_token() -> None:
    status_request = signed_request(CALLBACK, status_fields("delivered"))
    inbound_request = signed_request(INBOUND_URL, inbound_fields())
    async with httpx.AsyncClient() as client:
        provider = TwilioProvider(CONFIG, client)
        other = TwilioProvider(TwilioConfig(account_sid=SID, auth_token="other"), client)

    assert provider.parse_status_callback(status_request)[0].status == "delivered"
    assert provider.parse_inbound_callback(inbound_request)[0].sender == "+14155552671"
    with pytest.raises(CallbackRejected):
        other.parse_status_callback(status_request)
    with pytest.raises(CallbackRejected):
        other.parse_inbound_callback(inbound_request)
