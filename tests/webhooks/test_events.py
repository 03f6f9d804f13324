"""GET /events and GET /events/{id}: filters, pagination, modes, ownership."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from lynsms.database import session_scope
from lynsms.webhooks.events import event_row, events
from tests.factories import create_customer
from tests.webhooks.conftest import events_of, send

SILENT = "+15005550008"


async def test_message_events_listed_newest_first_with_filters(hapi, owner):
    first = await send(hapi, owner.live)
    second = await send(hapi, owner.live, SILENT)
    await events_of(hapi, owner.live, first, 2)  # sent and delivered
    listed = (await hapi.get("/events", headers=owner.live)).json()
    assert listed["pagination"]["total_items"] == 3
    assert [e["object"] for e in listed["data"]] == ["event"] * 3
    ids = [e["id"] for e in listed["data"]]
    assert ids == sorted(ids, reverse=True)
    by_type = await hapi.get("/events", params={"type": "message.sent"}, headers=owner.live)
    assert {e["data"]["id"] for e in by_type.json()["data"]} == {first, second}
    by_message = await hapi.get("/events", params={"message_id": second}, headers=owner.live)
    assert [e["type"] for e in by_message.json()["data"]] == ["message.sent"]


async def test_pagination_and_time_filters(hapi, owner, hooks_server):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(5):  # ids order by the millisecond they were made in: one apart each
        rows.append(
            event_row(
                owner.account_id,
                "live",
                "contact.opted_out",
                {"n": n},
                at=base + timedelta(hours=n),
            )
        )
        time.sleep(0.002)
    async with session_scope(hooks_server.runtime.database, write=True) as session:
        await session.execute(events.insert(), rows)
    params = {"type": "contact.opted_out", "limit": 2}
    page = (await hapi.get("/events", params={**params, "page": 2}, headers=owner.live)).json()
    assert [e["data"]["n"] for e in page["data"]] == [2, 1]
    assert page["pagination"] == {
        "page": 2,
        "limit": 2,
        "total_items": 5,
        "total_pages": 3,
        "has_next": True,
        "has_prev": True,
    }
    window = {
        "type": "contact.opted_out",
        "created_after": "2026-01-01T01:00:00+00:00",
        "created_before": "2026-01-01T05:00:00+02:00",  # 03:00 UTC, exclusive
    }
    found = (await hapi.get("/events", params=window, headers=owner.live)).json()["data"]
    assert [e["data"]["n"] for e in found] == [2, 1]
    naive = {"created_after": "2026-01-01T04:00:00", "type": "contact.opted_out"}
    found = (await hapi.get("/events", params=naive, headers=owner.live)).json()["data"]
    assert [e["data"]["n"] for e in found] == [4]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"type": "message.exploded"}, "type"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"page": 0}, "page"),
    ],
)
async def test_bad_filters_are_422(hapi, owner, params, param):
    response = await hapi.get("/events", params=params, headers=owner.live)
    assert response.status_code == 422
    assert response.json()["error"]["param"] == param


async def test_events_are_per_mode(hapi, owner):
    test_message = await send(hapi, owner.test, SILENT)
    (event,) = await events_of(hapi, owner.test, test_message, 1)
    live_list = (await hapi.get("/events", headers=owner.live)).json()["data"]
    assert event["id"] not in [e["id"] for e in live_list]
    assert (await hapi.get(f"/events/{event['id']}", headers=owner.live)).status_code == 404
    assert (await hapi.get(f"/events/{event['id']}", headers=owner.test)).status_code == 200


async def test_another_accounts_event_is_not_found(hapi, owner, hooks_server):
    message_id = await send(hapi, owner.live, SILENT)
    (event,) = await events_of(hapi, owner.live, message_id, 1)
    stranger = await create_customer(hooks_server.runtime)
    response = await hapi.get(f"/events/{event['id']}", headers=stranger.live)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert (await hapi.get("/events", headers=stranger.live)).json()["data"] == []
    missing = await hapi.get("/events/evt_nope", headers=owner.live)
    assert missing.status_code == 404
