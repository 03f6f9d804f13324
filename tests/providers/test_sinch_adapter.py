"""Sinch adapter: tables of mocked reply → exact request → result or error (httpx.MockTransport)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from lynsms.providers.base import (
    BillingFailed,
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
from lynsms.providers.sinch import SinchConfig, SinchProvider
from lynsms.providers.sinch import callbacks as sinch_callbacks
from lynsms.providers.sinch.callbacks import verify_signature

PLAN = "f4a8c2e1b3d94e6f8a7b5c3d2e1f0a9b"
TOKEN = "api-token-7f3e"
CALLBACK_TOKEN = "cb-token-91"
HMAC_SECRET = "hmac-secret-55"
NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
US_URL = f"https://us.sms.api.sinch.com/xms/v1/{PLAN}/batches"
STATUS_URL = "https://sms.example.com/callbacks/sinch/status"
BATCH_ID = "01FC66621VHDBN119Z8PMV1QPQ"

CONFIG = SinchConfig(service_plan_id=PLAN, api_token=TOKEN, callback_token=CALLBACK_TOKEN)
SMS = OutboundSms(
    message_id="msg_01HZX",
    to="+12025550143",
    sender="+12025550100",
    body="Your code is 1234",
    status_callback_url=STATUS_URL,
    validity_seconds=3600,
)
EXPECTED_BODY = {
    "to": ["+12025550143"],
    "from": "+12025550100",
    "type": "mt_text",
    "body": "Your code is 1234",
    "delivery_report": "per_recipient",
    "client_reference": "msg_01HZX",
    "callback_url": f"{STATUS_URL}?token={CALLBACK_TOKEN}",
    "expire_at": "2026-01-02T04:04:05.678Z",
}
BATCH = {
    "id": BATCH_ID,
    "to": ["12025550143"],
    "from": "12025550100",
    "canceled": False,
    "body": "Your code is 1234",
    "type": "mt_text",
    "created_at": "2026-01-02T03:04:05.678Z",
    "modified_at": "2026-01-02T03:04:05.678Z",
    "delivery_report": "per_recipient",
    "expire_at": "2026-01-02T04:04:05.678Z",
    "callback_url": f"{STATUS_URL}?token={CALLBACK_TOKEN}",
    "client_reference": "msg_01HZX",
}

NO_HTTP = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(599)))
Reply = httpx.Response | type[httpx.RequestError]


def sinch_error(status: int, code: str, text: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "text": text})


@dataclass
class Sent:
    requests: list[httpx.Request]
    outcome: SendResult | ProviderError


async def send(
    reply: Reply,
    *,
    config: SinchConfig = CONFIG,
    sms: OutboundSms = SMS,
    timeout: float = 10.0,
) -> Sent:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if isinstance(reply, httpx.Response):
            return reply
        raise reply("simulated", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        provider = SinchProvider(config, client, timeout=timeout, clock=lambda: NOW)
        try:
            return Sent(requests, await provider.send(sms))
        except ProviderError as error:
            return Sent(requests, error)


def assert_exact_request(request: httpx.Request, *, url: str = US_URL, timeout: float = 10.0):
    assert request.method == "POST"
    assert str(request.url) == url
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert json.loads(request.content) == EXPECTED_BODY
    assert request.extensions["timeout"] == dict.fromkeys(
        ("connect", "read", "write", "pool"), timeout
    )


# --- send: reply → result or error ------------------------------------------------------------
@dataclass
class ErrorRow:
    reply: Reply
    error: type[ProviderError]
    retryable: bool
    provider_code: str | None
    http_status: int | None
    retry_after: float | None = None


ERROR_ROWS = {
    "400 invalid number": ErrorRow(
        sinch_error(
            400,
            "syntax_invalid_parameter_format",
            "The format of parameter 'to[0]' is invalid; value '+1' is not a valid MSISDN.",
        ),
        Rejected,
        False,
        "syntax_invalid_parameter_format",
        400,
    ),
    "400 constraint": ErrorRow(
        sinch_error(400, "syntax_constraint_violation", "Missing required parameter 'body'."),
        Rejected,
        False,
        "syntax_constraint_violation",
        400,
    ),
    "400 invalid json": ErrorRow(
        sinch_error(400, "syntax_invalid_json", "The JSON in the request is invalid."),
        Rejected,
        False,
        "syntax_invalid_json",
        400,
    ),
    "401 bad token": ErrorRow(httpx.Response(401), ConfigurationError, False, None, 401),
    "403 missing callback url": ErrorRow(
        sinch_error(403, "missing_callback_url", "Requesting delivery report without any URL."),
        ConfigurationError,
        False,
        "missing_callback_url",
        403,
    ),
    "403 unknown campaign": ErrorRow(
        sinch_error(403, "unknown_campaign", "The campaign ID does not match the originator."),
        ConfigurationError,
        False,
        "unknown_campaign",
        403,
    ),
    "403 unknown group": ErrorRow(
        sinch_error(403, "unknown_group", "Group not found."),
        Rejected,
        False,
        "unknown_group",
        403,
    ),
    "404 unknown plan path": ErrorRow(httpx.Response(404), ConfigurationError, False, None, 404),
    "415 content type": ErrorRow(httpx.Response(415), Rejected, False, None, 415),
    "402 undocumented": ErrorRow(httpx.Response(402), BillingFailed, False, None, 402),
    "429 throttled": ErrorRow(httpx.Response(429), Throttled, True, None, 429),
    "429 retry-after": ErrorRow(
        httpx.Response(429, headers={"Retry-After": "7"}), Throttled, True, None, 429, 7.0
    ),
    "500 plain text": ErrorRow(
        httpx.Response(500, text="Internal Server Error"), ProviderUnavailable, True, None, 500
    ),
    "503 html": ErrorRow(
        httpx.Response(503, text="<html><body>down</body></html>"),
        ProviderUnavailable,
        True,
        None,
        503,
    ),
    "502 json code": ErrorRow(
        sinch_error(502, "internal_error", "Bad gateway"),
        ProviderUnavailable,
        True,
        "internal_error",
        502,
    ),
    "201 unparseable": ErrorRow(
        httpx.Response(201, text="{not json"), ProviderUnavailable, True, None, 201
    ),
    "201 without id": ErrorRow(
        httpx.Response(201, json={"to": ["12025550143"]}), ProviderUnavailable, True, None, 201
    ),
    "read timeout": ErrorRow(httpx.ReadTimeout, ProviderTimeout, True, None, None),
    "connect timeout": ErrorRow(httpx.ConnectTimeout, ProviderTimeout, True, None, None),
    "connect error": ErrorRow(httpx.ConnectError, ConnectionFailed, True, None, None),
    "reset mid-reply": ErrorRow(httpx.RemoteProtocolError, ConnectionFailed, True, None, None),
}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (httpx.Response(201, json=BATCH), SendResult(provider_message_id=BATCH_ID)),
        (httpx.Response(200, json=BATCH), SendResult(provider_message_id=BATCH_ID)),
    ],
    ids=["201 batch", "200 batch"],
)
async def test_success_maps_to_batch_id(reply: httpx.Response, expected: SendResult) -> None:
    sent = await send(reply)
    assert len(sent.requests) == 1
    assert_exact_request(sent.requests[0])
    assert sent.outcome == expected


@pytest.mark.parametrize("row", ERROR_ROWS.values(), ids=ERROR_ROWS.keys())
async def test_failures_map_to_exactly_one_error(row: ErrorRow) -> None:
    sent = await send(row.reply)
    assert len(sent.requests) == 1
    assert_exact_request(sent.requests[0])
    error = sent.outcome
    assert type(error) is row.error
    assert isinstance(error, ProviderError)
    assert error.retryable is row.retryable
    assert error.provider_code == row.provider_code
    assert error.http_status == row.http_status
    assert error.retry_after == row.retry_after
    assert TOKEN not in str(error)
    assert CALLBACK_TOKEN not in str(error)


async def test_error_message_keeps_sinch_code_and_text() -> None:
    sent = await send(sinch_error(400, "syntax_constraint_violation", "Missing 'body'."))
    assert (
        str(sent.outcome) == "Sinch answered HTTP 400 syntax_constraint_violation: Missing 'body'."
    )


async def test_explicit_timeout_is_passed_on_every_call() -> None:
    sent = await send(httpx.Response(201, json=BATCH), timeout=2.5)
    assert_exact_request(sent.requests[0], timeout=2.5)


# --- request building ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "url"),
    [
        ({}, US_URL),
        ({"region": "eu"}, f"https://eu.sms.api.sinch.com/xms/v1/{PLAN}/batches"),
        ({"region": "au"}, f"https://au.sms.api.sinch.com/xms/v1/{PLAN}/batches"),
        ({"region": "br"}, f"https://br.sms.api.sinch.com/xms/v1/{PLAN}/batches"),
        ({"region": "ca"}, f"https://ca.sms.api.sinch.com/xms/v1/{PLAN}/batches"),
        ({"base_url": "http://127.0.0.1:9102"}, f"http://127.0.0.1:9102/xms/v1/{PLAN}/batches"),
        (
            {"region": "eu", "base_url": "https://sms.internal.example/"},
            f"https://sms.internal.example/xms/v1/{PLAN}/batches",
        ),
    ],
    ids=["default us", "eu", "au", "br", "ca", "base_url", "base_url wins over region"],
)
async def test_region_and_base_url(settings: dict[str, str], url: str) -> None:
    config = CONFIG.model_copy(update=settings)
    config = SinchConfig.model_validate(config.model_dump())
    sent = await send(httpx.Response(201, json=BATCH), config=config)
    assert_exact_request(sent.requests[0], url=url)
    assert config.resolved_base_url == url.removesuffix(f"/xms/v1/{PLAN}/batches")


@pytest.mark.parametrize(
    "settings",
    [
        {"region": "us", "extra": "x"},
        {"region": "jp"},
        {"base_url": "sms.example.com"},
        {"service_plan_id": ""},
        {"service_plan_id": "../admin"},
        {"api_token": ""},
    ],
    ids=[
        "extra field",
        "unknown region",
        "base_url without scheme",
        "empty plan",
        "path plan",
        "no token",
    ],
)
def test_config_rejects(settings: dict[str, str]) -> None:
    values = {"service_plan_id": PLAN, "api_token": TOKEN, **settings}
    with pytest.raises(ValidationError):
        SinchConfig.model_validate(values)


def test_config_repr_hides_secrets() -> None:
    config = SinchConfig(
        service_plan_id=PLAN,
        api_token=TOKEN,
        callback_token=CALLBACK_TOKEN,
        callback_hmac_secret=HMAC_SECRET,
    )
    assert TOKEN not in repr(config)
    assert CALLBACK_TOKEN not in repr(config)
    assert HMAC_SECRET not in repr(config)


async def body_for(sms: OutboundSms, config: SinchConfig = CONFIG) -> dict[str, Any]:
    sent = await send(httpx.Response(201, json=BATCH), sms=sms, config=config)
    assert isinstance(sent.outcome, SendResult)
    body: dict[str, Any] = json.loads(sent.requests[0].content)
    return body


def sms_with(**changes: Any) -> OutboundSms:
    values = {name: getattr(SMS, name) for name in OutboundSms.__dataclass_fields__}
    return OutboundSms(**{**values, **changes})


@pytest.mark.parametrize(
    ("sms", "config", "changed"),
    [
        (
            sms_with(media_urls=("https://cdn.example.com/a.jpg",)),
            CONFIG,
            {
                "type": "mt_media",
                "body": {"url": "https://cdn.example.com/a.jpg", "message": "Your code is 1234"},
            },
        ),
        (
            sms_with(media_urls=("https://cdn.example.com/a.jpg",), body=""),
            CONFIG,
            {"type": "mt_media", "body": {"url": "https://cdn.example.com/a.jpg"}},
        ),
        (sms_with(status_callback_url=None), CONFIG, {"callback_url": None}),
        (sms_with(validity_seconds=None), CONFIG, {"expire_at": None}),
        (sms_with(validity_seconds=30 * 86400), CONFIG, {"expire_at": "2026-01-05T03:04:05.678Z"}),
        (
            sms_with(status_callback_url=f"{STATUS_URL}?token=preset"),
            CONFIG,
            {"callback_url": f"{STATUS_URL}?token=preset"},
        ),
        (
            sms_with(status_callback_url=f"{STATUS_URL}?a=1"),
            CONFIG,
            {"callback_url": f"{STATUS_URL}?a=1&token={CALLBACK_TOKEN}"},
        ),
        (
            SMS,
            SinchConfig(service_plan_id=PLAN, api_token=TOKEN, callback_hmac_secret=HMAC_SECRET),
            {"callback_url": STATUS_URL},
        ),
        (sms_with(sender="LynSMS"), CONFIG, {"from": "LynSMS"}),
    ],
    ids=[
        "mms",
        "mms without text",
        "no callback url",
        "no validity",
        "validity capped at 3 days",
        "token already in url",
        "token appended to query",
        "no callback token configured",
        "alphanumeric sender",
    ],
)
async def test_request_body_variants(
    sms: OutboundSms, config: SinchConfig, changed: dict[str, Any]
) -> None:
    expected = {**EXPECTED_BODY, **changed}
    assert await body_for(sms, config) == {k: v for k, v in expected.items() if v is not None}


async def test_mms_with_two_media_is_rejected_before_any_call() -> None:
    sms = sms_with(media_urls=("https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"))
    sent = await send(httpx.Response(201, json=BATCH), sms=sms)
    assert sent.requests == []
    assert type(sent.outcome) is Rejected
    assert sent.outcome.retryable is False


def test_provider_identity_and_redaction() -> None:
    config = SinchConfig(
        service_plan_id=PLAN,
        api_token=TOKEN,
        callback_token=CALLBACK_TOKEN,
        callback_hmac_secret=HMAC_SECRET,
    )
    provider = SinchProvider(config, NO_HTTP)
    assert (provider.name, provider.supports_mms) == ("sinch", True)
    assert provider.redact_values() == [TOKEN, CALLBACK_TOKEN, HMAC_SECRET]
    assert SinchProvider(
        SinchConfig(service_plan_id=PLAN, api_token=TOKEN), NO_HTTP
    ).redact_values() == [TOKEN]


# --- callbacks: authentication ---------------------------------------------------------------
HMAC_CONFIG = SinchConfig(service_plan_id=PLAN, api_token=TOKEN, callback_hmac_secret=HMAC_SECRET)
REPORT = {
    "type": "recipient_delivery_report_sms",
    "batch_id": BATCH_ID,
    "recipient": "12025550143",
    "code": 0,
    "status": "Delivered",
    "at": "2026-01-02T03:04:06.100Z",
    "operator_status_at": "2026-01-02T03:04:06.000Z",
    "client_reference": "msg_01HZX",
}
DELIVERED = DeliveryReport(
    provider_message_id=BATCH_ID,
    status="delivered",
    provider_status="Delivered",
    occurred_at=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
    recipient="+12025550143",
)


def callback(
    payload: dict[str, Any] | bytes,
    *,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    url: str = STATUS_URL,
) -> CallbackRequest:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return CallbackRequest(url=url, headers=headers or {}, body=body, query=query or {})


SIGNED_AT = int(time.time())  # the rows below are signed at import; their test runs later


def signed_headers(
    body: bytes,
    *,
    secret: str = HMAC_SECRET,
    timestamp: int | None = None,
    algorithm: str = "HmacSHA256",
) -> dict[str, str]:
    stamp = str(SIGNED_AT if timestamp is None else timestamp)
    digest = {"HmacSHA256": hashlib.sha256, "HmacSHA512": hashlib.sha512}.get(
        algorithm, hashlib.md5
    )
    mac = hmac.new(secret.encode(), body + b".nonce-01." + stamp.encode(), digest).digest()
    return {
        "x-sinch-webhook-signature": base64.b64encode(mac).decode(),
        "x-sinch-webhook-signature-nonce": "nonce-01",
        "x-sinch-webhook-signature-timestamp": stamp,
        "x-sinch-webhook-signature-algorithm": algorithm,
    }


BODY = json.dumps(REPORT).encode()
AUTH_ROWS: dict[str, tuple[SinchConfig, CallbackRequest, bool]] = {
    "token good": (CONFIG, callback(REPORT, query={"token": CALLBACK_TOKEN}), True),
    "token only in url": (
        CONFIG,
        callback(REPORT, url=f"{STATUS_URL}?token={CALLBACK_TOKEN}"),
        True,
    ),
    "token wrong": (CONFIG, callback(REPORT, query={"token": "nope"}), False),
    "token prefix": (CONFIG, callback(REPORT, query={"token": CALLBACK_TOKEN[:-1]}), False),
    "token missing": (CONFIG, callback(REPORT), False),
    "nothing configured": (
        SinchConfig(service_plan_id=PLAN, api_token=TOKEN),
        callback(REPORT, query={"token": CALLBACK_TOKEN}),
        False,
    ),
    "hmac good": (HMAC_CONFIG, callback(BODY, headers=signed_headers(BODY)), True),
    "hmac sha512": (
        HMAC_CONFIG,
        callback(BODY, headers=signed_headers(BODY, algorithm="HmacSHA512")),
        True,
    ),
    "hmac without algorithm header": (
        HMAC_CONFIG,
        callback(
            BODY,
            headers={
                k: v
                for k, v in signed_headers(BODY).items()
                if k != "x-sinch-webhook-signature-algorithm"
            },
        ),
        True,
    ),
    "hmac wrong secret": (
        HMAC_CONFIG,
        callback(BODY, headers=signed_headers(BODY, secret="other")),
        False,
    ),
    "hmac tampered body": (
        HMAC_CONFIG,
        callback(BODY.replace(b"Delivered", b"Failed"), headers=signed_headers(BODY)),
        False,
    ),
    "hmac stale timestamp": (
        HMAC_CONFIG,
        callback(BODY, headers=signed_headers(BODY, timestamp=SIGNED_AT - 3600)),
        False,
    ),
    "hmac unknown algorithm": (
        HMAC_CONFIG,
        callback(BODY, headers=signed_headers(BODY, algorithm="HmacMD5")),
        False,
    ),
    "hmac headers missing, token given": (
        SinchConfig(
            service_plan_id=PLAN,
            api_token=TOKEN,
            callback_token=CALLBACK_TOKEN,
            callback_hmac_secret=HMAC_SECRET,
        ),
        callback(BODY, query={"token": CALLBACK_TOKEN}),
        False,
    ),
}


@pytest.mark.parametrize(
    ("config", "request_", "accepted"), AUTH_ROWS.values(), ids=AUTH_ROWS.keys()
)
def test_callback_authentication(
    config: SinchConfig, request_: CallbackRequest, accepted: bool, monkeypatch: Any
) -> None:
    # Verify as if the callback arrived a second after it was signed, however long the suite
    # took to get here (the rows are built at collection).
    monkeypatch.setattr(sinch_callbacks, "time", SimpleNamespace(time=lambda: SIGNED_AT + 1))
    provider = SinchProvider(config, NO_HTTP)
    parsers: list[Callable[[CallbackRequest], list[Any]]] = [
        provider.parse_status_callback,
        provider.parse_inbound_callback,
    ]
    for parse in parsers:
        if accepted:
            parse(request_)
        else:
            with pytest.raises(CallbackRejected):
                parse(request_)
    if accepted:
        assert provider.parse_status_callback(request_) == [DELIVERED]


def test_hmac_matches_sinch_sdk_vector() -> None:
    """Known answer from Sinch's own SDK tests (secret, nonce, timestamp and signature)."""
    body = (
        b'{"app_id":"","accepted_time":"2021-10-18T17:49:13.813615Z","project_id":'
        b'"e2df3a34-a71b-4448-9db5-a8d2baad28e4","contact_create_notification":{"contact":'
        b'{"id":"01FJA8B466Y0R2GNXD78MD9SM1","channel_identities":[{"channel":"SMS",'
        b'"identity":"48123456789","app_id":""}],"display_name":"New Test Contact","email":'
        b'"new.contact@email.com","external_id":"","metadata":"","language":"EN_US"}},'
        b'"message_metadata":""}'
    )
    headers = {
        "x-sinch-webhook-signature-nonce": "01FJA8B4A7BM43YGWSG9GBV067",
        "x-sinch-webhook-signature-timestamp": "1634579353",
        "x-sinch-webhook-signature": "6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE=",
    }
    verify_signature("foo_secret1234", callback(body, headers=headers), now=1634579353)
    with pytest.raises(CallbackRejected):
        verify_signature("foo_secret1235", callback(body, headers=headers), now=1634579353)


