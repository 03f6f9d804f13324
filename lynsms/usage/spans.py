"""How a window of time splits between the rollup and the messages themselves.

The rollup (``usage_rollup``) holds whole UTC hours and whole UTC days. A window
``[start, end)`` reads its whole days from the day rows, the whole hours at its
edges from the hour rows, and the part hours at its very edges (at most two hours
of messages) from the messages. A day the rollup cannot vouch for (a message of it
changed since the last refresh) is read from the messages whatever its place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Hours:
    """Hours ``[first, last)`` of one UTC ``day`` (``last`` may be 24)."""

    day: str
    first: int
    last: int


@dataclass(slots=True)
class Plan:
    """Where each part of a window is read from."""

    direct: list[tuple[datetime, datetime]] = field(default_factory=list)
    hours: list[Hours] = field(default_factory=list)
    days: tuple[str, str] | None = None  # day rows [first, last)
    skipped_days: list[str] = field(default_factory=list)  # within ``days``, read directly

    @property
    def uses_rollup(self) -> bool:
        return bool(self.hours) or self.days is not None


def plan(start: datetime, end: datetime, dirty: set[str]) -> Plan:
    """Split ``[start, end)``; ``dirty`` days are read from the messages."""
    try:
        return _plan(start, end, dirty)
    except OverflowError:  # an edge within an hour of the calendar's end: read it all
        return Plan(direct=[(start, end)])


def _plan(start: datetime, end: datetime, dirty: set[str]) -> Plan:
    result = Plan()
    first_hour, last_hour = _ceil(start, HOUR), _floor(end, HOUR)
    if first_hour >= last_hour:
        _direct(result, start, end)
        return result
    _direct(result, start, first_hour)
    _direct(result, last_hour, end)
    first_day, last_day = _ceil(first_hour, DAY), _floor(last_hour, DAY)
    if first_day > last_day:  # within one day
        _hours(result, first_hour, last_hour, dirty)
        return result
    _hours(result, first_hour, first_day, dirty)
    _hours(result, last_day, last_hour, dirty)
    if first_day < last_day:
        result.days = (day_of(first_day), day_of(last_day))
        result.skipped_days = sorted(d for d in dirty if result.days[0] <= d < result.days[1])
        for day in result.skipped_days:
            midnight = midnight_of(day)
            _direct(result, midnight, midnight + DAY)
    return result


def day_of(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def midnight_of(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.min, tzinfo=UTC)


def day_ranges(days: set[str]) -> list[tuple[datetime, datetime]]:
    """Consecutive ``days`` merged into ``[start, end)`` ranges of time."""
    ranges: list[tuple[datetime, datetime]] = []
    for day in sorted(days):
        midnight = midnight_of(day)
        if ranges and ranges[-1][1] == midnight:
            ranges[-1] = (ranges[-1][0], midnight + DAY)
        else:
            ranges.append((midnight, midnight + DAY))
    return ranges


def _direct(result: Plan, start: datetime, end: datetime) -> None:
    if start < end:
        result.direct.append((start, end))


def _hours(result: Plan, start: datetime, end: datetime, dirty: set[str]) -> None:
    if start >= end:
        return
    if day_of(start) in dirty:
        _direct(result, start, end)
        return
    first = start.astimezone(UTC).hour
    result.hours.append(Hours(day_of(start), first, first + int((end - start) / HOUR)))


def _floor(moment: datetime, unit: timedelta) -> datetime:
    moment = moment.astimezone(UTC)
    midnight = datetime.combine(moment.date(), time.min, tzinfo=UTC)
    return midnight + unit * ((moment - midnight) // unit)


def _ceil(moment: datetime, unit: timedelta) -> datetime:
    floor = _floor(moment, unit)
    return floor if floor == moment else floor + unit
