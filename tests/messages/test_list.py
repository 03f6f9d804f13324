from __future__ import annotations

import pytest

from tests.factories import create_customer


@pytest.fixture
async def filled(api, server):
    customer = await create_customer(server.runtime)
    for i, to in enumerate(["+12025550143", "+447700900100", "+12025550143", "+15005550001"]):
        await api.post(
            "/messages/send",
            json={"to": to, "from": "LynSMS", "body": f"m{i}", "reference": f"ref-{i % 2}"},
            headers=customer.live,
        )
    return customer


async def test_newest_first_with_pagination(api, filled):
    page1 = (await api.get("/messages?limit=3", headers=filled.live)).json()
    assert page1["pagination"] == {
        "page": 1,
        "limit": 3,
        "total_items": 4,
        "total_pages": 2,
        "has_next": True,
        "has_prev": False,
    }
    assert [m["body"] for m in page1["data"]] == ["m3", "m2", "m1"]
    page2 = (await api.get("/messages?limit=3&page=2", headers=filled.live)).json()
    assert [m["body"] for m in page2["data"]] == ["m0"]
    assert page2["pagination"]["has_prev"] is True and page2["pagination"]["has_next"] is False


@pytest.mark.parametrize(
    ("query", "bodies"),
    [
        ("to=%2B12025550143", ["m2", "m0"]),
        ("reference=ref-1", ["m3", "m1"]),
        ("status=failed", ["m3"]),
        ("direction=outbound&provider=simulator&from=LynSMS", ["m3", "m2", "m1", "m0"]),
        ("direction=inbound", []),
        ("created_after=2099-01-01T00:00:00Z", []),
        ("created_after=2099-01-01T00:00:00", []),  # no offset: UTC
        ("created_before=2099-01-01T00:00:00Z", ["m3", "m2", "m1", "m0"]),
    ],
)
async def test_filters(api, filled, query, bodies):
    data = (await api.get(f"/messages?{query}", headers=filled.live)).json()["data"]
    assert [m["body"] for m in data] == bodies


async def test_limit_is_capped_at_100(api, filled):
    pagination = (await api.get("/messages?limit=500", headers=filled.live)).json()["pagination"]
    assert pagination["limit"] == 100


@pytest.mark.parametrize(
    "query", ["page=0", "limit=0", "page=-1", "limit=abc", "status=lost", "created_after=yesterday"]
)
async def test_bad_list_parameters(api, filled, query):
    response = await api.get(f"/messages?{query}", headers=filled.live)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["param"] == query.split("=")[0]


async def test_list_shows_only_own_messages(api, filled, server):
    other = await create_customer(server.runtime)
    assert (await api.get("/messages", headers=other.live)).json()["pagination"]["total_items"] == 0


async def test_each_environment_sees_only_its_own_messages(api, server):
    """Test keys are a sandbox: they neither list, read nor cancel live messages, and the
    other way round (as the webhook endpoints of each environment only get its events)."""
    customer = await create_customer(server.runtime)
    scheduled = {"from": "LynSMS", "body": "later", "send_at": "2099-01-01T00:00:00Z"}
    live = (
        await api.post(
            "/messages/send", json={**scheduled, "to": "+12025550143"}, headers=customer.live
        )
    ).json()["data"]
    test = (
        await api.post(
            "/messages/send", json={**scheduled, "to": "+12025550144"}, headers=customer.test
        )
    ).json()["data"]
    for headers, own, other in ((customer.live, live, test), (customer.test, test, live)):
        listed = (await api.get("/messages", headers=headers)).json()["data"]
        assert [m["id"] for m in listed] == [own["id"]]
        assert (await api.get(f"/messages/{own['id']}", headers=headers)).status_code == 200
        assert (await api.get(f"/messages/{other['id']}", headers=headers)).status_code == 404
        cancel = await api.post(f"/messages/{other['id']}/cancel", headers=headers)
        assert cancel.status_code == 404
    cancelled = await api.post(f"/messages/{test['id']}/cancel", headers=customer.test)
    assert cancelled.json()["data"]["status"] == "cancelled"