# --- callbacks: delivery reports ----------------------------------------------------------------
STATUS_ROWS = [
    ("Queued", 400, "sent", None),
    ("Dispatched", 401, "sent", None),
    ("Delivered", 0, "delivered", None),
    ("DELIVERED", 0, "delivered", None),
    ("Unknown", 0, "sent", None),
    ("Aborted", 402, "failed", "402"),
    ("Aborted", 404, "failed", "404"),
    ("Cancelled", 407, "failed", "407"),
    ("Expired", 406, "failed", "406"),
    ("Rejected", 408, "undelivered", "408"),
    ("Failed", 11, "undelivered", "11"),
    ("Deleted", 0, "undelivered", None),
    ("Aborted", 413, "failed", "413"),
]


@pytest.mark.parametrize(("status", "code", "mapped", "error_code"), STATUS_ROWS)
def test_status_mapping(status: str, code: int, mapped: str, error_code: str | None) -> None:
    payload = {**REPORT, "status": status, "code": code}
    [report] = SinchProvider(CONFIG, NO_HTTP).parse_status_callback(
        callback(payload, query={"token": CALLBACK_TOKEN})
    )
    assert (report.status, report.provider_status, report.error_code) == (
        mapped,
        status,
        error_code,
    )
    assert report.provider_message_id == BATCH_ID


