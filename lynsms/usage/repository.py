"""All SQL about usage: the aggregate over messages, and the rollup that spares it.

``ix_messages_usage`` (``lynsms.models.message``) leads with the columns the
direct aggregate pins (account, mode, direction), then the one it ranges on
(``created_at``): it reads the window of the caller's environment and nothing
else. At a million messages that is still a second, so the long parts of a
window come from ``usage_rollup`` (``lynsms.models.usage_rollup``): messages
summed per hour and per day, per direction, provider, country and status.

The rollup is kept lazily, per account and environment, and never trusted
blindly. Every change of a message's status or cost sets its ``updated_at``;
``usage_rollup_state.watermark`` says when the rollup was last refreshed, and an
hour is *dirty* when one of its messages changed after the watermark less
``MARGIN`` (the margin covers transactions that commit after reading the clock,
and clocks of other machines) or when one of its messages was deleted
(``usage_rollup_dirty``). A reader takes clean hours and days from the rollup and
dirty hours from the messages (``ix_messages_changes`` finds them), so every
answer is exact whether or not a refresh ran; a refresh (``lynsms.usage.rollup``)
recomputes the dirty hours only. A message's ``created_at`` never changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    Table,
    and_,
    case,
    func,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.messages import status as st
from lynsms.models import Message, UsageRollup, UsageRollupDirty, UsageRollupState
from lynsms.usage.spans import Plan, plan

messages: Table = Message.__table__  # type: ignore[assignment]
rollup: Table = UsageRollup.__table__  # type: ignore[assignment]
states: Table = UsageRollupState.__table__  # type: ignore[assignment]
marks: Table = UsageRollupDirty.__table__  # type: ignore[assignment]
m = messages.c
r = rollup.c

FAILED = (st.FAILED, st.UNDELIVERED, st.EXPIRED)
DIRECTIONS = ("inbound", "outbound")
# How late a change may commit after reading the clock (or how far another machine's clock
# may lag) and still be seen: changes this much older than the watermark are re-read.
MARGIN = timedelta(seconds=60)
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # the watermark of a rollup not built yet
# Counting the whole history: bounds far enough that every message lies within.
ALL_TIME = (NEVER, datetime(9000, 1, 1, tzinfo=UTC))

_MEASURES = (
    func.count().label("messages"),
    func.coalesce(func.sum(m.segments), 0).label("segments"),
    func.coalesce(
        func.sum(case((m.status.in_(sorted(st.REFUNDED)), 0), else_=m.cost_units)), 0
    ).label("cost_units"),
    func.count(case((m.status == st.DELIVERED, 1))).label("delivered"),
    func.count(case((m.status.in_(FAILED), 1))).label("failed"),
)
# The same figures from rolled-up rows: what stays charged follows from their status.
_ROLLED_MEASURES = (
    func.coalesce(func.sum(r.messages), 0).label("messages"),
    func.coalesce(func.sum(r.segments), 0).label("segments"),
    func.coalesce(
        func.sum(case((r.status.in_(sorted(st.REFUNDED)), 0), else_=r.cost_units)), 0
    ).label("cost_units"),
    func.coalesce(func.sum(case((r.status == st.DELIVERED, r.messages), else_=0)), 0).label(
        "delivered"
    ),
    func.coalesce(func.sum(case((r.status.in_(FAILED), r.messages), else_=0)), 0).label("failed"),
)
# Message columns a count can filter on that the rollup also holds.
ROLLED_FILTERS = frozenset({"status", "provider", "direction"})


@dataclass(frozen=True, slots=True)
class Standing:
    """How far the rollup of one account and environment holds."""

    watermark: datetime
    dirty: set[str]  # hours read from the messages (2026-11-25T13)


@dataclass(frozen=True, slots=True)
class Tally:
    """The figures of one breakdown key (``None`` for the totals of an ungrouped query)."""

    key: str | None
    messages: int
    segments: int
    cost_units: int
    delivered: int
    failed: int


class UsageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- reading -------------------------------------------------------------------------

    async def tally(
        self,
        account_id: str,
        mode: str,
        start: datetime,
        end: datetime,
        group_by: str | None,
        standing: Standing | None = None,
    ) -> list[Tally]:
        """Outbound messages created in ``[start, end)``, one tally per key of ``group_by``
        (``standing``: the rollup's, if the caller just read it)."""
        split = await self.plan(account_id, mode, start, end, standing)
        key, rolled_key = self._key(group_by), _rolled_key(group_by)
        where = self._where(account_id, mode, direction="outbound")
        parts = [
            select(key.label("key"), *_MEASURES).where(
                *where, m.created_at >= low, m.created_at < high
            )
            for low, high in split.direct
        ]
        parts += [
            select(rolled_key.label("key"), *_ROLLED_MEASURES).where(
                r.account_id == account_id, r.mode == mode, r.direction == "outbound", part
            )
            for part in _rolled_parts(split)
        ]
        if group_by is not None:
            parts = [part.group_by(part.selected_columns.key) for part in parts]
        return _merge([_tally(row) for row in await self._union(parts)])

    async def count(
        self, account_id: str, mode: str, filters: dict[str, Any], start: datetime, end: datetime
    ) -> int | None:
        """Messages created in ``[start, end)`` that match ``filters`` (columns of
        ``ROLLED_FILTERS``), counted with the rollup; None when it is not built yet."""
        standing = await self.standing(account_id, mode)
        if standing is None:
            return None
        split = plan(start, end, standing.dirty)
        where = self._where(account_id, mode, **filters)
        if "direction" not in filters:  # one range of ix_messages_usage per direction
            where.append(m.direction.in_(DIRECTIONS))
        rolled = [getattr(r, name) == value for name, value in filters.items()]
        parts = [
            select(func.count().label("n")).where(*where, m.created_at >= low, m.created_at < high)
            for low, high in split.direct
        ]
        parts += [
            select(func.coalesce(func.sum(r.messages), 0).label("n")).where(
                r.account_id == account_id, r.mode == mode, *rolled, part
            )
            for part in _rolled_parts(split)
        ]
        return sum(int(row.n) for row in await self._union(parts))

    async def direct_tally(
        self, account_id: str, mode: str, start: datetime, end: datetime, group_by: str | None
    ) -> list[Tally]:
        """``tally`` from the messages alone, ignoring the rollup."""
        standing = Standing(NEVER, set())
        return await self.tally(account_id, mode, start, end, group_by, standing)

    async def plan(
        self,
        account_id: str,
        mode: str,
        start: datetime,
        end: datetime,
        standing: Standing | None = None,
    ) -> Plan:
        """Where each part of ``[start, end)`` is read from (all from messages unbuilt)."""
        if standing is None:
            standing = await self.standing(account_id, mode)
        if standing is None or standing.watermark <= NEVER:
            return Plan(direct=[(start, end)])
        return plan(start, end, standing.dirty)

    async def standing(self, account_id: str, mode: str) -> Standing | None:
        """When the rollup was refreshed and the days it cannot vouch for; None unbuilt."""
        watermark = await self.watermark(account_id, mode)
        if watermark is None:
            return None
        return Standing(watermark, await self.dirty_hours(account_id, mode, watermark))

    async def watermark(self, account_id: str, mode: str) -> datetime | None:
        """When the rollup was last refreshed; None if it never was."""
        found = await self.session.scalar(
            select(states.c.watermark).where(
                states.c.account_id == account_id, states.c.mode == mode
            )
        )
        return None if found is None or found <= NEVER else found

    async def dirty_hours(self, account_id: str, mode: str, watermark: datetime) -> set[str]:
        """Hours the rollup cannot vouch for: a message of them changed since ``watermark``
        less ``MARGIN``, or was deleted."""
        changed = select(self._hour(m.created_at).label("hour")).where(
            m.account_id == account_id, m.mode == mode, m.updated_at > watermark - MARGIN
        )
        marked = select(marks.c.hour).where(marks.c.account_id == account_id, marks.c.mode == mode)
        return set(await self.session.scalars(changed.union(marked)))

    # --- the parts of a reading ----------------------------------------------------------

    async def _union(self, parts: list[Select[Any]]) -> Sequence[Row[Any]]:
        """The rows of every part, in one statement."""
        if not parts:
            return []
        query = parts[0] if len(parts) == 1 else union_all(*parts)
        return (await self.session.execute(query)).all()

    def _where(self, account_id: str, mode: str, **equal: Any) -> list[ColumnElement[bool]]:
        return [
            m.account_id == account_id,
            m.mode == mode,
            *(getattr(m, name) == value for name, value in equal.items()),
        ]

    def _key(self, group_by: str | None) -> ColumnElement[Any]:
        if group_by is None:
            return null()
        if group_by == "day":
            return self._day(m.created_at)
        columns: dict[str, ColumnElement[Any]] = {
            "provider": m.provider,
            "country": m.country,
            "status": m.status,
        }
        return columns[group_by]

    def _day(self, column: Any) -> ColumnElement[Any]:
        """The UTC day of a timestamp column, 2026-11-25, as text on both databases."""
        if self._dialect == "postgresql":
            return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD", type_=String)
        # SQLite stores UTC as text, "2026-11-25 13:55:51.123456": the day is its first ten.
        return func.substr(column, 1, 10, type_=String)

    def _hour(self, column: Any) -> ColumnElement[Any]:
        """The UTC hour of a timestamp column, 2026-11-25T13, as text on both databases."""
        if self._dialect == "postgresql":
            return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24', type_=String)
        return func.replace(func.substr(column, 1, 13), " ", "T", type_=String)

    def _insert(self, table: Table) -> Any:
        return (pg_insert if self._dialect == "postgresql" else sqlite_insert)(table)

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name


def _rolled_parts(split: Plan) -> Iterable[ColumnElement[bool]]:
    """One index range of ``usage_rollup`` per part of a plan the rollup answers."""
    if split.days is not None:
        first, last = split.days
        days = and_(r.bucket >= "D" + first, r.bucket < "D" + last)
        if split.skipped_days:
            days = and_(days, r.bucket.not_in(["D" + day for day in split.skipped_days]))
        yield days
    for hours in split.hours:
        low, high = f"H{hours.day}T{hours.first:02d}", f"H{hours.day}T{hours.last:02d}"
        yield and_(r.bucket >= low, r.bucket < high)


def _rolled_key(group_by: str | None) -> ColumnElement[Any]:
    if group_by is None:
        return null()
    columns: dict[str, ColumnElement[Any]] = {
        "day": func.substr(r.bucket, 2, 10, type_=String),
        "provider": func.nullif(r.provider, ""),
        "country": r.country,
        "status": r.status,
    }
    return columns[group_by]


def _merge(tallies: Sequence[Tally]) -> list[Tally]:
    """One tally per key: the sum of the parts' tallies of it."""
    merged: dict[str | None, Tally] = {}
    for tally in tallies:
        seen = merged.get(tally.key)
        merged[tally.key] = tally if seen is None else _add(seen, tally)
    return list(merged.values())


def _add(a: Tally, b: Tally) -> Tally:
    return Tally(
        key=a.key,
        messages=a.messages + b.messages,
        segments=a.segments + b.segments,
        cost_units=a.cost_units + b.cost_units,
        delivered=a.delivered + b.delivered,
        failed=a.failed + b.failed,
    )


def _tally(row: Row[Any] | Any) -> Tally:
    key = row.key
    return Tally(
        key=key.isoformat() if isinstance(key, date) else key,
        messages=int(row.messages),
        segments=int(row.segments),
        cost_units=int(row.cost_units),
        delivered=int(row.delivered),
        failed=int(row.failed),
    )
