"""The real Infobip adapter against ``FakeInfobip`` over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lynsms.providers.base import (
    BillingFailed,
    Blacklisted,
    CallbackRejected,
    CallbackRequest,
    ConfigurationError,
    ConnectionFailed,
    DeliveryReport,
    OutboundSms,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    Rejected,
    SendResult,
    Throttled,
)
from lynsms.providers.infobip import InfobipConfig, InfobipProvider
from tests.fakes.base import Behaviour, FakeProvider
from tests.fakes.infobip import (
    RESPONSE_SCHEMA,
    FakeInfobip,
    spec_path,
    spec_violations,
)

API_KEY = "fake-infobip-key-31"
TOKEN = "cb-token-99"
REPO = Path(__file__).resolve().parents[2]


def sms(to: str, message_id: str = "msg_fake_1", **changes: Any) -> OutboundSms:
    values: dict[str, Any] = {
        "message_id": message_id,
        "to": to,
        "sender": "LynSMS",
        "body": "Hello from the fake",
        "status_callback_url": "https://sms.example.com/callbacks/infobip/status",
        "validity_seconds": 600,
    }
    return OutboundSms(**{**values, **changes})


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeInfobip]:
    with FakeInfobip(api_key=API_KEY, hang_seconds=1.0) as started:
        yield started  # type: ignore[misc]


@pytest.fixture(autouse=True)
def clean(fake: FakeInfobip) -> None:
    fake.reset()
    fake.legacy_errors = False
    fake.server_error_status = 500


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


def provider_for(
    fake: FakeProvider, client: httpx.AsyncClient, *, key: str = API_KEY, timeout: float = 5.0
) -> InfobipProvider:
    config = InfobipConfig(api_key=key, base_url=fake.url, callback_token=TOKEN)
    return InfobipProvider(config, client, timeout=timeout)


BEHAVIOURS = [
    (Behaviour.SERVER_ERROR, ProviderUnavailable, "E500", 500),
    (Behaviour.THROTTLE, Throttled, "E429", 429),
    (Behaviour.PERMANENT, Rejected, "E400", 400),
    (Behaviour.BLACKLISTED, Blacklisted, "REJECTED_DESTINATION_BLOCKLISTED", 200),
    (Behaviour.PARTIAL, Rejected, "REJECTED_DESTINATION", 200),
]
LEGACY_CODES = {"E500": "GENERAL_ERROR", "E429": "TOO_MANY_REQUESTS", "E400": "BAD_REQUEST"}


async def test_ok_is_accepted_with_our_id(fake: FakeInfobip, client: httpx.AsyncClient) -> None:
    result = await provider_for(fake, client).send(sms("+41793026727"))
    assert result == SendResult("msg_fake_1", "PENDING_ACCEPTED")
    (accepted,) = fake.accepted
    assert (accepted.provider_message_id, accepted.to, accepted.body) == (
        "msg_fake_1",
        "+41793026727",
        "Hello from the fake",
    )
    assert (
        accepted.callback_url == f"https://sms.example.com/callbacks/infobip/status?token={TOKEN}"
    )
    assert accepted.reference == "msg_fake_1"
    (received,) = fake.received
    assert (received.method, received.path) == ("POST", "/sms/3/messages")
    assert received.headers["authorization"] == f"App {API_KEY}"


@pytest.mark.parametrize("legacy", [False, True], ids=["api-error", "legacy-error"])
@pytest.mark.parametrize(
    ("behaviour", "error", "code", "http_status"), BEHAVIOURS, ids=[b[0].value for b in BEHAVIOURS]
)
async def test_behaviour_maps_to_error(
    fake: FakeInfobip,
    client: httpx.AsyncClient,
    legacy: bool,
    behaviour: Behaviour,
    error: type[ProviderError],
    code: str,
    http_status: int,
) -> None:
    fake.legacy_errors = legacy
    fake.behave("+41793026727", behaviour)
    with pytest.raises(ProviderError) as caught:
        await provider_for(fake, client).send(sms("+41793026727"))
    assert type(caught.value) is error
    assert caught.value.retryable is error.retryable
    assert caught.value.provider_code == (LEGACY_CODES.get(code, code) if legacy else code)
    assert caught.value.http_status == http_status
    assert fake.accepted == []
    assert len(fake.received) == 1


async def test_gateway_503_without_json(fake: FakeInfobip, client: httpx.AsyncClient) -> None:
    fake.server_error_status = 503
    fake.behave("+41793026727", Behaviour.SERVER_ERROR)
    with pytest.raises(ProviderUnavailable) as caught:
        await provider_for(fake, client).send(sms("+41793026727"))
    assert (caught.value.http_status, caught.value.provider_code) == (503, None)


@pytest.mark.parametrize(
    ("status_name", "error"),
    [
        ("REJECTED_NOT_ENOUGH_CREDITS", BillingFailed),
        ("REJECTED_SENDER", ConfigurationError),
        ("REJECTED_DND", Blacklisted),
        ("REJECTED_SYSTEM_ERROR", ProviderUnavailable),
    ],
)
async def test_statuses_inside_200(
    fake: FakeInfobip, client: httpx.AsyncClient, status_name: str, error: type[ProviderError]
) -> None:
    fake.reject_inside_200("+41793026727", status_name)
    with pytest.raises(ProviderError) as caught:
        await provider_for(fake, client).send(sms("+41793026727"))
    assert type(caught.value) is error
    assert (caught.value.provider_code, caught.value.http_status) == (status_name, 200)


async def test_hang_past_the_timeout(fake: FakeInfobip, client: httpx.AsyncClient) -> None:
    fake.behave("+41793026727", Behaviour.HANG)
    with pytest.raises(ProviderTimeout) as caught:
        await provider_for(fake, client, timeout=0.2).send(sms("+41793026727"))
    assert caught.value.retryable is True
    # Like Infobip, the fake still takes the message after we gave up: a timeout is not
    # a "not sent" (wait for it here so that it does not land in the next test).
    deadline = time.monotonic() + fake.hang_seconds + 5
    while not fake.accepted and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert [a.provider_message_id for a in fake.accepted] == ["msg_fake_1"]


async def test_hang_within_the_timeout_is_accepted(
    fake: FakeInfobip, client: httpx.AsyncClient
) -> None:
    fake.hang_seconds = 0.1
    fake.behave("+41793026727", Behaviour.HANG)
    try:
        result = await provider_for(fake, client, timeout=5).send(sms("+41793026727"))
    finally:
        fake.hang_seconds = 1.0
    assert result.provider_message_id == "msg_fake_1"


async def test_stopped_fake_is_a_connection_failure(client: httpx.AsyncClient) -> None:
    stopped = FakeInfobip(api_key=API_KEY)
    stopped.start()
    stopped.stop()
    with pytest.raises(ConnectionFailed) as caught:
        await provider_for(stopped, client).send(sms("+41793026727"))
    assert caught.value.retryable is True


async def test_bad_key_is_configuration(fake: FakeInfobip, client: httpx.AsyncClient) -> None:
    with pytest.raises(ConfigurationError) as caught:
        await provider_for(fake, client, key="wrong-key").send(sms("+41793026727"))
    assert (caught.value.provider_code, caught.value.http_status) == ("E401", 401)
    assert "wrong-key" not in str(caught.value)
    assert fake.accepted == []


# --- the fake's own contract checks ------------------------------------------------------------
async def raw_post(
    fake: FakeInfobip, client: httpx.AsyncClient, payload: Any, key: str = API_KEY
) -> httpx.Response:
    headers = {"Authorization": f"App {key}"}
    return await client.post(f"{fake.url}/sms/3/messages", json=payload, headers=headers)


def message(*numbers: str) -> dict[str, Any]:
    return {
        "sender": "InfoSMS",
        "destinations": [{"to": number} for number in numbers],
        "content": {"text": "hi"},
    }


@pytest.mark.parametrize(
    ("payload", "prop"),
    [
        ({"messages": [message("+41793026727")]}, "messages[0].destinations[0].to"),
        ({"messages": []}, "messages"),
        (
            {"messages": [{**message("41793026727"), "content": {"txt": "x"}}]},
            "messages[0].content",
        ),
        ({"messages": [message()]}, "messages[0].destinations"),
        ({"msgs": []}, ""),
    ],
    ids=["plus-in-to", "no-messages", "content-without-text", "no-destinations", "no-messages-key"],
)
async def test_fake_refuses_invalid_requests(
    fake: FakeInfobip, client: httpx.AsyncClient, payload: Any, prop: str
) -> None:
    response = await raw_post(fake, client, payload)
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "E400"
    assert prop in [violation["property"] for violation in body["violations"]]
    assert fake.accepted == []


async def test_fake_validates_against_the_spec_file(fake: FakeInfobip) -> None:
    if not spec_path().is_file():
        pytest.skip(f"no Infobip spec at {spec_path()}")
    assert fake.spec_loaded
    payload = {
        "messages": [
            {
                **message("41793026727"),
                "options": {"validityPeriod": {"amount": 5, "timeUnit": "DAYS"}},
            }
        ]
    }
    violations = spec_violations(
        "20085a4036d67f66ebf204560d55d58a7c131c15d42c8ed9442747c488e08630.SmsRequestEnvelope",
        payload,
    )
    assert [v["property"] for v in violations or []] == [
        "messages[0].options.validityPeriod.timeUnit"
    ]


async def test_fake_401_body(fake: FakeInfobip, client: httpx.AsyncClient) -> None:
    response = await raw_post(fake, client, {"messages": [message("41793026727")]}, key="nope")
    assert response.status_code == 401
    assert response.json()["errorCode"] == "E401"
    assert response.json()["resources"] == []


@pytest.mark.parametrize("other", [Behaviour.PARTIAL, Behaviour.PERMANENT])
async def test_partial_success_inside_one_200(
    fake: FakeInfobip, client: httpx.AsyncClient, other: Behaviour
) -> None:
    fake.behave("+41793026834", other)
    payload = {
        "messages": [message("41793026727", "41793026834")],
        "options": {"includeSmsCountInResponse": True, "schedule": {"bulkId": "BULK-1"}},
    }
    response = await raw_post(fake, client, payload)
    assert response.status_code == 200
    body = response.json()
    assert spec_violations(RESPONSE_SCHEMA, body) in ([], None)
    assert body["bulkId"] == "BULK-1"
    statuses = [
        (m["destination"], m["status"]["name"], m["status"]["groupId"]) for m in body["messages"]
    ]
    assert statuses == [
        ("41793026727", "PENDING_ACCEPTED", 1),
        ("41793026834", "REJECTED_DESTINATION", 5),
    ]
    assert body["messages"][0]["details"] == {"messageCount": 1}
    assert [a.to for a in fake.accepted] == ["+41793026727"]


async def test_all_destinations_permanent_is_a_400(
    fake: FakeInfobip, client: httpx.AsyncClient
) -> None:
    fake.behave("+41793026727", Behaviour.PERMANENT)
    fake.behave("+41793026834", Behaviour.PERMANENT)
    response = await raw_post(fake, client, {"messages": [message("41793026727", "41793026834")]})
    assert response.status_code == 400
    assert [v["property"] for v in response.json()["violations"]] == [
        "messages[0].destinations[0].to",
        "messages[0].destinations[1].to",
    ]
    assert fake.accepted == []


# --- callbacks, built by the fake and parsed by the adapter ------------------------------------
def as_request(url: str, headers: dict[str, str], body: bytes) -> CallbackRequest:
    query = dict(httpx.URL(url).params)
    return CallbackRequest(url=url, headers=headers, body=body, query=query)


async def test_status_callback_parses(fake: FakeInfobip, client: httpx.AsyncClient) -> None:
    provider = provider_for(fake, client)
    await provider.send(sms("+41793026727"))
    reports = provider.parse_status_callback(
        as_request(*fake.status_callback(fake.accepted, "DELIVERED"))
    )
    (report,) = reports
    assert (report.provider_message_id, report.status, report.provider_status) == (
        "msg_fake_1",
        "delivered",
        "DELIVERED_TO_HANDSET",
    )
    assert (report.recipient, report.error_code) == ("+41793026727", None)
    assert report.occurred_at is not None
    assert report.occurred_at.tzinfo is not None


@pytest.mark.parametrize(
    ("status", "error", "expected", "error_code"),
    [
        ("UNDELIVERABLE", None, "undelivered", "EC_UNKNOWN_SUBSCRIBER"),
        ("EXPIRED", "EC_ABSENT_SUBSCRIBER_SM", "undelivered", "EC_ABSENT_SUBSCRIBER_SM"),
        ("REJECTED_NOT_ENOUGH_CREDITS", None, "failed", None),
        ("PENDING", None, "sent", None),
        ("DELIVERED_TO_OPERATOR", None, "delivered", None),
    ],
)
async def test_status_callback_variants(
    fake: FakeInfobip,
    client: httpx.AsyncClient,
    status: str,
    error: str | None,
    expected: str,
    error_code: str | None,
) -> None:
    provider = provider_for(fake, client)
    await provider.send(sms("+41793026727"))
    built = fake.status_callback(fake.accepted[0], status, error=error)
    (report,) = provider.parse_status_callback(as_request(*built))
    assert (report.status, report.error_code) == (expected, error_code)


async def test_report_batch_of_100(fake: FakeInfobip, client: httpx.AsyncClient) -> None:
    destinations = [{"to": f"4179302{i:04d}", "messageId": f"msg_{i:03d}"} for i in range(101)]
    webhooks = {"delivery": {"url": f"https://sms.example.com/cb?token={TOKEN}"}}
    payload = {"messages": [{**message(), "destinations": destinations, "webhooks": webhooks}]}
    assert (await raw_post(fake, client, payload)).status_code == 200
    assert len(fake.accepted) == 101
    with pytest.raises(ValueError, match="1 to 100"):
        fake.status_callback(fake.accepted, "DELIVERED")
    url, headers, body = fake.status_callback(fake.accepted[:100], "DELIVERED")
    assert len(json.loads(body)["results"]) == 100
    reports = provider_for(fake, client).parse_status_callback(as_request(url, headers, body))
    assert [r.provider_message_id for r in reports] == [f"msg_{i:03d}" for i in range(100)]
    assert [r.recipient for r in reports[:2]] == ["+41793020000", "+41793020001"]


async def test_callback_with_wrong_token_is_rejected(
    fake: FakeInfobip, client: httpx.AsyncClient
) -> None:
    provider = provider_for(fake, client)
    await provider.send(sms("+41793026727"))
    built = fake.status_callback(
        fake.accepted[0], "DELIVERED", url="https://x.example/cb?token=bad"
    )
    with pytest.raises(CallbackRejected):
        provider.parse_status_callback(as_request(*built))


async def test_inbound_callback_parses(fake: FakeInfobip, client: httpx.AsyncClient) -> None:
    provider = provider_for(fake, client)
    built = fake.inbound_callback(
        f"https://sms.example.com/callbacks/infobip/inbound?token={TOKEN}",
        "+385916242493",
        "+385921004026",
        "STOP",
    )
    (inbound,) = provider.parse_inbound_callback(as_request(*built))
    assert (inbound.sender, inbound.to, inbound.body) == ("+385916242493", "+385921004026", "STOP")
    assert inbound.received_at is not None


class CallbackReceiver(FakeProvider):
    """Our side of the callbacks: parses with the adapter, answers 200 or 401."""

    name = "receiver"

    def __init__(self, provider: InfobipProvider) -> None:
        super().__init__()
        self.provider = provider
        self.reports: list[DeliveryReport] = []
        self.inbound_count = 0

    def build_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/callbacks/infobip/status", self._status, methods=["POST"]),
                Route("/callbacks/infobip/inbound", self._inbound, methods=["POST"]),
            ]
        )

    async def _status(self, request: Request) -> Response:
        try:
            self.reports += self.provider.parse_status_callback(await _callback(request))
        except CallbackRejected:
            return Response(status_code=401)
        return JSONResponse({"ok": True})

    async def _inbound(self, request: Request) -> Response:
        try:
            self.inbound_count += len(
                self.provider.parse_inbound_callback(await _callback(request))
            )
        except CallbackRejected:
            return Response(status_code=401)
        return JSONResponse({"ok": True})


async def _callback(request: Request) -> CallbackRequest:
    return CallbackRequest(
        url=str(request.url),
        headers=dict(request.headers),
        body=await request.body(),
        query=dict(request.query_params),
    )


async def test_post_status_and_inbound_over_http(
    fake: FakeInfobip, client: httpx.AsyncClient
) -> None:
    provider = provider_for(fake, client)
    with CallbackReceiver(provider) as receiver:
        assert isinstance(receiver, CallbackReceiver)
        base = f"{receiver.url}/callbacks/infobip"
        await provider.send(sms("+41793026727", status_callback_url=f"{base}/status"))
        delivered = await fake.post_status(fake.accepted, "DELIVERED")
        forged = await fake.post_status(fake.accepted, "DELIVERED", url=f"{base}/status?token=x")
        inbound = await fake.post_inbound(
            f"{base}/inbound?token={TOKEN}", "+4479", "+447700900123", "hi"
        )
    assert (delivered.status_code, forged.status_code, inbound.status_code) == (200, 401, 200)
    assert [(r.provider_message_id, r.status) for r in receiver.reports] == [
        ("msg_fake_1", "delivered")
    ]
    assert receiver.inbound_count == 1


# --- standalone --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_runs_standalone(client: httpx.AsyncClient) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tests.fakes.infobip",
        "--port",
        str(port),
        "--api-key",
        "bench",
    ]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert (
            process.stdout.readline().strip()
            == f"fake infobip listening on http://127.0.0.1:{port}"
        )
        config = InfobipConfig(api_key="bench", base_url=f"http://127.0.0.1:{port}")
        result = await InfobipProvider(config, client).send(sms("+41793026727"))
        assert result.provider_message_id == "msg_fake_1"
    finally:
        process.terminate()
        # uvicorn shuts down cleanly, then re-raises the signal it caught
        assert process.wait(timeout=10) in (0, -signal.SIGTERM)
