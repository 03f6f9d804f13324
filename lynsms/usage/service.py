"""Usage (API.md §6, §10): what an account sent, and was charged, over a window of time.

- The window is ``[from, to)`` on each message's ``created_at``, in UTC. ``from``
  and ``to`` take a date (``2026-11-25``) or an ISO-8601 timestamp (any offset;
  none means UTC). A date ``from`` starts at that day's midnight; a date ``to``
  includes that whole day (the window ends at the next midnight). The default is
  the 30 days up to now (rounded up to the next second); with one bound given,
  the other is now (``from`` alone) or 30 days before it (``to`` alone).
  An empty window (``from`` not before ``to``) is 422. The response shows
  the window as applied.
- Only the caller's own messages count, and only those of its key's
  environment: a test key sees test-mode usage, a live key live usage.
  Outbound messages only; inbound ones are free and are not usage.
- ``messages`` and ``segments`` count every message created in the window,
  whatever its status (scheduled and cancelled ones too).
- ``cost`` is what stays charged: the money each message reserved at accept
  (its ``cost``; segments prepaid packages covered are not money), less what
  was refunded, so ``failed``, ``expired`` and ``cancelled`` messages
  count 0 and the live figure equals the ledger's debits net of refunds.
  ``undelivered`` messages were carried by a provider and stay charged; a
  message still ``scheduled``, ``queued`` or ``sent`` counts what it holds now.
  Test-mode messages never touch the balance: their cost is their price, what
  live sends would reserve without packages.
- ``delivered`` counts ``delivered``; ``failed`` counts the messages that
  ended without reaching the handset: ``failed``, ``undelivered`` and
  ``expired`` (a cancellation is the customer's choice, not a failure).
- ``group_by`` (``day``, ``provider``, ``country``, ``status``) adds one
  breakdown row per key that has messages, in ascending key order (days in
  UTC; messages no provider took have the provider ``null``, listed last).
  Without ``group_by`` the breakdown is empty.
- The figures come from the rollup (``lynsms.usage.repository``) where it holds
  and from the messages elsewhere; the rollup is refreshed here, lazily.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lynsms.database import Database, session_scope
from lynsms.exceptions import ValidationFailed
from lynsms.kit.clock import isoformat, parse_timestamp, utcnow
from lynsms.kit.money import to_number
from lynsms.usage.repository import NEVER, Standing, Tally, UsageRepository
from lynsms.usage.rollup import RollupRepository
from lynsms.usage.spans import DAY, day_of, midnight_of

DEFAULT_WINDOW = timedelta(days=30)
REFRESH_AFTER = timedelta(seconds=10)
# "+02:00" arrives as " 02:00" when a client does not percent-encode the plus sign.
_SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


async def usage(
    database: Database,
    account_id: str,
    mode: str,
    raw_from: str | None,
    raw_to: str | None,
    group_by: str | None,
) -> dict[str, Any]:
    now = utcnow()
    start, end = window(raw_from, raw_to, now)
    tallies = await _tally(database, account_id, mode, start, end, group_by, now)
    breakdown = [] if group_by is None else sorted(tallies, key=_order)
    return {
        "object": "usage",
        "from": isoformat(start),
        "to": isoformat(end),
        "totals": _figures(_total(tallies)),
        "breakdown": [{"key": tally.key, **_figures(tally)} for tally in breakdown],
    }


async def _tally(
    database: Database,
    account_id: str,
    mode: str,
    start: datetime,
    end: datetime,
    group_by: str | None,
    now: datetime,
) -> list[Tally]:
    """The tallies, after refreshing the rollup if it is due (``needs_refresh``)."""
    async with session_scope(database, write=False) as session:
        repository = UsageRepository(session)
        standing = await repository.standing(account_id, mode)
        if not needs_refresh(standing, now):
            return await repository.tally(account_id, mode, start, end, group_by, standing)
    await refresh(database, account_id, mode, now)
    async with session_scope(database, write=False) as session:
        return await UsageRepository(session).tally(account_id, mode, start, end, group_by)


async def refresh(database: Database, account_id: str, mode: str, now: datetime) -> None:
    """Bring the rollup of ``account_id``'s ``mode`` up to ``now``: recompute the hours
    that changed; the first time, build it a day per transaction (on SQLite the one
    writer is never held longer than a day of messages takes)."""
    async with session_scope(database, write=True) as session:
        repository = RollupRepository(session)
        watermark = await repository.lock_state(account_id, mode)
        if watermark > NEVER:
            hours = await repository.forget_marks(account_id, mode)
            hours |= await repository.dirty_hours(account_id, mode, watermark)
            await repository.recompute_hours(account_id, mode, hours)
            await repository.set_watermark(account_id, mode, now)
            return
        await repository.forget_marks(account_id, mode)
        history = await repository.history(account_id, mode)
        first, last = (day_of(moment) for moment in history or (now, now))
        await repository.forget_outside(account_id, mode, first, day_of(midnight_of(last) + DAY))
    day = midnight_of(first)
    while day <= midnight_of(last):
        async with session_scope(database, write=True) as session:
            repository = RollupRepository(session)
            await repository.lock_state(account_id, mode)
            await repository.recompute_days(account_id, mode, day, day + DAY)
        day += DAY
    async with session_scope(database, write=True) as session:
        repository = RollupRepository(session)
        await repository.lock_state(account_id, mode)
        await repository.set_watermark(account_id, mode, now)


def needs_refresh(standing: Standing | None, now: datetime) -> bool:
    """When the rollup was never built, or messages changed since it was refreshed
    ``REFRESH_AFTER`` ago or more (answers are exact either way: until then, the days
    that changed are read from the messages)."""
    if standing is None:
        return True
    return bool(standing.dirty) and standing.watermark <= now - REFRESH_AFTER


def window(raw_from: str | None, raw_to: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The ``[start, end)`` the query asks for (defaults in the module docstring)."""
    end = _bound(raw_to, "to", end=True) if raw_to else _next_second(now)
    start = _bound(raw_from, "from", end=False) if raw_from else _shift(end, -DEFAULT_WINDOW, "to")
    if start >= end:
        raise ValidationFailed("'from' must be before 'to'.", param="from")
    return start, end


