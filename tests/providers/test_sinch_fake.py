"""The real Sinch adapter against FakeSinch over loopback HTTP; the fake against the spec."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lynsms.providers.base import (
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
from tests.fakes.base import AcceptedMessage, Behaviour, FakeProvider, shared_file
from tests.fakes.sinch import FakeSinch, new_id

PLAN = "0b4f6c2a9d8e4f1a"
TOKEN = "fake-api-token"
CALLBACK_TOKEN = "fake-callback-token"
HMAC_SECRET = "fake-hmac-secret"
STATUS_URL = "https://sms.example.com/callbacks/sinch/status"
SPEC = shared_file("provider-specs/sinch/openapi.yaml")


def sms(to: str = "+12025550143", **changes: Any) -> OutboundSms:
    values: dict[str, Any] = {
        "message_id": "msg_01J0000000000000000000000",
        "to": to,
        "sender": "+12025550100",
        "body": "Hello from LynSMS",
        "status_callback_url": STATUS_URL,
        "validity_seconds": 600,
    }
    return OutboundSms(**{**values, **changes})


def config_for(fake: FakeProvider, **changes: Any) -> SinchConfig:
    values = {
        "service_plan_id": PLAN,
        "api_token": TOKEN,
        "base_url": fake.url,
        "callback_token": CALLBACK_TOKEN,
    }
    return SinchConfig.model_validate({**values, **changes})


HTTP = httpx.AsyncClient()  # one client (and one TLS context) for the module's loopback calls
NO_HTTP = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(599)))


def parser(fake: FakeProvider, **changes: Any) -> SinchProvider:
    """An adapter used only for its callback parsers."""
    return SinchProvider(config_for(fake, **changes), NO_HTTP)


async def send(fake: FakeProvider, message: OutboundSms, **changes: Any) -> SendResult:
    timeout = changes.pop("timeout", 5.0)
    provider = SinchProvider(config_for(fake, **changes), HTTP, timeout=timeout)
    return await provider.send(message)


async def send_error(fake: FakeProvider, message: OutboundSms, **changes: Any) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await send(fake, message, **changes)
    return caught.value


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSinch]:
    with FakeSinch(service_plan_id=PLAN, api_token=TOKEN) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean(fake: FakeSinch) -> None:
    fake.reset()


# --- sending --------------------------------------------------------------------------------
async def test_ok_is_accepted_as_sinch_does(fake: FakeSinch) -> None:
    result = await send(fake, sms())
    [received] = fake.received
    assert (received.method, received.path) == ("POST", f"/xms/v1/{PLAN}/batches")
    assert received.headers["authorization"] == f"Bearer {TOKEN}"
    assert json.loads(received.body)["client_reference"] == "msg_01J0000000000000000000000"
    [accepted] = fake.accepted
    assert accepted == AcceptedMessage(
        provider_message_id=result.provider_message_id,
        to="+12025550143",
        sender="12025550100",
        body="Hello from LynSMS",
        callback_url=f"{STATUS_URL}?token={CALLBACK_TOKEN}",
        reference="msg_01J0000000000000000000000",
        extra=accepted.extra,
    )
    assert len(result.provider_message_id) == 26
    assert accepted.extra["type"] == "mt_text"
    assert accepted.extra["delivery_report"] == "per_recipient"
    assert accepted.extra["behaviour"] == "ok"


async def test_mms_goes_out_as_mt_media(fake: FakeSinch) -> None:
    await send(fake, sms(media_urls=("https://cdn.example.com/cat.png",)))
    [accepted] = fake.accepted
    assert accepted.body == "Hello from LynSMS"
    assert accepted.extra["type"] == "mt_media"
    assert accepted.extra["media_url"] == "https://cdn.example.com/cat.png"


BEHAVIOUR_ROWS = [
    (Behaviour.SERVER_ERROR, ProviderUnavailable, True, 503, None),
    (Behaviour.THROTTLE, Throttled, True, 429, None),
    (Behaviour.PERMANENT, Rejected, False, 400, "syntax_invalid_parameter_format"),
    (Behaviour.PARTIAL, Rejected, False, 400, "syntax_invalid_parameter_format"),
]


@pytest.mark.parametrize(
    ("behaviour", "error", "retryable", "status", "code"),
    BEHAVIOUR_ROWS,
    ids=[row[0].value for row in BEHAVIOUR_ROWS],
)
async def test_behaviours_map_to_error_classes(
    fake: FakeSinch,
    behaviour: Behaviour,
    error: type[ProviderError],
    retryable: bool,
    status: int,
    code: str | None,
) -> None:
    fake.behave("+12025550143", behaviour)
    raised = await send_error(fake, sms())
    assert type(raised) is error
    assert (raised.retryable, raised.http_status, raised.provider_code) == (retryable, status, code)
    assert len(fake.received) == 1
    assert fake.accepted == []


async def test_server_error_500_variant(fake: FakeSinch) -> None:
    fake.behave("+12025550143", Behaviour.SERVER_ERROR)
    fake.server_error_status = 500
    try:
        raised = await send_error(fake, sms())
    finally:
        fake.server_error_status = 503
    assert (type(raised), raised.http_status) == (ProviderUnavailable, 500)


async def test_blacklisted_is_accepted_then_reported_deleted(fake: FakeSinch) -> None:
    fake.behave("+12025550143", Behaviour.BLACKLISTED)
    result = await send(fake, sms())
    [accepted] = fake.accepted
    assert fake.final_status(accepted) == "Deleted"
    url, headers, body = fake.status_callback(accepted, fake.final_status(accepted))
    reports = parser(fake).parse_status_callback(as_request(url, headers, body))
    assert [(r.provider_message_id, r.status, r.provider_status) for r in reports] == [
        (result.provider_message_id, "undelivered", "Deleted")
    ]


async def test_hang_past_the_timeout_is_a_provider_timeout() -> None:
    with FakeSinch(service_plan_id=PLAN, api_token=TOKEN, hang_seconds=1.0) as hanging:
        hanging.behave("+12025550143", Behaviour.HANG)
        raised = await send_error(hanging, sms(), timeout=0.2)
    assert type(raised) is ProviderTimeout
    assert raised.retryable is True


async def test_hang_within_the_timeout_succeeds() -> None:
    with FakeSinch(service_plan_id=PLAN, api_token=TOKEN, hang_seconds=0.2) as hanging:
        hanging.behave("+12025550143", Behaviour.HANG)
        result = await send(hanging, sms(), timeout=5.0)
        assert [a.provider_message_id for a in hanging.accepted] == [result.provider_message_id]


async def test_stopped_fake_is_a_connection_failure() -> None:
    stopped = FakeSinch(service_plan_id=PLAN, api_token=TOKEN).start()
    stopped.stop()
    raised = await send_error(stopped, sms())
    assert type(raised) is ConnectionFailed
    assert raised.retryable is True


@pytest.mark.parametrize(
    "changes",
    [{"api_token": "wrong-token"}, {"service_plan_id": "otherplan"}],
    ids=["bad token", "other plan"],
)
async def test_bad_credentials_are_configuration_errors(
    fake: FakeSinch, changes: dict[str, str]
) -> None:
    raised = await send_error(fake, sms(), **changes)
    assert (type(raised), raised.retryable, raised.http_status) == (ConfigurationError, False, 401)
    assert "wrong-token" not in str(raised)
    assert fake.accepted == []


async def test_invalid_number_is_rejected_by_sinch_rules(fake: FakeSinch) -> None:
    raised = await send_error(fake, sms(to="+1"))
    assert (type(raised), raised.provider_code) == (Rejected, "syntax_invalid_parameter_format")
    assert "to[0]" in str(raised)


async def test_missing_callback_url_is_a_configuration_error(fake: FakeSinch) -> None:
    raised = await send_error(fake, sms(status_callback_url=None))
    assert (type(raised), raised.http_status) == (ConfigurationError, 403)
    assert raised.provider_code == "missing_callback_url"


# --- the fake's own validation ------------------------------------------------------------------
VALID = {"to": ["+12025550143"], "from": "+12025550100", "body": "hi"}
VALIDATION_ROWS: dict[str, tuple[Any, int, str | None]] = {
    "not json": (b"{", 400, "syntax_invalid_json"),
    "not an object": ([VALID], 400, "syntax_invalid_json"),
    "unknown field": ({**VALID, "text": "hi"}, 400, "syntax_invalid_json"),
    "to missing": ({"body": "hi"}, 400, "syntax_constraint_violation"),
    "to not a list": ({**VALID, "to": "+12025550143"}, 400, "syntax_invalid_json"),
    "to empty": ({**VALID, "to": []}, 400, "syntax_constraint_violation"),
    "1001 recipients": (
        {**VALID, "to": [f"+1202555{i:04d}" for i in range(1001)]},
        400,
        "syntax_constraint_violation",
    ),
    "msisdn too short": ({**VALID, "to": ["+123456"]}, 400, "syntax_invalid_parameter_format"),
    "msisdn too long": ({**VALID, "to": ["+" + "1" * 19]}, 400, "syntax_invalid_parameter_format"),
    "msisdn letters": ({**VALID, "to": ["+1202555ABCD"]}, 400, "syntax_invalid_parameter_format"),
    "group id": ({**VALID, "to": ["01FC66621VHDBN119Z8PMV1QPQ"]}, 403, "unknown_group"),
    "body missing": ({"to": VALID["to"]}, 400, "syntax_constraint_violation"),
    "body too long": ({**VALID, "body": "x" * 2001}, 400, "syntax_constraint_violation"),
    "sender too long": ({**VALID, "from": "ABCDEFGHIJKL"}, 400, "syntax_invalid_parameter_format"),
    "bad type": ({**VALID, "type": "mt_fax"}, 400, "syntax_invalid_parameter_format"),
    "media without url": (
        {**VALID, "type": "mt_media", "body": {"message": "x"}},
        400,
        "syntax_constraint_violation",
    ),
    "bad delivery_report": (
        {**VALID, "delivery_report": "always"},
        400,
        "syntax_invalid_parameter_format",
    ),
    "report without callback": (
        {**VALID, "delivery_report": "per_recipient"},
        403,
        "missing_callback_url",
    ),
    "client_reference too long": (
        {**VALID, "client_reference": "r" * 129},
        400,
        "syntax_constraint_violation",
    ),
    "bad expire_at": ({**VALID, "expire_at": "tomorrow"}, 400, "syntax_invalid_parameter_format"),
    "expire before send": (
        {**VALID, "send_at": "2030-01-02T00:00:00Z", "expire_at": "2030-01-01T00:00:00Z"},
        400,
        "syntax_constraint_violation",
    ),
}


async def post_batch(
    fake: FakeSinch, payload: Any, *, content_type: str = "application/json"
) -> httpx.Response:
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type}
    return await HTTP.post(f"{fake.url}/xms/v1/{PLAN}/batches", content=content, headers=headers)


@pytest.mark.parametrize(
    ("payload", "status", "code"), VALIDATION_ROWS.values(), ids=VALIDATION_ROWS.keys()
)
async def test_fake_validates_like_sinch(
    fake: FakeSinch, payload: Any, status: int, code: str | None
) -> None:
    response = await post_batch(fake, payload)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert isinstance(response.json()["text"], str)
    assert fake.accepted == []


async def test_fake_wants_json_content_type(fake: FakeSinch) -> None:
    response = await post_batch(fake, VALID, content_type="text/plain")
    assert response.status_code == 415


@pytest.mark.parametrize(
    ("number", "digits"),
    [
        ("+1 (202) 555-0143", "12025550143"),
        ("0012025550143", "12025550143"),
        ("12025550143", "12025550143"),
    ],
)
async def test_fake_normalises_numbers_like_sinch(
    fake: FakeSinch, number: str, digits: str
) -> None:
    response = await post_batch(fake, {**VALID, "to": [number]})
    assert response.status_code == 201
    assert response.json()["to"] == [digits]
    assert response.json()["from"] == "12025550100"
    assert [a.to for a in fake.accepted] == ["+" + digits]


async def test_fake_batch_object_fields(fake: FakeSinch) -> None:
    response = await post_batch(fake, {**VALID, "client_reference": "ref-1"})
    batch = response.json()
    created = datetime.strptime(batch["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    expires = datetime.strptime(batch["expire_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - created) < timedelta(seconds=5)
    assert expires - created == timedelta(days=3)
    assert batch["modified_at"] == batch["created_at"]
    assert (batch["type"], batch["canceled"], batch["delivery_report"]) == (
        "mt_text",
        False,
        "none",
    )
    assert batch["client_reference"] == "ref-1"
    assert len(batch["id"]) == 26


# --- callbacks built by the fake, parsed by the adapter -----------------------------------------
def as_request(url: str, headers: dict[str, str], body: bytes) -> CallbackRequest:
    return CallbackRequest(
        url=url, headers=headers, body=body, query=dict(parse_qsl(urlsplit(url).query))
    )


async def accepted_message(fake: FakeSinch) -> AcceptedMessage:
    await send(fake, sms())
    return fake.accepted[-1]


@pytest.mark.parametrize(
    ("status", "code", "mapped", "error_code"),
    [
        ("Queued", None, "sent", None),
        ("Dispatched", None, "sent", None),
        ("Delivered", None, "delivered", None),
        ("Failed", 34, "undelivered", "34"),
        ("Aborted", None, "failed", "402"),
    ],
)
async def test_recipient_reports_parse(
    fake: FakeSinch, status: str, code: int | None, mapped: str, error_code: str | None
) -> None:
    accepted = await accepted_message(fake)
    request = as_request(*fake.status_callback(accepted, status, code=code))
    [report] = parser(fake).parse_status_callback(request)
    assert (report.provider_message_id, report.recipient) == (
        accepted.provider_message_id,
        "+12025550143",
    )
    assert (report.status, report.provider_status, report.error_code) == (
        mapped,
        status,
        error_code,
    )
    assert report.occurred_at is not None
    assert abs(datetime.now(UTC) - report.occurred_at) < timedelta(seconds=5)


@pytest.mark.parametrize(("full", "recipient"), [(True, "+12025550143"), (False, None)])
async def test_batch_reports_parse(fake: FakeSinch, full: bool, recipient: str | None) -> None:
    accepted = await accepted_message(fake)
    request = as_request(*fake.batch_status_callback(accepted, "Delivered", full=full))
    reports = parser(fake).parse_status_callback(request)
    assert reports == [
        DeliveryReport(
            provider_message_id=accepted.provider_message_id,
            status="delivered",
            provider_status="Delivered",
            recipient=recipient,
        )
    ]


async def test_inbound_parses(fake: FakeSinch) -> None:
    url = f"https://sms.example.com/callbacks/sinch/inbound?token={CALLBACK_TOKEN}"
    request = as_request(*fake.inbound_callback(url, "+447700900123", "+12025550100", "STOP"))
    [inbound] = parser(fake).parse_inbound_callback(request)
    assert (inbound.sender, inbound.to, inbound.body) == ("+447700900123", "+12025550100", "STOP")
    assert len(inbound.provider_message_id) == 26
    assert inbound.received_at is not None


async def test_callback_with_wrong_token_is_rejected(fake: FakeSinch) -> None:
    accepted = await accepted_message(fake)
    url, headers, body = fake.status_callback(accepted, "Delivered", url=f"{STATUS_URL}?token=x")
    provider = parser(fake)
    with pytest.raises(CallbackRejected):
        provider.parse_status_callback(as_request(url, headers, body))


@pytest.mark.parametrize(("secret", "accepted"), [(HMAC_SECRET, True), ("another-secret", False)])
async def test_hmac_signed_callbacks(secret: str, accepted: bool) -> None:
    with FakeSinch(service_plan_id=PLAN, api_token=TOKEN, hmac_secret=HMAC_SECRET) as signing:
        message = await accepted_message(signing)
        provider = parser(signing, callback_token=None, callback_hmac_secret=secret)
        status = as_request(*signing.status_callback(message, "Delivered", url=STATUS_URL))
        inbound = as_request(*signing.inbound_callback(STATUS_URL, "+447700900123", "12345", "hi"))
        if accepted:
            assert [r.status for r in provider.parse_status_callback(status)] == ["delivered"]
            assert [m.to for m in provider.parse_inbound_callback(inbound)] == ["12345"]
        else:
            with pytest.raises(CallbackRejected):
                provider.parse_status_callback(status)
            with pytest.raises(CallbackRejected):
                provider.parse_inbound_callback(inbound)


class CallbackReceiver(FakeProvider):
    """Our callback endpoints in miniature: parse with the adapter, 401 on rejection."""

    name = "receiver"

    def __init__(self, provider: SinchProvider) -> None:
        super().__init__()
        self.provider = provider
        self.reports: list[DeliveryReport] = []
        self.inbound: list[InboundSms] = []

    def build_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/callbacks/sinch/status", self._status, methods=["POST"]),
                Route("/callbacks/sinch/inbound", self._inbound, methods=["POST"]),
            ]
        )

    async def _status(self, request: Request) -> Response:
        try:
            self.reports += self.provider.parse_status_callback(await _callback_request(request))
        except CallbackRejected:
            return Response(status_code=401)
        return Response(status_code=200)

    async def _inbound(self, request: Request) -> Response:
        try:
            self.inbound += self.provider.parse_inbound_callback(await _callback_request(request))
        except CallbackRejected:
            return Response(status_code=401)
        return Response(status_code=200)


async def _callback_request(request: Request) -> CallbackRequest:
    return CallbackRequest(
        url=str(request.url),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=await request.body(),
        query=dict(request.query_params),
    )


async def test_post_helpers_reach_a_receiver(fake: FakeSinch) -> None:
    receiver = CallbackReceiver(parser(fake))
    with receiver:
        status_url = f"{receiver.url}/callbacks/sinch/status"
        await send(fake, sms(status_callback_url=status_url))
        accepted = fake.accepted[-1]
        ok = await fake.post_status(accepted, "Delivered")
        refused = await fake.post_status(accepted, "Delivered", url=status_url)  # no token
        inbound_url = f"{receiver.url}/callbacks/sinch/inbound?token={CALLBACK_TOKEN}"
        mo = await fake.post_inbound(inbound_url, "+447700900123", "+12025550100", "START")
    assert (ok.status_code, refused.status_code, mo.status_code) == (200, 401, 200)
    assert [(r.provider_message_id, r.status) for r in receiver.reports] == [
        (accepted.provider_message_id, "delivered")
    ]
    assert [(m.sender, m.body) for m in receiver.inbound] == [("+447700900123", "START")]


def test_callback_needs_a_url(fake: FakeSinch) -> None:
    message = AcceptedMessage(new_id(), "+12025550143", "12025550100", "hi")
    with pytest.raises(ValueError, match="callback URL"):
        fake.status_callback(message, "Delivered")


# --- contract check against the saved Sinch spec (its known defects fixed) -----------------------
def spec_validator(schema_name: str) -> Any:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    pytest.importorskip("yaml")
    if not SPEC.exists():
        pytest.skip(f"{SPEC} is not available")
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _spec_components()}
    return jsonschema_rs.validator_for(schema, validate_formats=True)


@functools.cache
def _spec_components() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    return _fixed_components(yaml.safe_load(SPEC.read_text())["components"])


def _fixed_components(components: dict[str, Any]) -> dict[str, Any]:
    """Apply the corrections SOURCE.md lists (2021 derivative vs the current API)."""
    fixed = copy.deepcopy(components)
    schemas = fixed["schemas"]
    statuses = (
        "Queued Dispatched Aborted Cancelled Failed Delivered Expired Rejected Deleted Unknown"
    )
    media = {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}}
    for name in ("sendBatchObject", "sendBatchCreated"):
        properties = schemas[name]["properties"]
        properties["type"]["enum"].append("mt_media")
        properties["delivery_report"]["enum"].append("per_recipient_final")
        properties["body"] = {"anyOf": [properties["body"], media]}
    schemas["retrieveRecipientDeliveryResponseObj"]["properties"]["status"]["enum"] = (
        statuses.split()
    )
    report = schemas["retrieveDeliveryResponseObj"]["properties"]
    report["total_message_count"]["type"] = "integer"
    report["statuses"]["items"]["properties"]["status"]["enum"].append("Cancelled")
    return fixed


def assert_valid(schema_name: str, instance: Any) -> None:
    errors = [error.message for error in spec_validator(schema_name).iter_errors(instance)]
    assert errors == []


@pytest.mark.parametrize(
    "message",
    [sms(), sms(media_urls=("https://cdn.example.com/cat.png",)), sms(sender="LynSMS")],
    ids=["text", "mms", "alphanumeric sender"],
)
async def test_what_the_fake_receives_and_answers_matches_the_spec(
    fake: FakeSinch, message: OutboundSms
) -> None:
    spec_validator("sendBatchObject")  # skip early when the spec is not available
    result = await send(fake, message)
    assert_valid("sendBatchObject", json.loads(fake.received[-1].body))
    reply = await post_batch(fake, json.loads(fake.received[-1].body))
    assert_valid("sendBatchCreated", reply.json())
    assert result.provider_message_id


async def test_the_fakes_callbacks_match_the_spec(fake: FakeSinch) -> None:
    spec_validator("inboundsObject")
    accepted = await accepted_message(fake)
    recipient = json.loads(fake.status_callback(accepted, "Delivered")[2])
    batch = json.loads(fake.batch_status_callback(accepted, "Cancelled")[2])
    inbound = json.loads(fake.inbound_callback(STATUS_URL, "+447700900123", "12345", "hi")[2])
    assert_valid("retrieveRecipientDeliveryResponseObj", recipient)
    assert_valid("retrieveDeliveryResponseObj", batch)
    assert_valid("inboundsObject", inbound)
