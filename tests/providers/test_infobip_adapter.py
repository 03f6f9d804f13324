"""Infobip adapter, table-driven through ``httpx.MockTransport`` (never the network).

Each send row: the mocked reply → the exact request we expect (method, URL, headers,
JSON body, timeout) → the ``SendResult`` or the error class with ``retryable``,
``provider_code`` and ``http_status``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

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
from lynsms.providers.infobip import InfobipConfig, InfobipProvider
from lynsms.providers.infobip.callbacks import parse_inbound_callback, parse_status_callback

API_KEY = "003026bbc133714df1834b8638bb496e-8f4b3d9a"
TOKEN = "cb-token-7Hq2"
CONFIG = InfobipConfig(
    api_key=API_KEY, base_url="https://xyz12.api.infobip.com/", callback_token=TOKEN
)
SEND_URL = "https://xyz12.api.infobip.com/sms/3/messages"
CALLBACK = "https://sms.example.com/callbacks/infobip/status"
SMS = OutboundSms(
    message_id="msg_01HZX5",
    to="+41793026727",
    sender="LynSMS",
    body="Your code is 123456",
    status_callback_url=CALLBACK,
    validity_seconds=3600,
)
BODY: dict[str, Any] = {
    "messages": [
        {
            "sender": "LynSMS",
            "destinations": [{"to": "41793026727", "messageId": "msg_01HZX5"}],
            "content": {"text": "Your code is 123456"},
            "webhooks": {
                "contentType": "application/json",
                "callbackData": "msg_01HZX5",
                "delivery": {"url": f"{CALLBACK}?token={TOKEN}", "intermediateReport": False},
            },
            "options": {"validityPeriod": {"amount": 3600, "timeUnit": "SECONDS"}},
        }
    ]
}

Reply = Callable[[httpx.Request], httpx.Response]


def reply(status: int, body: Any = None, *, text: str | None = None, **headers: str) -> Reply:
    def answer(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return answer


def fail(exc_type: type[httpx.TransportError]) -> Reply:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc_type("boom", request=request)

    return answer


def status(group_id: int, group: str, status_id: int, name: str) -> dict[str, Any]:
    return {
        "groupId": group_id,
        "groupName": group,
        "id": status_id,
        "name": name,
        "description": f"{name} description",
    }


PENDING = status(1, "PENDING", 26, "PENDING_ACCEPTED")


def entry(
    st: dict[str, Any], message_id: str = "msg_01HZX5", to: str = "41793026727"
) -> dict[str, Any]:
    return {"messageId": message_id, "status": st, "destination": to}


def ok(*entries: dict[str, Any]) -> Reply:
    return reply(200, {"bulkId": "2034072219640523072", "messages": list(entries)})


def rejected(status_id: int, name: str) -> Reply:
    return ok(entry(status(5, "REJECTED", status_id, name)))


def api_error(status_code: int, code: str, **headers: str) -> Reply:
    body = {
        "errorCode": code,
        "description": f"{code} description",
        "action": "Check the request.",
        "violations": [],
        "resources": [],
    }
    return reply(status_code, body, **headers)


def legacy_error(status_code: int, message_id: str, text: str) -> Reply:
    body = {"requestError": {"serviceException": {"messageId": message_id, "text": text}}}
    return reply(status_code, body)


@dataclass(frozen=True)
class Failure:
    error: type[ProviderError]
    retryable: bool
    provider_code: str | None
    http_status: int | None
    retry_after: float | None = None


@dataclass(frozen=True)
class Case:
    id: str
    reply: Reply
    expected: SendResult | Failure
    sms: OutboundSms = SMS
    config: InfobipConfig = CONFIG
    body: dict[str, Any] = field(default_factory=lambda: BODY)


def body_with(**webhook_changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(BODY))
    body["messages"][0]["webhooks"].update(webhook_changes)
    return body


def body_without(*keys: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(BODY))
    for key in keys:
        target, _, name = key.rpartition(".")
        (body["messages"][0][target] if target else body["messages"][0]).pop(name)
    return body


ACCEPTED = SendResult(provider_message_id="msg_01HZX5", raw_status="PENDING_ACCEPTED")
OTHER_PENDING = entry(PENDING, "other-id", "41793026834")

CASES = [
    # --- accepted --------------------------------------------------------------------------
    Case("pending-accepted", ok(entry(PENDING)), ACCEPTED),
    Case(
        "infobip-assigned-id-matched-by-destination",
        ok(entry(PENDING, "2250be2d4219-3af1")),
        SendResult("2250be2d4219-3af1", "PENDING_ACCEPTED"),
    ),
    Case("ours-among-several", ok(OTHER_PENDING, entry(PENDING)), ACCEPTED),
    Case(
        "ours-among-several-by-destination",
        ok(OTHER_PENDING, entry(PENDING, "infobip-made-id")),
        SendResult("infobip-made-id", "PENDING_ACCEPTED"),
    ),
    Case(
        "pending-enroute",
        ok(entry(status(1, "PENDING", 7, "PENDING_ENROUTE"))),
        SendResult("msg_01HZX5", "PENDING_ENROUTE"),
    ),
    Case("accepted-group", ok(entry(status(0, "ACCEPTED", 0, ""))), SendResult("msg_01HZX5")),
    # --- request variants --------------------------------------------------------------------
    Case(
        "e164-sender-without-plus",
        ok(entry(PENDING)),
        ACCEPTED,
        sms=replace(SMS, sender="+15550001111"),
        body={"messages": [{**BODY["messages"][0], "sender": "15550001111"}]},
    ),
    Case(
        "no-callback-no-validity",
        ok(entry(PENDING)),
        ACCEPTED,
        sms=replace(SMS, status_callback_url=None, validity_seconds=None),
        body=body_without("webhooks.delivery", "options"),
    ),
    Case(
        "no-callback-token-configured",
        ok(entry(PENDING)),
        ACCEPTED,
        config=InfobipConfig(api_key=API_KEY, base_url="https://xyz12.api.infobip.com"),
        body=body_with(delivery={"url": CALLBACK, "intermediateReport": False}),
    ),
    Case(
        "callback-already-has-token",
        ok(entry(PENDING)),
        ACCEPTED,
        sms=replace(SMS, status_callback_url=f"{CALLBACK}?a=1&token=given"),
        body=body_with(
            delivery={"url": f"{CALLBACK}?a=1&token=given", "intermediateReport": False}
        ),
    ),
    # --- partial success and refusals inside a 200 --------------------------------------------
    Case(
        "partial-ours-rejected-other-pending",
        ok(OTHER_PENDING, entry(status(5, "REJECTED", 52, "REJECTED_DESTINATION"))),
        Failure(Rejected, False, "REJECTED_DESTINATION", 200),
    ),
    Case(
        "partial-ours-pending-other-rejected",
        ok(entry(status(5, "REJECTED", 52, "REJECTED_DESTINATION"), "x", "4412"), entry(PENDING)),
        ACCEPTED,
    ),
    Case(
        "rejected-destination",
        rejected(52, "REJECTED_DESTINATION"),
        Failure(Rejected, False, "REJECTED_DESTINATION", 200),
    ),
    Case(
        "rejected-prefix-missing",
        rejected(8, "REJECTED_PREFIX_MISSING"),
        Failure(Rejected, False, "REJECTED_PREFIX_MISSING", 200),
    ),
    Case(
        "rejected-message-too-long",
        rejected(25, "REJECTED_MESSAGE_TOO_LONG"),
        Failure(Rejected, False, "REJECTED_MESSAGE_TOO_LONG", 200),
    ),
    Case(
        "rejected-duplicate-id-is-hard",
        rejected(23, "REJECTED_DUPLICATE_MESSAGE_ID"),
        Failure(Rejected, False, "REJECTED_DUPLICATE_MESSAGE_ID", 200),
    ),
    Case(
        "rejected-unknown-name",
        rejected(77, "REJECTED_SOMETHING_NEW"),
        Failure(Rejected, False, "REJECTED_SOMETHING_NEW", 200),
    ),
    Case(
        "rejected-id-only",
        ok(entry({"groupId": 5, "groupName": "REJECTED", "id": 52})),
        Failure(Rejected, False, "52", 200),
    ),
    Case(
        "undeliverable-at-submit",
        ok(entry(status(2, "UNDELIVERABLE", 4, "UNDELIVERABLE_REJECTED_OPERATOR"))),
        Failure(Rejected, False, "UNDELIVERABLE_REJECTED_OPERATOR", 200),
    ),
    Case(
        "not-enough-credits",
        rejected(12, "REJECTED_NOT_ENOUGH_CREDITS"),
        Failure(BillingFailed, False, "REJECTED_NOT_ENOUGH_CREDITS", 200),
    ),
    Case(
        "prepaid-package-expired",
        rejected(17, "REJECTED_PREPAID_PACKAGE_EXPIRED"),
        Failure(BillingFailed, False, "REJECTED_PREPAID_PACKAGE_EXPIRED", 200),
    ),
    Case(
        "destination-blocklisted",
        rejected(14, "REJECTED_DESTINATION_BLOCKLISTED"),
        Failure(Blacklisted, False, "REJECTED_DESTINATION_BLOCKLISTED", 200),
    ),
    Case("dnd", rejected(10, "REJECTED_DND"), Failure(Blacklisted, False, "REJECTED_DND", 200)),
    Case(
        "any-blocklist-name",
        rejected(98, "REJECTED_NUMBER_BLOCKLISTED"),
        Failure(Blacklisted, False, "REJECTED_NUMBER_BLOCKLISTED", 200),
    ),
    Case(
        "any-blacklist-name",
        rejected(99, "REJECTED_BLACKLISTED_NUMBER"),
        Failure(Blacklisted, False, "REJECTED_BLACKLISTED_NUMBER", 200),
    ),
    Case(
        "sender-blocklisted",
        rejected(13, "REJECTED_SENDER"),
        Failure(ConfigurationError, False, "REJECTED_SENDER", 200),
    ),
    Case(
        "sender-not-registered",
        rejected(11, "REJECTED_SOURCE"),
        Failure(ConfigurationError, False, "REJECTED_SOURCE", 200),
    ),
    Case(
        "no-route-on-account",
        rejected(19, "REJECTED_ROUTE_NOT_AVAILABLE"),
        Failure(ConfigurationError, False, "REJECTED_ROUTE_NOT_AVAILABLE", 200),
    ),
    Case(
        "network-not-set-up",
        rejected(6, "REJECTED_NETWORK"),
        Failure(ConfigurationError, False, "REJECTED_NETWORK", 200),
    ),
    Case(
        "rejected-system-error-is-retryable",
        rejected(21, "REJECTED_SYSTEM_ERROR"),
        Failure(ProviderUnavailable, True, "REJECTED_SYSTEM_ERROR", 200),
    ),
    # --- unusable 200s -------------------------------------------------------------------------
    Case(
        "200-no-messages",
        reply(200, {"bulkId": "1", "messages": []}),
        Failure(ProviderUnavailable, True, None, 200),
    ),
    Case(
        "200-not-json",
        reply(200, text="<html>ok</html>"),
        Failure(ProviderUnavailable, True, None, 200),
    ),
    Case(
        "200-entry-without-message-id",
        reply(200, {"messages": [{"status": PENDING, "destination": "41793026727"}]}),
        Failure(ProviderUnavailable, True, None, 200),
    ),
    # --- HTTP errors ---------------------------------------------------------------------------
    Case("400-api-error", api_error(400, "E400"), Failure(Rejected, False, "E400", 400)),
    Case(
        "400-legacy",
        legacy_error(400, "BAD_REQUEST", "Bad request"),
        Failure(Rejected, False, "BAD_REQUEST", 400),
    ),
    Case("401", api_error(401, "E401"), Failure(ConfigurationError, False, "E401", 401)),
    Case(
        "401-legacy",
        legacy_error(401, "UNAUTHORIZED", "Invalid login details"),
        Failure(ConfigurationError, False, "UNAUTHORIZED", 401),
    ),
    Case("403", api_error(403, "E403"), Failure(ConfigurationError, False, "E403", 403)),
    Case(
        "404-wrong-base-url",
        reply(404, text="Not Found"),
        Failure(ConfigurationError, False, None, 404),
    ),
    Case(
        "301-redirect",
        reply(301, text="", location="https://x"),
        Failure(ConfigurationError, False, None, 301),
    ),
    Case("402", api_error(402, "E402"), Failure(BillingFailed, False, "E402", 402)),
    Case(
        "429-retry-after",
        api_error(429, "E429", **{"retry-after": "3"}),
        Failure(Throttled, True, "E429", 429, retry_after=3.0),
    ),
    Case("429-no-body", reply(429, text=""), Failure(Throttled, True, None, 429)),
    Case("500", api_error(500, "E500"), Failure(ProviderUnavailable, True, "E500", 500)),
    Case(
        "500-legacy",
        legacy_error(500, "GENERAL_ERROR", "Something went wrong."),
        Failure(ProviderUnavailable, True, "GENERAL_ERROR", 500),
    ),
    Case(
        "502-unparseable-html",
        reply(502, text="<html><h1>Bad Gateway</h1></html>"),
        Failure(ProviderUnavailable, True, None, 502),
    ),
    Case("503-empty", reply(503, text=""), Failure(ProviderUnavailable, True, None, 503)),
    Case("503-json-array", reply(503, [1, 2]), Failure(ProviderUnavailable, True, None, 503)),
    # --- transport -----------------------------------------------------------------------------
    Case("read-timeout", fail(httpx.ReadTimeout), Failure(ProviderTimeout, True, None, None)),
    Case("connect-timeout", fail(httpx.ConnectTimeout), Failure(ProviderTimeout, True, None, None)),
    Case("connect-error", fail(httpx.ConnectError), Failure(ConnectionFailed, True, None, None)),
    Case(
        "base-url-without-scheme",
        fail(httpx.UnsupportedProtocol),
        Failure(ConfigurationError, False, None, None),
    ),
    Case(
        "reset-before-reply",
        fail(httpx.RemoteProtocolError),
        Failure(ConnectionFailed, True, None, None),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_send(case: Case) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return case.reply(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        provider = InfobipProvider(case.config, client, timeout=7.5)
        if isinstance(case.expected, SendResult):
            assert await provider.send(case.sms) == case.expected
        else:
            with pytest.raises(ProviderError) as caught:
                await provider.send(case.sms)
            assert_failure(caught.value, case.expected)

    assert len(seen) == 1
    assert_request(seen[0], case.body)


def assert_failure(error: ProviderError, expected: Failure) -> None:
    assert type(error) is expected.error
    assert error.retryable is expected.retryable
    assert error.provider_code == expected.provider_code
    assert error.http_status == expected.http_status
    assert error.retry_after == expected.retry_after
    assert API_KEY not in str(error)
    assert TOKEN not in str(error)


def assert_request(request: httpx.Request, body: dict[str, Any]) -> None:
    assert request.method == "POST"
    assert str(request.url) == SEND_URL
    assert request.headers["authorization"] == f"App {API_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert json.loads(request.content) == body
    assert request.extensions["timeout"] == {"connect": 7.5, "read": 7.5, "write": 7.5, "pool": 7.5}


# --- provider surface -----------------------------------------------------------------------
async def test_provider_surface() -> None:
    async with httpx.AsyncClient() as client:
        provider = InfobipProvider(CONFIG, client)
        bare = InfobipConfig(api_key=API_KEY, base_url="https://x.api.infobip.com")
        assert (provider.name, provider.supports_mms) == ("infobip", False)
        assert provider.redact_values() == [API_KEY, TOKEN]
        assert InfobipProvider(bare, client).redact_values() == [API_KEY]


def test_config_forbids_extra_keys_and_hides_secrets() -> None:
    with pytest.raises(pydantic.ValidationError):
        InfobipConfig(api_key="k", base_url="https://x", region="eu")  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError):
        InfobipConfig(api_key="k")  # type: ignore[call-arg]
    assert API_KEY not in repr(CONFIG)
    assert TOKEN not in repr(CONFIG)


# --- callbacks ------------------------------------------------------------------------------
def report(
    message_id: str = "msg_01HZX5",
    st: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "bulkId": "BULK-ID-123-xyz",
        "price": {"pricePerMessage": 0.01, "currency": "EUR"},
        "status": st or status(3, "DELIVERED", 5, "DELIVERED_TO_HANDSET"),
        "error": error
        or {
            "groupId": 0,
            "groupName": "OK",
            "id": 0,
            "name": "NO_ERROR",
            "description": "No Error",
            "permanent": False,
        },
        "messageId": message_id,
        "to": "41793026727",
        "sender": "InfoSMS",
        "sentAt": "2019-11-09T16:00:00.000+0100",
        "doneAt": "2019-11-09T16:00:05.250+0100",
        "messageCount": 1,
        "callbackData": message_id,
    }


def callback(
    payload: Any, query: str = f"token={TOKEN}", *, use_query_dict: bool = True
) -> CallbackRequest:
    url = f"https://sms.example.com/callbacks/infobip/status?{query}"
    parsed = dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair)
    return CallbackRequest(
        url=url,
        headers={"content-type": "application/json"},
        body=json.dumps(payload).encode(),
        query=parsed if use_query_dict else {},
    )


def test_delivery_report_maps_every_field() -> None:
    reports = parse_status_callback(CONFIG, callback({"results": [report()]}))
    assert reports == [
        DeliveryReport(
            provider_message_id="msg_01HZX5",
            status="delivered",
            provider_status="DELIVERED_TO_HANDSET",
            error_code=None,
            error_message=None,
            occurred_at=datetime(
                2019, 11, 9, 16, 0, 5, 250000, tzinfo=timezone(timedelta(hours=1))
            ),
            recipient="+41793026727",
        )
    ]


def test_delivery_report_keeps_error_group_name_and_id() -> None:
    error = {
        "groupId": 1,
        "groupName": "HANDSET_ERRORS",
        "id": 1,
        "name": "EC_UNKNOWN_SUBSCRIBER",
        "description": "Unknown Subscriber",
        "permanent": True,
    }
    st = status(2, "UNDELIVERABLE", 9, "UNDELIVERABLE_NOT_DELIVERED")
    (parsed,) = parse_status_callback(CONFIG, callback({"results": [report(st=st, error=error)]}))
    assert (parsed.status, parsed.provider_status) == ("undelivered", "UNDELIVERABLE_NOT_DELIVERED")
    assert parsed.error_code == "EC_UNKNOWN_SUBSCRIBER"
    assert parsed.error_message == "Unknown Subscriber (group HANDSET_ERRORS, id 1, permanent)"


STATUS_TABLE = [
    (status(1, "PENDING", 26, "PENDING_ACCEPTED"), "sent"),
    (status(1, "PENDING", 3, "PENDING_WAITING_DELIVERY"), "sent"),
    (status(0, "ACCEPTED", 0, "ACCEPTED"), "sent"),
    (status(3, "DELIVERED", 5, "DELIVERED_TO_HANDSET"), "delivered"),
    (status(3, "DELIVERED", 2, "DELIVERED_TO_OPERATOR"), "delivered"),
    (status(2, "UNDELIVERABLE", 9, "UNDELIVERABLE_NOT_DELIVERED"), "undelivered"),
    (status(2, "UNDELIVERABLE", 4, "UNDELIVERABLE_REJECTED_OPERATOR"), "undelivered"),
    (status(4, "EXPIRED", 15, "EXPIRED_EXPIRED"), "undelivered"),
    (status(4, "EXPIRED", 29, "EXPIRED_DLR_UNKNOWN"), "undelivered"),
    (status(5, "REJECTED", 52, "REJECTED_DESTINATION"), "failed"),
    (status(5, "REJECTED", 12, "REJECTED_NOT_ENOUGH_CREDITS"), "failed"),
]


@pytest.mark.parametrize(("st", "expected"), STATUS_TABLE, ids=[s["name"] for s, _ in STATUS_TABLE])
def test_status_mapping(st: dict[str, Any], expected: str) -> None:
    (parsed,) = parse_status_callback(CONFIG, callback({"results": [report(st=st)]}))
    assert parsed.status == expected
    assert parsed.provider_status == st["name"]


def test_batch_of_100_reports_in_order() -> None:
    payload = {"results": [report(f"msg_{i:03d}") for i in range(100)]}
    reports = parse_status_callback(CONFIG, callback(payload))
    assert [r.provider_message_id for r in reports] == [f"msg_{i:03d}" for i in range(100)]
    assert {r.status for r in reports} == {"delivered"}


def test_unusable_results_are_skipped_not_fatal() -> None:
    unknown_group = report("msg_b", st={"groupName": "MYSTERY", "name": "MYSTERY"})
    no_id = {**report(), "messageId": None}
    payload = {"results": [report("msg_a"), unknown_group, no_id, "junk", report("msg_c")]}
    reports = parse_status_callback(CONFIG, callback(payload))
    assert [r.provider_message_id for r in reports] == ["msg_a", "msg_c"]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"results": {}}', b"{}"])
def test_malformed_callback_body_raises_value_error(body: bytes) -> None:
    request = CallbackRequest(
        url=f"https://x/cb?token={TOKEN}", headers={}, body=body, query={"token": TOKEN}
    )
    with pytest.raises(ValueError, match="infobip callback body"):
        parse_status_callback(CONFIG, request)


def test_token_in_url_only_is_accepted() -> None:
    reports = parse_status_callback(CONFIG, callback({"results": [report()]}, use_query_dict=False))
    assert len(reports) == 1


TOKEN_CASES = [
    ("wrong", CONFIG, f"token={TOKEN}x"),
    ("missing", CONFIG, "other=1"),
    ("empty", CONFIG, "token="),
    ("prefix-only", CONFIG, f"token={TOKEN[:-1]}"),
    ("none-configured", InfobipConfig(api_key="k", base_url="https://x"), "token=None"),
    (
        "empty-configured",
        InfobipConfig(api_key="k", base_url="https://x", callback_token=""),
        "token=",
    ),
]


@pytest.mark.parametrize(
    ("config", "query"), [c[1:] for c in TOKEN_CASES], ids=[c[0] for c in TOKEN_CASES]
)
def test_callbacks_without_the_right_token_are_rejected(config: InfobipConfig, query: str) -> None:
    for use_query_dict in (True, False):
        request = callback({"results": [report()]}, query, use_query_dict=use_query_dict)
        with pytest.raises(CallbackRejected) as caught:
            parse_status_callback(config, request)
        assert TOKEN not in str(caught.value)
        with pytest.raises(CallbackRejected):
            parse_inbound_callback(config, request)


INBOUND: dict[str, Any] = {
    "results": [
        {
            "messageId": "817790313235066447",
            "from": "385916242493",
            "to": "385921004026",
            "text": "QUIZ Correct answer is Paris",
            "cleanText": "Correct answer is Paris",
            "keyword": "QUIZ",
            "receivedAt": "2019-11-09T16:00:00.000+0000",
            "smsCount": 1,
            "price": {"pricePerMessage": 0, "currency": "EUR"},
            "callbackData": "callbackData",
        }
    ],
    "messageCount": 1,
    "pendingMessageCount": 0,
}


def test_inbound_message_parsed() -> None:
    assert parse_inbound_callback(CONFIG, callback(INBOUND)) == [
        InboundSms(
            sender="+385916242493",
            to="+385921004026",
            body="QUIZ Correct answer is Paris",
            provider_message_id="817790313235066447",
            received_at=datetime(2019, 11, 9, 16, 0, tzinfo=UTC),
        )
    ]


def test_inbound_to_a_short_code_keeps_it() -> None:
    result = {**INBOUND["results"][0], "to": "12345", "receivedAt": "garbage"}
    (parsed,) = parse_inbound_callback(CONFIG, callback({"results": [result]}))
    assert (parsed.to, parsed.sender, parsed.received_at) == ("12345", "+385916242493", None)


async def test_provider_methods_delegate_to_parsers() -> None:
    async with httpx.AsyncClient() as client:
        provider = InfobipProvider(CONFIG, client)
    request = callback({"results": [report()]})
    assert provider.parse_status_callback(request) == parse_status_callback(CONFIG, request)
    inbound = callback(INBOUND)
    assert provider.parse_inbound_callback(inbound) == parse_inbound_callback(CONFIG, inbound)
    with pytest.raises(CallbackRejected):
        provider.parse_status_callback(callback({"results": []}, "token=bad"))