def parse_status(payload: dict[str, Any] | bytes) -> list[DeliveryReport]:
    provider = SinchProvider(CONFIG, NO_HTTP)
    return provider.parse_status_callback(callback(payload, query={"token": CALLBACK_TOKEN}))


def test_recipient_report_fields() -> None:
    payload = {**REPORT, "status": "Aborted", "code": 402}
    del payload["operator_status_at"]
    assert parse_status(payload) == [
        DeliveryReport(
            provider_message_id=BATCH_ID,
            status="failed",
            provider_status="Aborted",
            error_code="402",
            error_message="Message unroutable",
            occurred_at=datetime(2026, 1, 2, 3, 4, 6, 100000, tzinfo=UTC),
            recipient="+12025550143",
        )
    ]


def test_full_batch_report() -> None:
    payload = {
        "type": "delivery_report_sms",
        "batch_id": BATCH_ID,
        "total_message_count": 3,
        "statuses": [
            {
                "code": 0,
                "status": "Delivered",
                "count": 2,
                "recipients": ["12025550143", "447700900100"],
            },
            {"code": 402, "status": "Aborted", "count": 1, "recipients": ["12025550199"]},
        ],
        "client_reference": "msg_01HZX",
    }
    delivered = DeliveryReport(
        provider_message_id=BATCH_ID, status="delivered", provider_status="Delivered"
    )
    assert parse_status(payload) == [
        replace(delivered, recipient="+12025550143"),
        replace(delivered, recipient="+447700900100"),
        DeliveryReport(
            provider_message_id=BATCH_ID,
            status="failed",
            provider_status="Aborted",
            error_code="402",
            error_message="Message unroutable",
            recipient="+12025550199",
        ),
    ]


