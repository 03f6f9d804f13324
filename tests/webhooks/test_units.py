"""Signing, secrets, URL safety, posting and the retry plan, without a server."""

from __future__ import annotations

import base64
import ipaddress
import os
import stat
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from lynsms.config import Settings
from lynsms.webhooks import signing
from lynsms.webhooks.delivery import Job, Outcome, body_of, next_attempt, plan, request_for
from lynsms.webhooks.urls import UnsafeUrl, check_destination, check_shape, refusal

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_published_vector():
    assert signing.sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_published_vector_negative():
    assert signing.sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, b'{"test": 2432232315}') != (
        VECTOR_SIGNATURE
    )


def test_derived_secret_is_32_bytes_stable_and_per_endpoint():
    key = b"server-key"
    secret = signing.endpoint_secret(key, "whk_a")
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret == signing.endpoint_secret(key, "whk_a")
    assert secret != signing.endpoint_secret(key, "whk_b")
    assert secret != signing.endpoint_secret(b"other-key", "whk_a")
    assert signing.secret_hint(secret) == secret[-4:]


def test_standardwebhooks_verifies_our_headers():
    secret = signing.endpoint_secret(b"k", "whk_x")
    body = b'{"id":"evt_1","type":"message.sent"}'
    headers = signing.signature_headers(secret, "evt_1", int(time.time()), body)
    assert Webhook(secret).verify(body, headers) == {"id": "evt_1", "type": "message.sent"}
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.endpoint_secret(b"k", "whk_y")).verify(body, headers)


def test_server_key_from_setting_wins(tmp_path):
    settings = Settings(secret_key="configured", secret_key_file=tmp_path / "unused")
    assert signing.server_key(settings) == b"configured"
    assert not (tmp_path / "unused").exists()


def test_server_key_file_is_created_private_and_reused(tmp_path):
    path = tmp_path / "sub" / "lynsms.secret"
    first = signing.server_key(Settings(secret_key_file=path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(base64.urlsafe_b64decode(first + b"=")) == 32
    signing._key_file.cache_clear()
    assert signing.server_key(Settings(secret_key_file=path)) == first
    assert signing.server_key(Settings(secret_key=first.decode())) == first  # portable
    assert [p.name for p in path.parent.iterdir()] == ["lynsms.secret"]


@pytest.mark.parametrize(
    ("address", "allowed_private", "allowed_public"),
    [
        ("8.8.8.8", True, True),
        ("2001:4860:4860::8888", True, True),
        ("127.0.0.1", True, False),
        ("::1", True, False),
        ("10.1.2.3", True, False),
        ("172.16.0.1", True, False),
        ("192.168.1.1", True, False),
        ("100.64.0.1", True, False),
        ("0.1.2.3", True, False),
        ("fd00::1", True, False),
        ("::ffff:127.0.0.1", True, False),
        ("::ffff:10.0.0.1", True, False),
        ("169.254.169.254", False, False),
        ("fe80::1", False, False),
        ("::ffff:169.254.169.254", False, False),
        ("224.0.0.1", False, False),
        ("ff02::1", False, False),
        ("0.0.0.0", False, False),
        ("::", False, False),
        ("255.255.255.255", False, False),
        ("64:ff9b::a9fe:a9fe", False, False),  # NAT64 of 169.254.169.254
    ],
)
def test_address_rules(address, allowed_private, allowed_public):
    ip = ipaddress.ip_address(address)
    assert (refusal(ip, allow_private=True) is None) is allowed_private
    assert (refusal(ip, allow_private=False) is None) is allowed_public


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "example.com/hook", "http://", "https://u:p@example.com/", "x"]
)
def test_url_shape_refused(url):
    with pytest.raises(ValueError):  # noqa: PT011
        check_shape(url)


async def test_destination_check_resolves_names():
    await check_destination("http://localhost:8080/x", allow_private=True)
    with pytest.raises(UnsafeUrl, match="loopback"):
        await check_destination("http://localhost:8080/x", allow_private=False)
    with pytest.raises(UnsafeUrl, match="link-local"):
        await check_destination("http://[fe80::1]/x", allow_private=True)
    with pytest.raises(UnsafeUrl, match="resolved"):
        await check_destination("http://no-such-host.invalid/", allow_private=True)


NOW = datetime(2026, 5, 12, 11, 0, tzinfo=UTC)


def job(**overrides):
    values = {
        "delivery_id": 1,
        "attempts": 0,
        "event_id": "evt_1",
        "event_type": "message.sent",
        "payload": '{"id":"evt_1","data":{"id":"msg_1"}}',
        "event_created_at": NOW,
        "endpoint_id": "whk_1",
        "url": "http://127.0.0.1:9/x",
        "format": "standard",
        "headers": {},
        "endpoint_live": True,
        "failing_since": None,
    }
    values.update(overrides)
    return Job(**values)


