"""The real ClickSend adapter against ``FakeClickSend`` over loopback HTTP.

Every ``Behaviour`` must surface as the right error, the fake's own pushes must
parse through the adapter's callback parsers, and the fake must keep to the spec
in ``shared/provider-specs/clicksend`` (those checks skip when the file is absent).
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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
from lynsms.providers.clicksend.adapter import build_payload
from tests.fakes.base import AcceptedMessage, Behaviour, FakeProvider
from tests.fakes.clicksend import (
    MMS_MESSAGE_FIELDS,
    REQUEST_FIELDS,
    SMS_MESSAGE_FIELDS,
    TEST_API_KEY,
    FakeClickSend,
    spec_problems,
    spec_schemas,
)

USERNAME, API_KEY, TOKEN = "acme-api", "fake-key-0b1c", "cb-token-77"
HANG_SECONDS = 1.0
OK_NUMBER = "+61411111111"
SPEC_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "number": float}
REPO = Path(__file__).resolve().parents[2]


def sms(to: str = OK_NUMBER, **fields: Any) -> OutboundSms:
    values = {"message_id": "msg_01JFAKE", "to": to, "sender": "LynSMS", "body": "Hello there"}
    return OutboundSms(**(values | fields))


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeClickSend]:
    with FakeClickSend(username=USERNAME, api_key=API_KEY, hang_seconds=HANG_SECONDS) as server:
        assert isinstance(server, FakeClickSend)
        yield server


@pytest.fixture(autouse=True)
def clean(fake: FakeClickSend) -> None:
    fake.reset()
    fake.server_error_status = 500
    fake.receipt_url = None


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


def provider_for(
    url: str,
    client: httpx.AsyncClient,
    *,
    username: str = USERNAME,
    api_key: str = API_KEY,
    timeout: float = 5.0,
) -> ClickSendProvider:
    config = ClickSendConfig(username=username, api_key=api_key, base_url=url, callback_token=TOKEN)
    return ClickSendProvider(config, client, timeout=timeout)


async def outcome_of(provider: ClickSendProvider, message: OutboundSms) -> Any:
    try:
        return await provider.send(message)
    except ProviderError as exc:
        return exc


def assert_error(
    outcome: Any,
    error: type[ProviderError],
    provider_code: str | None,
    http_status: int | None,
) -> None:
    assert type(outcome) is error, outcome
    assert outcome.retryable is error.retryable
    assert outcome.provider_code == provider_code
    assert outcome.http_status == http_status


# --- send -----------------------------------------------------------------------------------
async def test_ok_is_accepted_with_our_reference(
    fake: FakeClickSend, client: httpx.AsyncClient
) -> None:
    result = await provider_for(fake.url, client).send(sms())

    [accepted] = fake.accepted
    assert result == SendResult(accepted.provider_message_id, "SUCCESS")
    assert (accepted.to, accepted.sender, accepted.body) == (OK_NUMBER, "LynSMS", "Hello there")
    assert accepted.reference == "msg_01JFAKE"
    [received] = fake.received
    assert (received.method, received.path) == ("POST", "/v3/sms/send")
    basic = base64.b64encode(f"{USERNAME}:{API_KEY}".encode()).decode()
    assert received.headers["authorization"] == f"Basic {basic}"
    assert received.headers["content-type"] == "application/json"
    assert json.loads(received.body) == build_payload(sms())[1]


@pytest.mark.parametrize(
    ("behaviour", "error", "provider_code", "http_status"),
    [
        (Behaviour.SERVER_ERROR, ProviderUnavailable, "INTERNAL_SERVER_ERROR", 500),
        (Behaviour.THROTTLE, Throttled, "HTTP_TOO_MANY_REQUESTS", 429),
        (Behaviour.PERMANENT, Rejected, "INVALID_RECIPIENT", 200),
        (Behaviour.BLACKLISTED, Blacklisted, "BLOCKED", 200),
        (Behaviour.PARTIAL, Rejected, "INVALID_RECIPIENT", 200),
    ],
)
async def test_each_behaviour_maps_to_its_error(
    fake: FakeClickSend,
    client: httpx.AsyncClient,
    behaviour: Behaviour,
    error: type[ProviderError],
    provider_code: str,
    http_status: int,
) -> None:
    fake.behave("+61400000001", behaviour)

    outcome = await outcome_of(provider_for(fake.url, client), sms("+61400000001"))

    assert_error(outcome, error, provider_code, http_status)
    assert fake.accepted == []
    assert len(fake.received) == 1


async def test_throttle_carries_retry_after(fake: FakeClickSend, client: httpx.AsyncClient) -> None:
    fake.behave("+61400000002", Behaviour.THROTTLE)

    outcome = await outcome_of(provider_for(fake.url, client), sms("+61400000002"))

    assert isinstance(outcome, Throttled)
    assert outcome.retry_after == 20.0


async def test_a_503_gateway_page_is_unavailable(
    fake: FakeClickSend, client: httpx.AsyncClient
) -> None:
    fake.server_error_status = 503
    fake.behave("+61400000003", Behaviour.SERVER_ERROR)

    outcome = await outcome_of(provider_for(fake.url, client), sms("+61400000003"))

    assert_error(outcome, ProviderUnavailable, None, 503)


async def test_hang_past_the_timeout_is_a_timeout(
    fake: FakeClickSend, client: httpx.AsyncClient
) -> None:
    fake.behave("+61400000004", Behaviour.HANG)
    provider = provider_for(fake.url, client, timeout=0.2)

    outcome = await outcome_of(provider, sms("+61400000004"))

    assert_error(outcome, ProviderTimeout, None, None)
    assert [request.path for request in fake.received] == ["/v3/sms/send"]
    # The fake, like ClickSend, still queues it once the hang ends: a timeout is not "not sent".
    for _ in range(int(HANG_SECONDS * 50) + 100):
        if fake.accepted:
            break
        await asyncio.sleep(0.02)
    assert [accepted.to for accepted in fake.accepted] == ["+61400000004"]


async def test_hang_within_the_timeout_is_accepted(
    fake: FakeClickSend, client: httpx.AsyncClient
) -> None:
    fake.behave("+61400000005", Behaviour.HANG)
    provider = provider_for(fake.url, client, timeout=HANG_SECONDS + 4)

    result = await provider.send(sms("+61400000005"))

    assert result.provider_message_id == fake.accepted[0].provider_message_id


async def test_a_stopped_fake_is_a_connection_failure(client: httpx.AsyncClient) -> None:
    stopped = FakeClickSend(username=USERNAME, api_key=API_KEY).start()
    url = stopped.url
    stopped.stop()

    outcome = await outcome_of(provider_for(url, client), sms())

    assert_error(outcome, ConnectionFailed, None, None)


async def test_bad_credentials_are_a_configuration_error(
    fake: FakeClickSend, client: httpx.AsyncClient
) -> None:
    outcome = await outcome_of(provider_for(fake.url, client, api_key="wrong"), sms())

    assert_error(outcome, ConfigurationError, "UNAUTHORIZED", 401)
    assert "wrong" not in str(outcome)
    assert fake.accepted == []


@pytest.mark.parametrize(
    ("username", "api_key", "error", "provider_code", "http_status"),
    [
        ("nocredit", TEST_API_KEY, BillingFailed, "INSUFFICIENT_CREDIT", 200),
        ("notactive", TEST_API_KEY, ConfigurationError, "UNAUTHORIZED", 401),
        ("banned", TEST_API_KEY, ConfigurationError, "FORBIDDEN", 403),
        ("nocredit", "not-the-test-key", ConfigurationError, "UNAUTHORIZED", 401),
    ],
)
async def test_clicksend_test_accounts(
    fake: FakeClickSend,
    client: httpx.AsyncClient,
    username: str,
    api_key: str,
    error: type[ProviderError],
    provider_code: str,
    http_status: int,
) -> None:
    provider = provider_for(fake.url, client, username=username, api_key=api_key)

    outcome = await outcome_of(provider, sms())

    assert_error(outcome, error, provider_code, http_status)
    assert fake.accepted == []


async def test_mms_is_accepted_with_its_media(
    fake: FakeClickSend, client: httpx.AsyncClient
) -> None:
    media = ("https://sms.example.com/media/med_1.jpg",)
    message = sms("+14155550100", sender="+14155550199", body="A picture", media_urls=media)

    result = await provider_for(fake.url, client).send(message)

    [accepted] = fake.accepted
    assert result.provider_message_id == accepted.provider_message_id
    assert fake.received[0].path == "/v3/mms/send"
    assert accepted.extra["media_file"] == media[0]
    assert accepted.extra["subject"] == "A picture"


# --- the fake's own contract ----------------------------------------------------------------
async def post(fake: FakeClickSend, payload: Any, path: str = "/v3/sms/send") -> httpx.Response:
    async with httpx.AsyncClient(auth=(USERNAME, API_KEY)) as http:
        return await http.post(fake.url + path, json=payload)


async def test_partial_fails_only_that_message(fake: FakeClickSend) -> None:
    fake.behave("+61400000006", Behaviour.PARTIAL)
    messages = [
        {"to": "+61400000006", "body": "one", "custom_string": "a"},
        {"to": OK_NUMBER, "body": "two", "custom_string": "b"},
    ]

    response = await post(fake, {"messages": messages})

    assert response.status_code == 200
    data = response.json()["data"]
    assert [m["status"] for m in data["messages"]] == ["INVALID_RECIPIENT", "SUCCESS"]
    assert (data["total_count"], data["queued_count"]) == (2, 1)
    assert [accepted.reference for accepted in fake.accepted] == ["b"]


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"messages": [{"to": OK_NUMBER}]}, "messages[0].body is required"),
        ({"messages": [{"to": 61411, "body": "x"}]}, "messages[0].to must be string"),
        ({"messages": [{"to": OK_NUMBER, "body": "x", "text": "y"}]}, "messages[0].text is not"),
        ({"messages": []}, "messages must hold 1 to 1000 messages"),
        ({"message": [{"to": OK_NUMBER, "body": "x"}]}, "messages is required"),
    ],
)
async def test_invalid_requests_are_400(
    fake: FakeClickSend, payload: dict[str, Any], problem: str
) -> None:
    response = await post(fake, payload)

    assert response.status_code == 400
    body = response.json()
    assert (body["http_code"], body["response_code"], body["data"]) == (400, "BAD_REQUEST", None)
    assert problem in body["response_msg"]


async def test_mms_requests_need_media_and_a_short_subject(fake: FakeClickSend) -> None:
    message = {"to": OK_NUMBER, "body": "x", "subject": "s" * 21}

    missing = await post(fake, {"messages": [message]}, "/v3/mms/send")
    too_long = await post(
        fake, {"media_file": "https://a/b.jpg", "messages": [message]}, "/v3/mms/send"
    )

    assert "media_file is required" in missing.json()["response_msg"]
    assert "subject is longer than 20 characters" in too_long.json()["response_msg"]


@pytest.mark.parametrize(
    ("to", "body", "status"),
    [("0411111111", "hi", "INVALID_RECIPIENT"), (OK_NUMBER, "  ", "EMPTY_MESSAGE")],
)
async def test_bad_number_or_empty_body_is_refused_inside_200(
    fake: FakeClickSend, to: str, body: str, status: str
) -> None:
    response = await post(fake, {"messages": [{"to": to, "body": body}]})

    assert response.status_code == 200
    assert response.json()["data"]["messages"][0]["status"] == status


async def test_missing_auth_is_clicksends_401(fake: FakeClickSend) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(fake.url + "/v3/sms/send", json={"messages": []})

    assert response.status_code == 401
    assert "www-authenticate" not in response.headers
    assert response.json() == {
        "http_code": 401,
        "response_code": "UNAUTHORIZED",
        "response_msg": "Authorization failed.",
        "data": None,
    }


async def test_unknown_paths_and_methods_are_clicksends_404(fake: FakeClickSend) -> None:
    async with httpx.AsyncClient() as http:
        wrong_path = await http.post(fake.url + "/v3/sms/nope")
        wrong_method = await http.get(fake.url + "/v3/sms/send")

    for response in (wrong_path, wrong_method):
        assert response.status_code == 404
        assert response.json()["response_msg"] == "Invalid endpoint. Please try again."


needs_spec = pytest.mark.skipif(spec_schemas() is None, reason="ClickSend spec file not found")


@needs_spec
def test_the_fake_sms_fields_are_the_specs() -> None:
    schemas = spec_schemas()
    assert schemas is not None
    inner = schemas["send_sms_request_messages_inner"]
    spec_fields = {name: SPEC_TYPES[prop["type"]] for name, prop in inner["properties"].items()}
    assert spec_fields == SMS_MESSAGE_FIELDS
    assert inner["required"] == ["body"]
    top = schemas["send_sms_request"]["properties"]
    assert {name: SPEC_TYPES[prop["type"]] for name, prop in top.items()} == REQUEST_FIELDS["sms"]
    assert set(MMS_MESSAGE_FIELDS) - set(SMS_MESSAGE_FIELDS) == {"subject"}


@needs_spec
def test_the_spec_itself_is_enforced() -> None:
    payload = {"messages": [{"body": "x", "schedule": "tomorrow"}], "shorten_urls": "no"}

    problems = spec_problems(payload)

    assert any(problem.startswith("messages[0].schedule:") for problem in problems)
    assert any(problem.startswith("shorten_urls:") for problem in problems)
    assert spec_problems({"messages": [{"body": "x", "to": OK_NUMBER}]}) == []


@needs_spec
async def test_the_fake_reply_has_the_specs_types(fake: FakeClickSend) -> None:
    schemas = spec_schemas()
    assert schemas is not None

    reply = (await post(fake, {"messages": [{"to": OK_NUMBER, "body": "x"}]})).json()

    assert_spec_types(reply, schemas["send-sms"]["properties"])
    assert_spec_types(reply["data"], schemas["send_sms_data"]["properties"])
    assert_spec_types(reply["data"]["_currency"], schemas["currency"]["properties"])
    message = reply["data"]["messages"][0]
    assert_spec_types(message, schemas["sms_send_sms"]["properties"])
    assert set(message) <= set(schemas["sms_send_sms"]["properties"])


def assert_spec_types(value: dict[str, Any], properties: dict[str, Any]) -> None:
    for name, prop in properties.items():
        if "type" not in prop or value.get(name) is None:
            assert name in value or "type" not in prop, name
            continue
        expected = (int, float) if prop["type"] == "number" else SPEC_TYPES[prop["type"]]
        assert isinstance(value[name], expected), (name, value[name])


# --- callbacks ------------------------------------------------------------------------------
def callback_request(url: str, headers: dict[str, str], body: bytes) -> CallbackRequest:
    return CallbackRequest(url=url, headers=headers, body=body)


@pytest.mark.parametrize(
    ("status", "error_code", "expected", "provider_status", "error_message"),
    [
        ("sent", None, "sent", "Sent", None),
        ("delivered", None, "delivered", "Sent", None),
        ("undelivered", None, "undelivered", "Failed", "8"),
        ("undelivered", "19", "undelivered", "Failed", "19"),
        ("failed", None, "failed", "Cancelled", "5"),
    ],
)
async def test_the_fakes_receipts_parse_through_the_adapter(
    fake: FakeClickSend,
    client: httpx.AsyncClient,
    status: str,
    error_code: str | None,
    expected: str,
    provider_status: str,
    error_message: str | None,
) -> None:
    provider = provider_for(fake.url, client)
    result = await provider.send(sms())
    url = f"https://sms.example.com/callbacks/clicksend/status?token={TOKEN}"

    pushed = fake.status_callback(fake.accepted[0], status, url=url, error_code=error_code)
    [report] = provider.parse_status_callback(callback_request(*pushed))

    assert pushed[1] == {"content-type": "application/x-www-form-urlencoded"}
    assert report.provider_message_id == result.provider_message_id
    assert (report.status, report.provider_status) == (expected, provider_status)
    assert report.error_code == error_message
    assert (report.error_message is None) is (error_message is None)
    assert report.occurred_at is not None


@needs_spec
def test_the_fakes_receipt_has_every_receipt_field() -> None:
    schemas = spec_schemas()
    assert schemas is not None
    accepted = AcceptedMessage("ID-1", OK_NUMBER, "LynSMS", "hi", reference="msg_1")
    fake = FakeClickSend()

    _, _, body = fake.status_callback(accepted, "delivered", url="http://x/?token=t")

    fields = {key for key, _ in (pair.split("=", 1) for pair in body.decode().split("&"))}
    assert set(schemas["sms_receipt"]["properties"]) - {"digits"} <= fields
    assert set(schemas["inbound_sms"]["properties"]) <= set(
        json.loads(
            fake.inbound_callback("http://x", OK_NUMBER, "+61400", "hi", webhook_type="json")[2]
        )
    )


def test_an_unknown_receipt_status_is_refused_by_the_fake() -> None:
    accepted = AcceptedMessage("ID-1", OK_NUMBER, "LynSMS", "hi")

    with pytest.raises(ValueError, match="status must be one of"):
        FakeClickSend().status_callback(accepted, "read", url="http://x")
    with pytest.raises(ValueError, match="no receipt URL"):
        FakeClickSend().status_callback(accepted, "sent")


@pytest.mark.parametrize("webhook_type", ["post", "json"])
async def test_the_fakes_inbound_parses_as_a_reply(
    fake: FakeClickSend, client: httpx.AsyncClient, webhook_type: str
) -> None:
    provider = provider_for(fake.url, client)
    await provider.send(sms(sender="+61422222222", body="Reply STOP to stop"))
    url = f"https://sms.example.com/callbacks/clicksend/inbound?token={TOKEN}"

    pushed = fake.inbound_callback(
        url, OK_NUMBER, "+61422222222", "STOP", webhook_type=webhook_type
    )
    [message] = provider.parse_inbound_callback(callback_request(*pushed))

    assert (message.sender, message.to, message.body) == (OK_NUMBER, "+61422222222", "STOP")
    assert message.received_at is not None
    fields = _pushed_fields(pushed)
    assert message.provider_message_id == fields["message_id"]
    assert fields["original_message_id"] == fake.accepted[0].provider_message_id
    assert fields["custom_string"] == "msg_01JFAKE"


def _pushed_fields(pushed: tuple[str, dict[str, str], bytes]) -> dict[str, Any]:
    _, headers, body = pushed
    if headers["content-type"] == "application/json":
        loaded: dict[str, Any] = json.loads(body)
        return loaded
    return dict(httpx.QueryParams(body.decode()))


class CallbackEndpoint(FakeProvider):
    """Stands in for LynSMS's ``/callbacks/clicksend/*``: the adapter parses, 401 on a bad token."""

    name = "callbacks"

    def __init__(self, provider: ClickSendProvider) -> None:
        super().__init__()
        self.provider = provider
        self.reports: list[DeliveryReport] = []
        self.inbound: list[InboundSms] = []

    def build_app(self) -> Starlette:
        route = Route("/callbacks/clicksend/{kind}", self._handle, methods=["POST"])
        return Starlette(routes=[route])

    async def _handle(self, request: Request) -> Response:
        callback = CallbackRequest(
            url=str(request.url),
            headers={key.lower(): value for key, value in request.headers.items()},
            body=await request.body(),
            query=dict(request.query_params),
        )
        try:
            if request.path_params["kind"] == "status":
                self.reports += self.provider.parse_status_callback(callback)
            else:
                self.inbound += self.provider.parse_inbound_callback(callback)
        except CallbackRejected:
            return Response(status_code=401)
        return Response(status_code=200)