def test_summary_batch_report_names_no_recipient() -> None:
    payload = {
        "type": "delivery_report_sms",
        "batch_id": BATCH_ID,
        "total_message_count": 1,
        "statuses": [{"code": 0, "status": "Delivered", "count": 1}],
    }
    assert parse_status(payload) == [
        DeliveryReport(
            provider_message_id=BATCH_ID, status="delivered", provider_status="Delivered"
        )
    ]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({**REPORT, "status": "Teleported"}, []),
        ({"type": "mo_text", "id": "x", "from": "1", "to": "2", "body": "hi"}, []),
        ({"type": "something_new"}, []),
    ],
    ids=["undocumented status", "inbound on status url", "unknown type"],
)
def test_status_callbacks_without_reports(payload: dict[str, Any], expected: list[Any]) -> None:
    assert parse_status(payload) == expected


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2]",
        {k: v for k, v in REPORT.items() if k != "batch_id"},
        {**REPORT, "status": 3},
    ],
    ids=["not json", "not an object", "no batch_id", "status not a string"],
)
def test_malformed_status_callbacks_are_rejected(payload: dict[str, Any] | bytes) -> None:
    with pytest.raises(CallbackRejected):
        parse_status(payload)


# --- callbacks: inbound -------------------------------------------------------------------------
MO_TEXT = {
    "type": "mo_text",
    "id": "01FC66621VHDBN119Z8PMV1QPA",
    "from": "11203494390",
    "to": "11203453453",
    "body": "STOP",
    "received_at": "2026-01-02T03:04:05.678Z",
    "sent_at": "2026-01-02T03:04:05.000Z",
    "operator_id": "310260",
}