def failed(status_code=500, retry_after=None):
    return Outcome(True, NOW, status_code, 3, f"HTTP {status_code}", retry_after)


def test_schedule_with_jitter_then_exhaustion():
    schedule = [10.0, 100.0]
    for _ in range(50):
        first = (next_attempt(1, failed(), NOW, schedule) - NOW).total_seconds()
        second = (next_attempt(2, failed(), NOW, schedule) - NOW).total_seconds()
        assert 8.5 <= first <= 11.5
        assert 85 <= second <= 115
    assert next_attempt(3, failed(), NOW, schedule) is None


def test_retry_after_is_a_lower_bound():
    at = next_attempt(1, failed(429, retry_after=120.0), NOW, [5.0])
    assert at == NOW + timedelta(seconds=120)


def test_plan_success_failure_and_exhaustion():
    jobs = [job(delivery_id=1), job(delivery_id=2, attempts=2, endpoint_id="whk_2")]
    ok = Outcome(True, NOW, 204, 5)
    result = plan(jobs, [ok, failed()], NOW, [1.0, 1.0])
    assert [d["p_status"] for d in result.deliveries] == ["succeeded", "failed"]
    assert [d["p_attempts"] for d in result.deliveries] == [1, 3]
    assert (result.healthy, result.failing, result.disable) == ({"whk_1"}, {"whk_2"}, {})
    assert len(result.attempts) == 2


def test_plan_410_disables():
    result = plan([job()], [failed(410)], NOW, [1.0])
    assert result.deliveries[0]["p_status"] == "failed"
    assert "410" in result.disable["whk_1"]


def test_plan_five_days_of_failure_disables_unless_a_success():
    old = NOW - timedelta(days=5, seconds=1)
    result = plan([job(failing_since=old)], [failed()], NOW, [1.0])
    assert result.deliveries[0]["p_status"] == "pending"
    assert "5 days" in result.disable["whk_1"]
    ok = Outcome(True, NOW, 200, 5)
    two = [job(failing_since=old), job(delivery_id=2, failing_since=old)]
    assert plan(two, [failed(), ok], NOW, [1.0]).disable == {}
    recent = plan([job(failing_since=NOW - timedelta(days=4))], [failed()], NOW, [1.0])
    assert recent.disable == {}


def test_plan_gone_endpoint_fails_without_attempt():
    result = plan([job(endpoint_live=False)], [Outcome(False, abandoned=True)], NOW, [1.0])
    assert result.deliveries[0]["p_status"] == "failed"
    assert result.attempts == []


def test_lightningmsg_body_and_headers():
    lightning = job(format="lightningmsg", headers={"X-Token": "abc"})
    assert body_of(lightning) == (
        b'{"sms_id":"msg_1","status":"sent","timestamp":"2026-05-12T11:00:00Z"}'
    )
    body, headers = request_for(lightning, b"key", int(time.time()))
    assert headers["X-Token"] == "abc"
    Webhook(signing.endpoint_secret(b"key", "whk_1")).verify(body, headers)
    assert body_of(job()) == job().payload.encode()


def test_fan_out_matching():
    from lynsms.webhooks.service import matches

    hook = {"mode": "live", "events": ["*"], "format": "standard", "created_at": NOW}
    event = {"mode": "live", "type": "message.delivered", "created_at": NOW}
    assert matches(hook, event)
    assert not matches({**hook, "mode": "test"}, event)
    assert not matches({**hook, "events": ["message.sent"]}, event)
    assert matches({**hook, "events": ["message.sent", "message.delivered"]}, event)
    assert not matches({**hook, "created_at": NOW + timedelta(seconds=1)}, event)
    assert not matches({**hook, "format": "lightningmsg"}, event)
    assert matches({**hook, "format": "lightningmsg"}, {**event, "type": "message.cancelled"})


async def test_post_records_connection_errors_and_timeouts(monkeypatch):
    import asyncio

    import httpx

    from lynsms.webhooks import delivery

    async def silent(reader, writer):
        await reader.read(1)
        await asyncio.sleep(5)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(delivery, "TIMEOUT", 0.3)
    async with httpx.AsyncClient() as client:
        hung = await delivery.post(client, f"http://127.0.0.1:{port}/", b"{}", {}, NOW)
        server.close()
        await server.wait_closed()
        refused = await delivery.post(client, f"http://127.0.0.1:{port}/", b"{}", {}, NOW)
    assert (hung.status_code, hung.error) == (None, "timed out after 0.3 s")
    assert 250 <= hung.latency_ms < 2000
    assert refused.status_code is None
    assert refused.error.startswith("ConnectError")
    assert not hung.succeeded and not refused.succeeded
