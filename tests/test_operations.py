"""Operational endpoints, request ids, the OpenAPI document and the seeds' own client code."""

from __future__ import annotations

import asyncio

import httpx
import requests


async def test_health_ready_metrics(server):
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).json() == {"status": "ready", "providers": {}}
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200 and "lynsms_" in metrics.text


async def test_request_id_is_honoured_or_minted(api, customer):
    honoured = await api.get("/account", headers={**customer.live, "X-Request-Id": "abc-123.x:y"})
    assert honoured.headers["x-request-id"] == "abc-123.x:y"
    assert honoured.json()["meta"] == {"request_id": "abc-123.x:y", "api_version": "v1"}
    minted = await api.get("/account", headers={**customer.live, "X-Request-Id": "bad id!"})
    request_id = minted.headers["x-request-id"]
    assert request_id.startswith("req_") and len(request_id) == 16
    assert minted.json()["meta"]["request_id"] == request_id
    error = await api.get("/account")
    assert error.json()["meta"]["request_id"] == error.headers["x-request-id"]


async def test_openapi_lists_the_public_api_only(server):
    async with httpx.AsyncClient(base_url=server.url) as client:
        spec = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    paths = set(spec["paths"])
    assert {
        "/api/v1/messages/send",
        "/api/v1/messages/bulk",
        "/api/v1/messages/{message_id}",
        "/api/v1/messages",
        "/api/v1/account",
        "/api/v1/balance",
        "/api/v1/senders",
        "/api/v1/senders/create",
        "/api/v1/api-keys",
        "/api/v1/api-keys/create",
    } <= paths
    assert not any(p.startswith(("/healthz", "/readyz", "/metrics")) for p in paths)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_seed_python_examples_work_with_only_url_and_key_changed(server, customer):
    """seeds 000/001: the `requests` snippets, verbatim but for the URL and the key."""
    base = server.url + "/api/v1"

    def seed_code() -> tuple[dict, dict]:
        resp = requests.post(
            f"{base}/messages/send",
            headers={
                "Authorization": f"Bearer {customer.live_key}",
                "Content-Type": "application/json",
            },
            json={
                "to": "+12025550143",
                "from": "LynSMS",
                "body": "Your verification code is 482194",
                "reference": "signup-9214",
            },
            timeout=15,
        )
        resp.raise_for_status()
        message = resp.json()["data"]
        resp = requests.post(
            f"{base}/messages/bulk",
            headers={"Authorization": f"Bearer {customer.live_key}"},
            json={
                "from": "LynSMS",
                "recipients": ["+12025550143", "+447700900100", "+4748640969"],
                "body": "Tickets for tonight are still available — bit.ly/lens-friday",
            },
        )
        return message, resp.json()["data"]

    message, data = await asyncio.to_thread(seed_code)
    assert message["id"].startswith("msg_") and message["status"] == "sent"
    assert f"{data['sent']} sent, {data['failed']} failed" == "3 sent, 0 failed"
