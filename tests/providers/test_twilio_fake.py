"""The real TwilioProvider against FakeTwilio over loopback HTTP, and the fake against Twilio's
spec (``shared/provider-specs/twilio``; those checks skip when the spec is not on disk)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lynsms.providers.base import (
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
from tests.fakes.base import AcceptedMessage, Behaviour, shared_file
from tests.fakes.twilio import KNOWN_FIELDS, FakeTwilio, segments

SID = "AC00112233445566778899aabbccddeeff"
TOKEN = "fake-twilio-token-7c1d"
TO, FROM = "+12025550143", "+15005550006"
CALLBACK = "https://sms.example.com/callbacks/twilio/status?message_id=msg_01"
INBOUND_URL = "https://sms.example.com/callbacks/twilio/inbound"
SERVICE = "MGffeeddccbbaa99887766554433221100"
MESSAGE_SID = re.compile(r"^SM[0-9a-f]{32}$")
ROOT = Path(__file__).resolve().parents[2]
SPEC = Path(
    os.environ.get(
        "LYNSMS_TWILIO_SPEC",
        shared_file("provider-specs/twilio/twilio_api_v2010.json"),
    )
)


def sms(to: str = TO, body: str = "Hello from LynSMS", **fields: Any) -> OutboundSms:
    values: dict[str, Any] = {"sender": FROM, "status_callback_url": CALLBACK, **fields}
    return OutboundSms(message_id="msg_01", to=to, body=body, **values)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    server = FakeTwilio(SID, TOKEN, hang_seconds=1.0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh(fake: FakeTwilio) -> None:
    fake.reset()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


def provider_for(
    base_url: str,
    client: httpx.AsyncClient,
    *,
    sid: str = SID,
    token: str = TOKEN,
    timeout: float = 5.0,
) -> TwilioProvider:
    config = TwilioConfig(account_sid=sid, auth_token=token, base_url=base_url)
    return TwilioProvider(config, client, timeout=timeout)


async def outcome_of(provider: TwilioProvider, message: OutboundSms) -> SendResult | ProviderError:
    try:
        return await provider.send(message)
    except ProviderError as exc:
        return exc


def form_of(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode(), keep_blank_values=True)


# --- sending ---------------------------------------------------------------------------------
async def test_accepted_message_gets_a_twilio_sid(
    fake: FakeTwilio, client: httpx.AsyncClient
) -> None:
    result = await provider_for(fake.url, client).send(sms())

    assert MESSAGE_SID.match(result.provider_message_id)
    assert result.raw_status == "queued"
    [accepted] = fake.accepted
    assert (accepted.provider_message_id, accepted.to, accepted.sender) == (
        result.provider_message_id,
        TO,
        FROM,
    )
    assert (accepted.body, accepted.callback_url) == ("Hello from LynSMS", CALLBACK)


async def test_fake_records_the_exact_request(fake: FakeTwilio, client: httpx.AsyncClient) -> None:
    await provider_for(fake.url, client).send(sms(validity_seconds=120))

    [received] = fake.received
    credentials = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert (received.method, received.path) == ("POST", f"/2010-04-01/Accounts/{SID}/Messages.json")
    assert received.headers["authorization"] == f"Basic {credentials}"
    assert received.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form_of(received.body) == [
        ("To", TO),
        ("From", FROM),
        ("Body", "Hello from LynSMS"),
        ("StatusCallback", CALLBACK),
        ("ValidityPeriod", "120"),
    ]


BEHAVIOUR_ROWS = [
    (Behaviour.SERVER_ERROR, ProviderUnavailable, True, "20500", 500),
    (Behaviour.THROTTLE, Throttled, True, "20429", 429),
    (Behaviour.PERMANENT, Rejected, False, "21211", 400),
    (Behaviour.BLACKLISTED, Blacklisted, False, "21610", 400),
    (Behaviour.PARTIAL, Rejected, False, "21211", 400),
]


@pytest.mark.parametrize(
    ("behaviour", "error", "retryable", "code", "status"),
    BEHAVIOUR_ROWS,
    ids=[row[0].value for row in BEHAVIOUR_ROWS],
)
async def test_behaviour_maps_to_error(
    fake: FakeTwilio,
    client: httpx.AsyncClient,
    behaviour: Behaviour,
    error: type[ProviderError],
    retryable: bool,
    code: str,
    status: int,
) -> None:
    fake.behave(TO, behaviour)

    outcome = await outcome_of(provider_for(fake.url, client), sms())

    assert type(outcome) is error
    assert isinstance(outcome, ProviderError)
    assert (outcome.retryable, outcome.provider_code, outcome.http_status) == (
        retryable,
        code,
        status,
    )
    assert fake.accepted == []
    assert len(fake.received) == 1


async def test_behaviour_is_per_destination(fake: FakeTwilio, client: httpx.AsyncClient) -> None:
    fake.behave(TO, Behaviour.SERVER_ERROR)
    provider = provider_for(fake.url, client)

    other = await outcome_of(provider, sms(to="+12025550199"))
    failed = await outcome_of(provider, sms())

    assert isinstance(other, SendResult)
    assert isinstance(failed, ProviderUnavailable)
    assert [m.to for m in fake.accepted] == ["+12025550199"]


async def test_server_error_503(client: httpx.AsyncClient) -> None:
    server = FakeTwilio(SID, TOKEN, server_error_status=503)
    server.start()
    try:
        server.behave(TO, Behaviour.SERVER_ERROR)
        outcome = await outcome_of(provider_for(server.url, client), sms())
    finally:
        server.stop()

    assert isinstance(outcome, ProviderUnavailable)
    assert (outcome.provider_code, outcome.http_status) == ("20503", 503)


async def test_hang_past_the_adapter_timeout_is_a_timeout(
    fake: FakeTwilio, client: httpx.AsyncClient
) -> None:
    fake.behave(TO, Behaviour.HANG)
    started = time.monotonic()

    outcome = await outcome_of(provider_for(fake.url, client, timeout=0.2), sms())

    assert isinstance(outcome, ProviderTimeout)
    assert outcome.retryable is True
    assert time.monotonic() - started < fake.hang_seconds
    # Like Twilio, the fake still creates the message after the client gave up.
    while not fake.accepted and time.monotonic() - started < fake.hang_seconds + 5:
        await asyncio.sleep(0.05)
    assert [m.to for m in fake.accepted] == [TO]


async def test_hang_within_the_timeout_still_succeeds(
    fake: FakeTwilio, client: httpx.AsyncClient
) -> None:
    fake.behave(TO, Behaviour.HANG)

    outcome = await outcome_of(provider_for(fake.url, client, timeout=3.0), sms())

    assert isinstance(outcome, SendResult)
    assert len(fake.accepted) == 1


async def test_stopped_fake_is_a_connection_failure(client: httpx.AsyncClient) -> None:
    server = FakeTwilio(SID, TOKEN)
    server.start()
    url = server.url
    server.stop()

    outcome = await outcome_of(provider_for(url, client), sms())

    assert isinstance(outcome, ConnectionFailed)
    assert outcome.retryable is True


@pytest.mark.parametrize(
    ("sid", "token"),
    [(SID, "wrong-token"), ("AC" + "9" * 32, TOKEN)],
    ids=["wrong token", "other account"],
)
async def test_bad_credentials_are_a_configuration_error(
    fake: FakeTwilio, client: httpx.AsyncClient, sid: str, token: str
) -> None:
    outcome = await outcome_of(provider_for(fake.url, client, sid=sid, token=token), sms())

    assert isinstance(outcome, ConfigurationError)
    assert (outcome.retryable, outcome.provider_code, outcome.http_status) == (False, "20003", 401)
    assert token not in str(outcome)
    assert fake.accepted == []


async def test_mms_is_accepted_with_its_media(fake: FakeTwilio, client: httpx.AsyncClient) -> None:
    media = ("https://cdn.example.com/a.jpg", "https://cdn.example.com/b.png")

    result = await provider_for(fake.url, client).send(sms(body="", media_urls=media))

    assert re.match(r"^MM[0-9a-f]{32}$", result.provider_message_id)
    [accepted] = fake.accepted
    assert accepted.extra["form"]["MediaUrl"] == list(media)
    assert accepted.extra["resource"]["num_media"] == "2"


async def test_messaging_service_sender(fake: FakeTwilio, client: httpx.AsyncClient) -> None:
    result = await provider_for(fake.url, client).send(sms(sender=SERVICE))

    assert result.raw_status == "accepted"
    assert fake.accepted[0].extra["resource"]["messaging_service_sid"] == SERVICE


VALIDATION_ROWS = [
    ("To without +", sms(to="12025550143"), Rejected, "21211"),
    ("To not a number", sms(to="+1-202-555"), Rejected, "21211"),
    ("empty body, no media", sms(body=""), Rejected, "21602"),
    ("body over 1600", sms(body="x" * 1601), Rejected, "21617"),
    ("media not a URL", sms(media_urls=("cdn.example.com/a.jpg",)), Rejected, "21620"),
    ("eleven media", sms(media_urls=tuple(f"https://c.example/{i}" for i in range(11))),
     Rejected, "21623"),
    ("bad sender", sms(sender="not a sender!"), ConfigurationError, "21212"),
    ("callback host with _", sms(status_callback_url="https://my_host.example/cb"),
     ConfigurationError, "21609"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("message", "error", "code"),
    [row[1:] for row in VALIDATION_ROWS],
    ids=[row[0] for row in VALIDATION_ROWS],
)
async def test_fake_validates_like_twilio(
    fake: FakeTwilio,
    client: httpx.AsyncClient,
    message: OutboundSms,
    error: type[ProviderError],
    code: str,
) -> None:
    outcome = await outcome_of(provider_for(fake.url, client), message)

    assert type(outcome) is error
    assert isinstance(outcome, ProviderError)
    assert outcome.provider_code == code
    assert outcome.http_status == 400
    assert fake.accepted == []


async def test_error_body_is_twilio_shaped(fake: FakeTwilio, client: httpx.AsyncClient) -> None:
    url = f"{fake.url}/2010-04-01/Accounts/{SID}/Messages.json"

    reply = await client.post(url, data={"From": FROM, "Body": "hi"}, auth=(SID, TOKEN))

    assert reply.status_code == 400
    assert reply.json() == {
        "code": 21604,
        "message": "A 'To' phone number is required.",
        "more_info": "https://www.twilio.com/docs/errors/21604",
        "status": 400,
    }


async def test_json_body_carries_no_fields(fake: FakeTwilio, client: httpx.AsyncClient) -> None:
    url = f"{fake.url}/2010-04-01/Accounts/{SID}/Messages.json"

    reply = await client.post(url, json={"To": TO, "From": FROM, "Body": "x"}, auth=(SID, TOKEN))

    assert (reply.status_code, reply.json()["code"]) == (400, 21604)


async def test_unauthenticated_reply(fake: FakeTwilio, client: httpx.AsyncClient) -> None:
    url = f"{fake.url}/2010-04-01/Accounts/{SID}/Messages.json"

    reply = await client.post(url, data={"To": TO, "From": FROM, "Body": "x"})

    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == 'Basic realm="Twilio API"'
    assert reply.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


async def test_unknown_path_is_twilio_404(fake: FakeTwilio, client: httpx.AsyncClient) -> None:
    reply = await client.post(f"{fake.url}/2010-04-01/Accounts/{SID}/Calls.json")

    assert reply.status_code == 404
    assert reply.json()["code"] == 20404


@pytest.mark.parametrize(
    ("body", "count"),
    [("", 1), ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("€" * 80, 1),
     ("€" * 81, 2), ("é" * 70 + "ж", 2), ("ж" * 70, 1), ("👍" * 35, 1), ("👍" * 36, 2)],
)  # fmt: skip
def test_segment_count(body: str, count: int) -> None:
    assert segments(body) == count


# --- callbacks built by the fake, parsed by the adapter ----------------------------------------
async def sent_message(fake: FakeTwilio, client: httpx.AsyncClient) -> AcceptedMessage:
    await provider_for(fake.url, client).send(sms())
    return fake.accepted[-1]


@pytest.mark.parametrize(
    ("status", "error_code", "ours"),
    [
        ("queued", None, "sent"),
        ("sent", None, "sent"),
        ("delivered", None, "delivered"),
        ("undelivered", "30003", "undelivered"),
        ("failed", "30008", "failed"),
    ],
)
async def test_status_callback_parses_through_the_adapter(
    fake: FakeTwilio,
    client: httpx.AsyncClient,
    status: str,
    error_code: str | None,
    ours: str,
) -> None:
    accepted = await sent_message(fake, client)
    url, headers, body = fake.status_callback(accepted, status, error_code=error_code)
    provider = provider_for(fake.url, client)

    reports = provider.parse_status_callback(CallbackRequest(url, headers, body))

    assert url == CALLBACK
    assert reports == [
        DeliveryReport(
            provider_message_id=accepted.provider_message_id,
            status=ours,  # type: ignore[arg-type]
            provider_status=status,
            error_code=error_code,
            recipient=TO,
        )
    ]


async def test_status_callback_with_raw_dlr_date(
    fake: FakeTwilio, client: httpx.AsyncClient
) -> None:
    accepted = await sent_message(fake, client)

    _, _, body = fake.status_callback(accepted, "delivered")

    assert re.fullmatch(r"\d{10}", dict(form_of(body))["RawDlrDoneDate"])


async def test_status_callback_rejected_with_another_token(
    fake: FakeTwilio, client: httpx.AsyncClient
) -> None:
    accepted = await sent_message(fake, client)
    url, headers, body = fake.status_callback(accepted, "delivered")

    with pytest.raises(CallbackRejected):
        provider_for(fake.url, client, token="other").parse_status_callback(
            CallbackRequest(url, headers, body)
        )


async def test_status_callback_needs_a_callback_url(fake: FakeTwilio) -> None:
    accepted = AcceptedMessage("SM" + "0" * 32, TO, FROM, "x", callback_url=None)

    with pytest.raises(ValueError, match="StatusCallback"):
        fake.status_callback(accepted, "delivered")


async def test_inbound_callback_parses_through_the_adapter(
    fake: FakeTwilio, client: httpx.AsyncClient
) -> None:
    url, headers, body = fake.inbound_callback(INBOUND_URL, "+14155552671", FROM, "STOP")

    messages = provider_for(fake.url, client).parse_inbound_callback(
        CallbackRequest(url, headers, body)
    )

    fields = dict(form_of(body))
    assert messages == [InboundSms("+14155552671", FROM, "STOP", fields["MessageSid"])]
    assert MESSAGE_SID.match(fields["MessageSid"])
    assert fields["AccountSid"] == SID


def receiver(provider: TwilioProvider, public_url: str, seen: list[object]) -> Starlette:
    """A stand-in for our /callbacks/twilio/* endpoints, behind a proxy at ``public_url``."""

    async def handle(request: Request) -> Response:
        path = request.url.path
        url = public_url + path + (f"?{request.url.query}" if request.url.query else "")
        callback = CallbackRequest(url, dict(request.headers), await request.body())
        parse = provider.parse_status_callback if path.endswith("status") else None
        try:
            seen.extend((parse or provider.parse_inbound_callback)(callback))
        except CallbackRejected:
            return Response(status_code=403)
        return Response(status_code=204)

    paths = ("/callbacks/twilio/status", "/callbacks/twilio/inbound")
    return Starlette(routes=[Route(path, handle, methods=["POST"]) for path in paths])


@pytest.mark.parametrize(("token", "status"), [(TOKEN, 204), ("other", 403)])
async def test_post_helpers_deliver_signed_callbacks(
    fake: FakeTwilio, client: httpx.AsyncClient, token: str, status: int
) -> None:
    accepted = await sent_message(fake, client)
    seen: list[object] = []
    app = receiver(provider_for(fake.url, client, token=token), "https://sms.example.com", seen)
    transport = httpx.ASGITransport(app=app)

    async with httpx.AsyncClient(transport=transport, base_url="http://app") as app_client:
        target = "http://app/callbacks/twilio/status?message_id=msg_01"
        status_reply = await fake.post_status(
            accepted, "delivered", target=target, client=app_client
        )
        inbound_reply = await fake.post_inbound(
            INBOUND_URL,
            "+14155552671",
            FROM,
            "hi",
            target="http://app/callbacks/twilio/inbound",
            client=app_client,
        )

    assert (status_reply.status_code, inbound_reply.status_code) == (status, status)
    expected = 2 if status == 204 else 0
    assert len(seen) == expected


# --- the fake against Twilio's spec ------------------------------------------------------------
def spec() -> dict[str, Any]:
    if not SPEC.is_file():
        pytest.skip(f"Twilio spec not found at {SPEC}")
    loaded: dict[str, Any] = json.loads(SPEC.read_text())
    return loaded


def create_operation(document: dict[str, Any]) -> dict[str, Any]:
    path: dict[str, Any] = document["paths"]["/2010-04-01/Accounts/{AccountSid}/Messages.json"]
    operation: dict[str, Any] = path["post"]
    return operation


def json_schema(node: Any, components: dict[str, Any]) -> Any:
    """OpenAPI 3.0 schema → JSON Schema: inline $refs, turn ``nullable`` into a null type."""
    if isinstance(node, list):
        return [json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    out = {k: json_schema(v, components) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if node.get("nullable") and "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


def test_fake_knows_exactly_the_spec_fields() -> None:
    schema = create_operation(spec())["requestBody"]["content"][
        "application/x-www-form-urlencoded"
    ]["schema"]

    assert set(schema["properties"]) == KNOWN_FIELDS
    assert schema["required"] == ["To"]


@pytest.mark.parametrize(
    "message",
    [sms(), sms(body="", media_urls=("https://c.example/a.jpg",)), sms(sender=SERVICE)],
    ids=["sms", "mms", "messaging service"],
)
async def test_created_message_matches_the_spec_schema(
    fake: FakeTwilio, client: httpx.AsyncClient, message: OutboundSms
) -> None:
    import jsonschema_rs

    document = spec()
    components = document["components"]["schemas"]
    response_schema = create_operation(document)["responses"]["201"]["content"]["application/json"]
    schema = json_schema(response_schema["schema"], components)
    await provider_for(fake.url, client).send(message)

    resource = fake.accepted[0].extra["resource"]

    jsonschema_rs.validate(schema, resource)
    assert set(resource) == set(components["api.v2010.account.message"]["properties"])
    assert {name for name, _ in form_of(fake.received[0].body)} <= KNOWN_FIELDS


# --- standalone ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def wait_for_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise AssertionError("the standalone fake did not start")


async def test_runs_standalone_with_python_m(client: httpx.AsyncClient) -> None:
    port = free_port()
    command = [sys.executable, "-m", "tests.fakes.twilio", "--port", str(port)]
    command += ["--account-sid", SID, "--auth-token", TOKEN, "--behave", "+12025550100=throttle"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        await wait_for_port(port, time.monotonic() + 15)
        provider = provider_for(f"http://127.0.0.1:{port}", client)
        ok = await outcome_of(provider, sms())
        throttled = await outcome_of(provider, sms(to="+12025550100"))
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert isinstance(ok, SendResult)
    assert MESSAGE_SID.match(ok.provider_message_id)
    assert isinstance(throttled, Throttled)