def parse_inbound(payload: dict[str, Any]) -> list[InboundSms]:
    provider = SinchProvider(CONFIG, NO_HTTP)
    return provider.parse_inbound_callback(callback(payload, query={"token": CALLBACK_TOKEN}))


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            MO_TEXT,
            [
                InboundSms(
                    sender="+11203494390",
                    to="+11203453453",
                    body="STOP",
                    provider_message_id="01FC66621VHDBN119Z8PMV1QPA",
                    received_at=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
                )
            ],
        ),
        (
            {**MO_TEXT, "to": "12345", "received_at": "2026-01-02T03:04:05"},
            [
                InboundSms(
                    sender="+11203494390",
                    to="12345",
                    body="STOP",
                    provider_message_id="01FC66621VHDBN119Z8PMV1QPA",
                    received_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                )
            ],
        ),
        (
            {**MO_TEXT, "type": "mo_media", "body": {"message": "look", "media": []}},
            [
                InboundSms(
                    sender="+11203494390",
                    to="+11203453453",
                    body="look",
                    provider_message_id="01FC66621VHDBN119Z8PMV1QPA",
                    received_at=datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
                )
            ],
        ),
        ({**MO_TEXT, "type": "mo_binary", "body": "AAEC", "udh": "0500"}, []),
        (REPORT, []),
    ],
    ids=[
        "mo_text",
        "short code, no offset",
        "mo_media text",
        "mo_binary ignored",
        "dlr on inbound url",
    ],
)
def test_inbound_parsing(payload: dict[str, Any], expected: list[InboundSms]) -> None:
    assert parse_inbound(payload) == expected


def test_inbound_without_sender_is_rejected() -> None:
    with pytest.raises(CallbackRejected):
        parse_inbound({k: v for k, v in MO_TEXT.items() if k != "from"})