async def test_post_status_and_inbound_over_http(
    fake: FakeClickSend, client: httpx.AsyncClient
) -> None:
    provider = provider_for(fake.url, client)
    await provider.send(sms())
    with CallbackEndpoint(provider) as endpoint:
        assert isinstance(endpoint, CallbackEndpoint)
        base = f"{endpoint.url}/callbacks/clicksend"
        fake.receipt_url = f"{base}/status?token={TOKEN}"

        delivered = await fake.post_status(fake.accepted[0], "delivered")
        forged = await fake.post_status(fake.accepted[0], "failed", url=f"{base}/status?token=x")
        inbound = await fake.post_inbound(f"{base}/inbound?token={TOKEN}", OK_NUMBER, "+6140", "hi")

    assert (delivered.status_code, forged.status_code, inbound.status_code) == (200, 401, 200)
    assert [(r.provider_message_id, r.status) for r in endpoint.reports] == [
        (fake.accepted[0].provider_message_id, "delivered")
    ]
    assert [(m.sender, m.body) for m in endpoint.inbound] == [(OK_NUMBER, "hi")]


# --- standalone -----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_the_fake_runs_standalone(client: httpx.AsyncClient) -> None:
    port = free_port()
    command = [sys.executable, "-m", "tests.fakes.clicksend", "--port", str(port)]
    command += ["--username", "bench", "--api-key", "bench-key"]
    command += ["--behave", "+61400000009=throttle"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 20)
        assert line.strip() == f"fake clicksend listening on http://127.0.0.1:{port}"
        provider = provider_for(
            f"http://127.0.0.1:{port}", client, username="bench", api_key="bench-key"
        )
        accepted = await provider.send(sms())
        throttled = await outcome_of(provider, sms("+61400000009"))
    finally:
        process.terminate()
        process.wait(timeout=20)

    assert accepted.raw_status == "SUCCESS"
    assert isinstance(throttled, Throttled)
    assert process.returncode == 0
