"""How a window splits between the rollup's days and hours and the messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from lynsms.usage.spans import DAY, HOUR, Hours, Plan, hour_of, midnight_of, plan

T = datetime(2026, 11, 25, 13, 55, 51, 123456, tzinfo=UTC)


def pieces(split: Plan) -> list[tuple[datetime, datetime]]:
    """Every part of a plan as a span of time, sorted."""
    parts = list(split.direct)
    for hours in split.hours:
        midnight = midnight_of(hours.day)
        parts.append((midnight + HOUR * hours.first, midnight + HOUR * hours.last))
    if split.days is not None:
        first, last = midnight_of(split.days[0]), midnight_of(split.days[1])
        day = first
        while day < last:
            if day.date().isoformat() not in split.skipped_days:
                parts.append((day, day + DAY))
            day += DAY
    return sorted(parts)


def assert_partition(split: Plan, start: datetime, end: datetime) -> None:
    parts = pieces(split)
    assert parts[0][0] == start and parts[-1][1] == end
    for (_, high), (low, _) in pairwise(parts):
        assert high == low  # no gap, no overlap


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (T - timedelta(days=30), T + timedelta(seconds=1)),
        (T, T + timedelta(minutes=3)),
        (T.replace(hour=23, minute=30), T.replace(hour=23, minute=30) + timedelta(hours=1)),
        (T.replace(hour=22, minute=30), T.replace(hour=22, minute=30) + timedelta(hours=3)),
        (midnight_of("2026-11-01"), midnight_of("2026-11-25")),
        (midnight_of("2026-11-01") + HOUR, midnight_of("2026-11-02") + HOUR),
        (T - timedelta(days=2), T),
    ],
)
def test_the_parts_cover_the_window_exactly_once(start, end):
    split = plan(start, end, set())
    assert_partition(split, start, end)
    dirty = {hour_of(start + DAY), hour_of(start), hour_of(start + HOUR), hour_of(end - HOUR)}
    assert_partition(plan(start, end, dirty), start, end)


def test_a_long_window_reads_at_most_two_part_hours_of_messages():
    split = plan(T - timedelta(days=30), T, set())
    assert sum((high - low for low, high in split.direct), timedelta()) < 2 * HOUR
    assert split.days == ("2026-10-27", "2026-11-25")


def test_dirty_hours_are_read_from_the_messages_and_the_rest_of_their_day_by_hour():
    split = plan(T - timedelta(days=30), T, {"2026-11-01T05", "2026-11-01T06", "2026-11-25T03"})
    assert split.skipped_days == ["2026-11-01"]
    five = midnight_of("2026-11-01") + 5 * HOUR
    assert (five, five + 2 * HOUR) in split.direct
    assert Hours("2026-11-01", 0, 5) in split.hours
    assert Hours("2026-11-01", 7, 24) in split.hours
    assert Hours("2026-11-25", 0, 3) in split.hours
    assert Hours("2026-11-25", 4, 13) in split.hours


def test_an_edge_at_the_end_of_the_calendar_is_read_from_the_messages():
    start = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
    end = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    assert plan(start, end, set()).direct == [(start, end)]
