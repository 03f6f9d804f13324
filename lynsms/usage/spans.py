"""How a window of time splits between the rollup and the messages themselves.

The rollup (``usage_rollup``) holds whole UTC hours and whole UTC days. A window
``[start, end)`` reads its whole days from the day rows, the whole hours at its
edges from the hour rows, and the part hours at its very edges (at most two hours
of messages) from the messages. An hour the rollup cannot vouch for (a message of
it changed since the last refresh) is read from the messages whatever its place,
and the rest of its day from the hour rows.

Hours are named ``2026-11-25T13`` (UTC), days ``2026-11-25``.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    skipped_days: list[str] = field(default_factory=list)  # within ``days``, read by hour

    @property
    def uses_rollup(self) -> bool:
        return bool(self.hours) or self.days is not None


def plan(start: datetime, end: datetime, dirty: set[str]) -> Plan:
    """Split ``[start, end)``; ``dirty`` hours are read from the messages."""
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
        dirty_days = {hour[:10] for hour in dirty}
        result.skipped_days = sorted(d for d in dirty_days if result.days[0] <= d < result.days[1])
        for day in result.skipped_days:
            midnight = midnight_of(day)
            _hours(result, midnight, midnight + DAY, dirty)
    return result


def day_of(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def hour_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def midnight_of(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.min, tzinfo=UTC)


def start_of(hour: str) -> datetime:
    return midnight_of(hour[:10]) + HOUR * int(hour[11:13])


def day_ranges(days: set[str]) -> list[tuple[datetime, datetime]]:
    """Consecutive ``days`` merged into ``[start, end)`` ranges of midnights."""
    return _merged((midnight_of(day) for day in sorted(days)), DAY)


def hour_ranges(hours: set[str]) -> list[tuple[datetime, datetime]]:
    """Consecutive ``hours`` merged into ``[start, end)`` ranges of time."""
    return _merged((start_of(hour) for hour in sorted(hours)), HOUR)


def _merged(starts: Iterable[datetime], unit: timedelta) -> list[tuple[datetime, datetime]]:
    ranges: list[tuple[datetime, datetime]] = []
    for low in starts:
        if ranges and ranges[-1][1] == low:
            ranges[-1] = (ranges[-1][0], low + unit)
        else:
            ranges.append((low, low + unit))
    return ranges


def _direct(result: Plan, start: datetime, end: datetime) -> None:
    if not start < end:
        return
    if result.direct and result.direct[-1][1] == start:
        result.direct[-1] = (result.direct[-1][0], end)
    else:
        result.direct.append((start, end))


def _hours(result: Plan, start: datetime, end: datetime, dirty: set[str]) -> None:
    """Whole hours ``[start, end)`` of one day: clean runs from the rollup, dirty ones not."""
    moment = start
    while moment < end:
        clean = hour_of(moment) not in dirty
        run = moment
        while run < end and (hour_of(run) not in dirty) == clean:
            run += HOUR
        if clean:
            first = moment.astimezone(UTC).hour
            result.hours.append(Hours(day_of(moment), first, first + int((run - moment) / HOUR)))
        else:
            _direct(result, moment, run)
        moment = run


def _floor(moment: datetime, unit: timedelta) -> datetime:
    moment = moment.astimezone(UTC)
    midnight = datetime.combine(moment.date(), time.min, tzinfo=UTC)
    return midnight + unit * ((moment - midnight) // unit)


def _ceil(moment: datetime, unit: timedelta) -> datetime:
    floor = _floor(moment, unit)
    return floor if floor == moment else floor + unit
