"""The window: dates and timestamps with any offset, its edges, the 30-day default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import create_customer
from tests.usage.flows import SILENT, backdate, breakdown, send, usage

SENT_AT = {  # silent messages (they stay "sent"), created at these instants
    "last of the 9th": datetime(2026, 3, 9, 23, 59, 59, 999999, tzinfo=UTC),
    "first of the 10th": datetime(2026, 3, 10, tzinfo=UTC),
    "noon of the 10th": datetime(2026, 3, 10, 12, tzinfo=UTC),
    "last of the 10th": datetime(2026, 3, 10, 23, 59, 59, 999999, tzinfo=UTC),
    "first of the 11th": datetime(2026, 3, 11, tzinfo=UTC),
    # the 10th in Brazil, but the 11th in UTC: days are UTC days
    "late on the 10th at -02:00": datetime(2026, 3, 10, 23, 30, tzinfo=UTC) + timedelta(hours=2),
}


@pytest.fixture
async def dated(api, server):
    customer = await create_customer(server.runtime)
    for when in SENT_AT.values():
        message = await send(api, customer.live, SILENT)
        await backdate(server.runtime, message["id"], when)
    return customer


async def count(api, customer, **params) -> int:
    messages: int = (await usage(api, customer.live, **params))["totals"]["messages"]
    return messages


async def test_a_date_to_includes_that_whole_day(api, dated):
    data = await usage(api, dated.live, from_="2026-03-10", to="2026-03-10")
    assert data["totals"]["messages"] == 3
    assert (data["from"], data["to"]) == ("2026-03-10T00:00:00+00:00", "2026-03-11T00:00:00+00:00")


async def test_by_day_in_utc(api, dated):
    data = await usage(api, dated.live, from_="2026-03-09", to="2026-03-11", group_by="day")
    assert {day: row["messages"] for day, row in breakdown(data).items()} == {
        "2026-03-09": 1,
        "2026-03-10": 3,
        "2026-03-11": 2,
    }
    assert data["totals"]["messages"] == 6 and data["totals"]["cost"] == 0.3


@pytest.mark.parametrize(
    ("start", "end", "messages"),
    [
        ("2026-03-10T00:00:00Z", "2026-03-10T23:59:59.999999Z", 2),  # to is exclusive
        ("2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z", 3),
        ("2026-03-09T23:59:59.999999Z", "2026-03-10T00:00:00Z", 1),  # from is inclusive
        ("2026-03-10T01:00:00+01:00", "2026-03-10T12:00:00", 1),  # any offset; none is UTC
        ("2026-03-10T00:00:00.000001Z", "2026-03-10", 2),
        ("2026-03-11T00:00:00Z", "2026-03-11T00:00:00.000001Z", 1),
    ],
)
async def test_timestamps(api, dated, start, end, messages):
    assert await count(api, dated, from_=start, to=end) == messages


async def test_the_window_is_shown_as_applied_in_utc(api, dated):
    data = await usage(api, dated.live, from_="2026-03-10T01:00:00+01:00", to="2026-03-10T12:00")
    assert (data["from"], data["to"]) == ("2026-03-10T00:00:00+00:00", "2026-03-10T12:00:00+00:00")


async def test_an_unencoded_plus_in_the_offset_still_counts(api, dated):
    response = await api.get(
        "/usage?from=2026-03-10T01:00:00+01:00&to=2026-03-10T13:00:00+01:00", headers=dated.live
    )
    data = response.json()["data"]
    assert (data["from"], data["to"]) == ("2026-03-10T00:00:00+00:00", "2026-03-10T12:00:00+00:00")
    assert data["totals"]["messages"] == 1


@pytest.fixture
async def recent(api, server):
    """Messages of 31 and 29 days ago, and one just now."""
    customer = await create_customer(server.runtime)
    now = datetime.now(UTC)
    for days in (31, 29):
        message = await send(api, customer.live, SILENT)
        await backdate(server.runtime, message["id"], now - timedelta(days=days))
    await send(api, customer.live, SILENT)
    return customer


async def test_the_default_is_the_last_30_days(api, recent):
    before = datetime.now(UTC)
    data = await usage(api, recent.live)
    start, end = datetime.fromisoformat(data["from"]), datetime.fromisoformat(data["to"])
    assert end - start == timedelta(days=30)
    assert before <= end <= datetime.now(UTC) + timedelta(seconds=1)
    assert data["totals"]["messages"] == 2


async def test_from_alone_runs_to_now(api, recent):
    start = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    data = await usage(api, recent.live, from_=start)
    assert data["totals"]["messages"] == 2
    assert datetime.fromisoformat(data["to"]) >= datetime.now(UTC) - timedelta(seconds=5)


async def test_to_alone_takes_the_30_days_before_it(api, recent):
    end = datetime.now(UTC) - timedelta(days=28)
    data = await usage(api, recent.live, to=end.isoformat())
    start = datetime.fromisoformat(data["from"])
    assert datetime.fromisoformat(data["to"]) - start == timedelta(days=30)
    assert data["totals"]["messages"] == 2  # 31 and 29 days ago, not today's