def _next_second(now: datetime) -> datetime:
    """Now, rounded up to a whole second: the default window ends after the latest send."""
    return now.replace(microsecond=0) + timedelta(seconds=1)


def _bound(raw: str, param: str, *, end: bool) -> datetime:
    text = raw.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return _instant(text, param)
    midnight = datetime.combine(day, time.min, tzinfo=UTC)
    return _shift(midnight, timedelta(days=1), param) if end else midnight


def _instant(text: str, param: str) -> datetime:
    try:
        return parse_timestamp(_SPACED_OFFSET.sub(r"\1+\2", text))
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed(
            f"'{param}' must be a date (2026-11-25) or an ISO-8601 timestamp.", param=param
        ) from exc


def _shift(moment: datetime, delta: timedelta, param: str) -> datetime:
    try:
        return moment + delta
    except OverflowError as exc:
        raise ValidationFailed(f"'{param}' is out of range.", param=param) from exc


def _total(tallies: list[Tally]) -> Tally:
    return Tally(
        key=None,
        messages=sum(t.messages for t in tallies),
        segments=sum(t.segments for t in tallies),
        cost_units=sum(t.cost_units for t in tallies),
        delivered=sum(t.delivered for t in tallies),
        failed=sum(t.failed for t in tallies),
    )


def _figures(tally: Tally) -> dict[str, Any]:
    return {
        "messages": tally.messages,
        "segments": tally.segments,
        "cost": to_number(tally.cost_units),
        "delivered": tally.delivered,
        "failed": tally.failed,
    }


def _order(tally: Tally) -> tuple[bool, str]:
    return tally.key is None, tally.key or ""
