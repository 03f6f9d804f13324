"""End to end: messages make events, the worker delivers them signed, retries, gives up."""

from __future__ import annotations

import asyncio
from datetime import datetime

import orjson
from standardwebhooks import Webhook

from lynsms.database import session_scope
from lynsms.kit.clock import utcnow
from lynsms.kit.ids import new_id
from lynsms.models import WebhookEndpoint
from tests.webhooks.conftest import SCHEDULE, create_hook, events_of, send, settled

SILENT = "+15005550008"  # the simulator sends, then never reports: one event, message.sent


async def test_sent_and_delivered_events_arrive_signed(hapi, owner, receiver):
    hook = receiver.hook()
    created = await create_hook(hapi, owner.live, hook.url)
    message_id = await send(hapi, owner.live)
    received = await hook.wait_for(2)
    verifier = Webhook(created["secret"])
    payloads = [verifier.verify(r.body, r.headers) for r in received]
    assert [p["type"] for p in payloads] == ["message.sent", "message.delivered"]
    assert {p["data"]["id"] for p in payloads} == {message_id}
    for request, payload in zip(received, payloads, strict=True):
        assert request.headers["webhook-id"] == payload["id"]
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"].startswith("LynSMS-Webhooks/")
    events = await events_of(hapi, owner.live, message_id, 2)
    for event, request in zip(events, received, strict=True):
        stored = (await hapi.get(f"/events/{event['id']}", headers=owner.live)).json()["data"]
        assert orjson.loads(request.body) == {k: v for k, v in stored.items() if k != "deliveries"}
        event_detail = await settled(hapi, owner.live, event["id"])
        (delivery,) = event_detail["deliveries"]
        assert (delivery["webhook_id"], delivery["status"]) == (created["id"], "succeeded")
        assert [a["status_code"] for a in delivery["attempts"]] == [200]


async def test_test_mode_endpoint_gets_only_test_events(hapi, owner, receiver):
    test_hook, live_hook = receiver.hook(), receiver.hook()
    await create_hook(hapi, owner.test, test_hook.url, events=["message.sent"])
    await create_hook(hapi, owner.live, live_hook.url, events=["message.sent"])
    test_message = await send(hapi, owner.test, SILENT)
    live_message = await send(hapi, owner.live, SILENT)
    (test_got,) = await test_hook.wait_for(1)
    (live_got,) = await live_hook.wait_for(1)
    assert orjson.loads(test_got.body)["data"]["id"] == test_message
    assert orjson.loads(live_got.body)["data"]["id"] == live_message
    await send(hapi, owner.test, SILENT)
    await test_hook.wait_for(2)
    assert len(live_hook.received) == 1


async def test_endpoint_receives_only_its_event_types(hapi, owner, receiver):
    hook = receiver.hook()
    await create_hook(hapi, owner.live, hook.url, events=["message.delivered"])
    message_id = await send(hapi, owner.live)
    (got,) = await hook.wait_for(1)
    assert orjson.loads(got.body)["type"] == "message.delivered"
    sent_event = (await events_of(hapi, owner.live, message_id, 2))[0]
    assert sent_event["type"] == "message.sent"
    detail = (await hapi.get(f"/events/{sent_event['id']}", headers=owner.live)).json()["data"]
    assert detail["deliveries"] == []


async def test_retries_until_success_with_the_same_webhook_id(hapi, owner, receiver):
    hook = receiver.hook(500, 500)
    created = await create_hook(hapi, owner.live, hook.url, events=["message.sent"])
    message_id = await send(hapi, owner.live, SILENT)
    received = await hook.wait_for(3)
    assert len({r.headers["webhook-id"] for r in received}) == 1
    for request in received:
        Webhook(created["secret"]).verify(request.body, request.headers)
    (event,) = await events_of(hapi, owner.live, message_id, 1)
    (delivery,) = (await settled(hapi, owner.live, event["id"]))["deliveries"]
    assert delivery["status"] == "succeeded"
    assert delivery["next_attempt_at"] is None
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
    assert [a["error"] for a in delivery["attempts"]] == ["HTTP 500", "HTTP 500", None]
    assert all(a["latency_ms"] >= 0 and a["at"].endswith("+00:00") for a in delivery["attempts"])


