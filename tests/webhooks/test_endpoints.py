"""Webhook endpoint CRUD, validation and scopes."""

from __future__ import annotations

import pytest

from tests.factories import create_customer, create_key
from tests.webhooks.conftest import create_hook

URL = "https://hooks.example.com/lynsms"  # never called: no event reaches it


async def test_create_returns_the_endpoint_with_its_secret_once(hapi, owner, receiver):
    hook = receiver.hook()
    created = await create_hook(
        hapi, owner.live, hook.url, events=["message.delivered"], description="prod"
    )
    assert created["id"].startswith("whk_")
    assert created["object"] == "webhook_endpoint"
    assert created["secret"].startswith("whsec_")
    assert created["secret_hint"] == created["secret"][-4:]
    assert {
        k: created[k] for k in ("url", "events", "description", "enabled", "mode", "format")
    } == {
        "url": hook.url,
        "events": ["message.delivered"],
        "description": "prod",
        "enabled": True,
        "mode": "live",
        "format": "standard",
    }
    listed = (await hapi.get("/webhooks", headers=owner.live)).json()
    assert listed["pagination"]["total_items"] == 1
    assert listed["data"][0]["id"] == created["id"]
    assert "secret" not in listed["data"][0]


async def test_defaults_and_mode_from_the_key(hapi, owner, receiver):
    created = await create_hook(hapi, owner.test, receiver.hook().url)
    assert (created["events"], created["mode"], created["description"]) == (["*"], "test", "")
    star = await create_hook(hapi, owner.live, receiver.hook().url, events=["*", "message.sent"])
    assert star["events"] == ["*"]


async def test_secret_is_stable_per_endpoint_and_differs_between_endpoints(hapi, owner, receiver):
    one = await create_hook(hapi, owner.live, receiver.hook().url)
    two = await create_hook(hapi, owner.live, receiver.hook().url)
    assert one["secret"] != two["secret"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"url": URL, "events": ["message.exploded"]}, "events"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL, "events": "message.sent"}, "events"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"events": ["*"]}, "url"),
        ({"url": URL, "format": "xml"}, "format"),
        ({"url": URL, "headers": {"Bad Name": "x"}}, "headers"),
        ({"url": URL, "headers": {"webhook-signature": "x"}}, "headers"),
        ({"url": URL, "headers": {"X-A": "line\r\nbreak"}}, "headers"),
        ({"url": URL, "description": "x" * 501}, "description"),
        ({"url": URL, "colour": "blue"}, "colour"),
    ],
)
async def test_validation_errors_name_the_field(hapi, owner, body, param):
    response = await hapi.post("/webhooks/create", json=body, headers=owner.live)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["param"] == param


async def test_link_local_is_refused_even_when_private_is_allowed(hapi, owner):
    response = await hapi.post(
        "/webhooks/create", json={"url": "http://169.254.169.254/latest"}, headers=owner.live
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_webhook_url", "url")
    assert "link-local" in error["message"]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/", "http://10.0.0.5/hook", "http://[::1]:8080/", "http://localhost/"]
)
async def test_private_destinations_refused_by_default(api, customer, url):
    response = await api.post("/webhooks/create", json={"url": url}, headers=customer.live)
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_webhook_url", "url")


async def test_metadata_address_refused_by_default(api, customer):
    response = await api.post(
        "/webhooks/create", json={"url": "http://169.254.169.254/"}, headers=customer.live
    )
    assert response.json()["error"]["code"] == "invalid_webhook_url"


async def test_delete_soft_deletes(hapi, owner, receiver):
    created = await create_hook(hapi, owner.live, receiver.hook().url)
    response = await hapi.delete(f"/webhooks/{created['id']}", headers=owner.live)
    assert response.status_code == 200
    assert response.json()["data"]["id"] == created["id"]
    assert "secret" not in response.json()["data"]
    listed = (await hapi.get("/webhooks", headers=owner.live)).json()["data"]
    assert created["id"] not in [hook["id"] for hook in listed]
    again = await hapi.delete(f"/webhooks/{created['id']}", headers=owner.live)
    assert again.status_code == 404


async def test_another_accounts_endpoint_is_not_found(hapi, owner, hooks_server, receiver):
    created = await create_hook(hapi, owner.live, receiver.hook().url)
    stranger = await create_customer(hooks_server.runtime)
    response = await hapi.delete(f"/webhooks/{created['id']}", headers=stranger.live)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert (await hapi.get("/webhooks", headers=stranger.live)).json()["data"] == []


async def test_scopes(hapi, owner, hooks_server, receiver):
    runtime = hooks_server.runtime
    reader = await create_key(runtime, owner.account_id, scopes=["webhooks:read"])
    other = await create_key(runtime, owner.account_id, scopes=["messages:send"])
    headers = {"Authorization": f"Bearer {reader}"}
    assert (await hapi.get("/webhooks", headers=headers)).status_code == 200
    assert (await hapi.get("/events", headers=headers)).status_code == 200
    denied = await hapi.post("/webhooks/create", json={"url": URL}, headers=headers)
    assert denied.status_code == 403
    assert denied.json()["error"]["required_scope"] == "webhooks:write"
    listing = await hapi.get("/webhooks", headers={"Authorization": f"Bearer {other}"})
    assert listing.status_code == 403
    assert (await hapi.get("/webhooks")).status_code == 401


async def test_pagination(hapi, owner, receiver):
    for _ in range(3):
        await create_hook(hapi, owner.live, receiver.hook().url)
    page = (await hapi.get("/webhooks", params={"limit": 2, "page": 2}, headers=owner.live)).json()
    assert len(page["data"]) == 1
    assert page["pagination"]["total_items"] == 3
    assert (await hapi.get("/webhooks", params={"limit": 0}, headers=owner.live)).status_code == 422


async def test_url_is_resolved_after_auth_and_outside_the_write_lock(
    hapi, owner, hooks_server, receiver, monkeypatch
):
    from lynsms.webhooks import service

    lock = hooks_server.runtime.database.write_lock  # SQLite only
    seen = []
    original = service.check_url

    async def spy(settings, url):
        seen.append(lock.locked() if lock is not None else False)
        await original(settings, url)

    monkeypatch.setattr(service, "check_url", spy)
    assert (await hapi.post("/webhooks/create", json={"url": URL})).status_code == 401
    assert seen == []
    await create_hook(hapi, owner.live, receiver.hook().url)
    assert seen == [False]