async def test_exhausted_schedule_fails_the_delivery(hapi, owner, receiver):
    hook = receiver.hook(*[503] * 10)
    await create_hook(hapi, owner.live, hook.url, events=["message.sent"])
    message_id = await send(hapi, owner.live, SILENT)
    (event,) = await events_of(hapi, owner.live, message_id, 1)
    (delivery,) = (await settled(hapi, owner.live, event["id"]))["deliveries"]
    assert delivery["status"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [503] * (len(SCHEDULE) + 1)
    assert len(hook.received) == len(SCHEDULE) + 1
    webhooks = (await hapi.get("/webhooks", headers=owner.live)).json()["data"]
    assert webhooks[0]["enabled"] is True  # failures for less than 5 days do not disable


async def test_redirect_is_a_failure(hapi, owner, receiver):
    hook = receiver.hook((302, {"location": "http://127.0.0.1:9/elsewhere"}))
    await create_hook(hapi, owner.live, hook.url, events=["message.sent"])
    message_id = await send(hapi, owner.live, SILENT)
    (event,) = await events_of(hapi, owner.live, message_id, 1)
    (delivery,) = (await settled(hapi, owner.live, event["id"]))["deliveries"]
    assert [a["status_code"] for a in delivery["attempts"]] == [302, 200]


async def test_gone_disables_the_endpoint(hapi, owner, receiver):
    hook = receiver.hook(410)
    created = await create_hook(hapi, owner.live, hook.url, events=["message.sent"])
    message_id = await send(hapi, owner.live, SILENT)
    (event,) = await events_of(hapi, owner.live, message_id, 1)
    (delivery,) = (await settled(hapi, owner.live, event["id"]))["deliveries"]
    assert (delivery["status"], [a["status_code"] for a in delivery["attempts"]]) == (
        "failed",
        [410],
    )
    (endpoint,) = (await hapi.get("/webhooks", headers=owner.live)).json()["data"]
    assert endpoint["id"] == created["id"]
    assert endpoint["enabled"] is False
    assert "410" in endpoint["disabled_reason"]
    probe = receiver.hook()
    probe_id = (await create_hook(hapi, owner.live, probe.url, events=["message.sent"]))["id"]
    await send(hapi, owner.live, SILENT)
    await _only_probe_gets(hapi, owner, probe, probe_id, "message.sent")
    assert len(hook.received) == 1


async def _only_probe_gets(hapi, owner, probe, probe_id, event_type):
    """Wait until the probe endpoint got the newest ``event_type`` event; that event's
    deliveries must be the probe's alone."""
    (got,) = await probe.wait_for(1)
    event = orjson.loads(got.body)
    assert event["type"] == event_type
    detail = (await hapi.get(f"/events/{event['id']}", headers=owner.live)).json()["data"]
    assert [d["webhook_id"] for d in detail["deliveries"]] == [probe_id]


async def test_retry_after_is_honoured(hapi, owner, receiver):
    hook = receiver.hook((429, {"retry-after": "1"}))
    await create_hook(hapi, owner.live, hook.url, events=["message.sent"])
    message_id = await send(hapi, owner.live, SILENT)
    (event,) = await events_of(hapi, owner.live, message_id, 1)
    (delivery,) = (await settled(hapi, owner.live, event["id"]))["deliveries"]
    first, second = (datetime.fromisoformat(a["at"]) for a in delivery["attempts"])
    assert (second - first).total_seconds() >= 1.0  # the schedule says 0.2 s


async def test_deleted_endpoint_receives_nothing_more(hapi, owner, receiver):
    hook = receiver.hook(*[500] * 10)
    created = await create_hook(hapi, owner.live, hook.url, events=["message.sent"])
    message_id = await send(hapi, owner.live, SILENT)
    await hook.wait_for(1)
    await hapi.delete(f"/webhooks/{created['id']}", headers=owner.live)
    (event,) = await events_of(hapi, owner.live, message_id, 1)
    (delivery,) = (await settled(hapi, owner.live, event["id"]))["deliveries"]
    assert delivery["status"] == "failed"
    count = len(hook.received)
    await asyncio.sleep(3 * SCHEDULE[0])
    assert len(hook.received) == count == len(delivery["attempts"]) < len(SCHEDULE) + 1


async def test_lightningmsg_format(hapi, owner, receiver):
    hook = receiver.hook()
    created = await create_hook(
        hapi, owner.live, hook.url, format="lightningmsg", headers={"X-Shared-Token": "s3cret"}
    )
    assert created["format"] == "lightningmsg"
    message_id = await send(hapi, owner.live)  # sent, then delivered: only sms.sent goes out
    (got,) = await hook.wait_for(1)
    body = Webhook(created["secret"]).verify(got.body, got.headers)
    assert body["sms_id"] == message_id
    assert body["status"] == "sent"
    assert body["timestamp"].endswith("Z")
    assert got.headers["x-shared-token"] == "s3cret"
    for _ in range(50):  # the first message's delivered event must predate the probe
        current = (await hapi.get(f"/messages/{message_id}", headers=owner.live)).json()["data"]
        if current["status"] == "delivered":
            break
        await asyncio.sleep(0.1)
    probe = receiver.hook()
    probe_id = (await create_hook(hapi, owner.live, probe.url, events=["message.delivered"]))["id"]
    await send(hapi, owner.live)
    await _only_probe_gets(hapi, owner, probe, probe_id, "message.delivered")
    assert len(await hook.wait_for(2)) == 2  # the second message's sms.sent, nothing else


async def test_internal_destination_is_refused_at_delivery(hapi, owner, hooks_server):
    """An endpoint that points at a link-local address (as one whose DNS changed would)
    gets failed attempts carrying the reason, and no request is made."""
    async with session_scope(hooks_server.runtime.database, write=True) as session:
        session.add(
            WebhookEndpoint(
                id=new_id("whk"),
                account_id=owner.account_id,
                mode="live",
                url="http://169.254.169.254/latest/meta-data",
                events=["message.sent"],
                format="standard",
                headers={},
                secret_hint="xxxx",
                enabled=True,
                created_at=utcnow(),
            )
        )
    message_id = await send(hapi, owner.live, SILENT)
    (event,) = await events_of(hapi, owner.live, message_id, 1)
    (delivery,) = (await settled(hapi, owner.live, event["id"]))["deliveries"]
    assert delivery["status"] == "failed"
    assert len(delivery["attempts"]) == len(SCHEDULE) + 1
    for attempt in delivery["attempts"]:
        assert attempt["status_code"] is None
        assert "link-local" in attempt["error"]
        assert attempt["latency_ms"] < 1000
