"""Group commit for the send path (the second committer, beside ``database.session_scope``).

Requests hand the ``Writer`` a ``WriteOp`` (a debit, rows to insert, rows to
update, rows built once the debit is known) and wait. One task takes every op
that is waiting and applies them in one transaction; each request is answered
only after that commit. A thousand concurrent sends cost a handful of
commits, and an answered send is always durable.

A batch is applied by plain synchronous code (``_apply``): on SQLite in one
dedicated thread with its own connection (one hop off the event loop per
batch, not one per statement), on PostgreSQL through ``run_sync`` on the async
connection. If an op breaks a batch, each op is retried alone so that only the
broken one fails. A debit that prepaid packages and the balance together
cannot cover refuses only its own op (``lynsms.billing.reserve``: packages
first, then money).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.selectable import Select

from lynsms.billing.reserve import Debit, take
from lynsms.config import Settings
from lynsms.exceptions import ServiceUnavailable
from lynsms.kit.metrics import WRITER_BATCH
from lynsms.models import Base, UTCDateTime

log = logging.getLogger("lynsms.writer")
_TABLE_ORDER = {table: index for index, table in enumerate(Base.metadata.sorted_tables)}
_INSERTS = {table: table.insert() for table in Base.metadata.sorted_tables}
Outcomes = list[BaseException | None]
Step = Callable[[Connection], "WriteOp"]


@dataclass
class WriteOp:
    """What one request needs written, applied all-or-nothing inside a group commit."""

    debit: Debit | None = None  # taken only if packages and balance allow (billing.add_debit)
    # (select, params, error): refuse the op with ``error`` if the select finds a row.
    guard: tuple[Select[Any], dict[str, Any], Exception] | None = None
    inserts: list[tuple[Table, list[dict[str, Any]]]] = field(default_factory=list)
    updates: list[tuple[Update, list[dict[str, Any]]]] = field(default_factory=list)
    # (table, build): rows built after the debit step, on every attempt (they may show it)
    later: list[tuple[Table, Callable[[], list[dict[str, Any]]]]] = field(default_factory=list)
    # Run last, in op order: writes that depend on what the transaction reads (``then``).
    steps: list[Step] = field(default_factory=list)

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> WriteOp:
        if rows:
            self.inserts.append((table, rows))
        return self

    def update(self, statement: Update, rows: list[dict[str, Any]]) -> WriteOp:
        if rows:
            self.updates.append((statement, rows))
        return self

    def insert_later(self, table: Table, build: Callable[[], list[dict[str, Any]]]) -> WriteOp:
        """Insert what ``build()`` returns once the debit is taken (e.g. its ledger row)."""
        self.later.append((table, build))
        return self

    def then(self, step: Step) -> WriteOp:
        """Run ``step(conn)`` in the transaction after every op's inserts and updates; it
        returns the WriteOp (no debit, no guard) of what it decided to write. It may run
        more than once (a batch that fails is retried op by op): it must only read and
        decide, never keep state of its own."""
        self.steps.append(step)
        return self


@dataclass
class _Pending:
    op: WriteOp
    future: asyncio.Future[None]


class Writer:
    def __init__(self, settings: Settings, engine: AsyncEngine, lock: asyncio.Lock | None) -> None:
        self._engine = engine
        self._lock = lock
        self._batch_max = settings.database.batch_max
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._sync: Engine | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._plans = _SqlitePlans()
        if settings.is_sqlite:
            self._sync = _sqlite_engine(settings)
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lynsms-writer")

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="writer")

    async def stop(self) -> None:
        """Finish what was handed over, then stop."""
        while not self._queue.empty():
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._thread is not None:
            self._thread.shutdown(wait=True)
        if self._sync is not None:
            self._sync.dispose()

    async def submit(self, op: WriteOp) -> None:
        """Return once ``op`` is committed; raise ``InsufficientBalance`` or a database error."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        pending = _Pending(op, future)
        if self._task is None:
            await self._commit([pending])
        else:
            self._queue.put_nowait(pending)
        await asyncio.shield(future)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        WRITER_BATCH.observe(len(batch))
        try:
            outcomes = await self._transaction([pending.op for pending in batch])
        except Exception as exc:
            if len(batch) > 1:
                for pending in batch:  # isolate the op that broke the batch
                    await self._commit([pending])
                return
            _settle(batch[0].future, _database_error(exc))
            return
        for pending, outcome in zip(batch, outcomes, strict=True):
            _settle(pending.future, outcome)

    async def _transaction(self, ops: list[WriteOp]) -> Outcomes:
        if self._sync is None:
            async with self._engine.begin() as conn:
                return await conn.run_sync(_apply, ops)
        assert self._lock is not None
        assert self._thread is not None
        async with self._lock:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._thread, self._sync_transaction, ops)

    def _sync_transaction(self, ops: list[WriteOp]) -> Outcomes:
        assert self._sync is not None
        with self._sync.begin() as conn:
            return _apply(conn, ops, self._plans.execute, self._plans.fetch)


def _sqlite_engine(settings: Settings) -> Engine:
    from lynsms.database import busy_timeout, configure_sqlite

    url = settings.database_url.replace("+aiosqlite", "", 1)
    engine = create_sync_engine(url, pool_size=1, max_overflow=0)
    configure_sqlite(engine, settings.database.sqlite_synchronous, busy_timeout(settings))
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def _settle(future: asyncio.Future[None], outcome: BaseException | None) -> None:
    if future.done():
        return
    if outcome is None:
        future.set_result(None)
    else:
        future.set_exception(outcome)


def _database_error(exc: Exception) -> BaseException:
    from lynsms.database import is_unavailable

    if is_unavailable(exc):
        log.error("database unavailable: %s", type(exc).__name__)
        return ServiceUnavailable("The database is unavailable; retry shortly.")
    return exc


Execute = Callable[[Connection, Any, list[dict[str, Any]]], int]
Fetch = Callable[[Connection, Select[Any], dict[str, Any]], list[tuple[Any, ...]]]


def _sqlalchemy_execute(conn: Connection, statement: Any, rows: list[dict[str, Any]]) -> int:
    """Rows changed (DML) or found (a select)."""
    if isinstance(statement, Select):
        return len(_sqlalchemy_fetch(conn, statement, rows[0]))
    return int(conn.execute(statement, rows[0] if len(rows) == 1 else rows).rowcount)


def _sqlalchemy_fetch(
    conn: Connection, statement: Select[Any], params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.execute(statement, params)]


class _SqlitePlans:
    """Runs Core statements on the raw sqlite3 cursor: compiled once per statement, rows turned
    into tuples through the columns' own bind processors. SQLAlchemy's generic per-row work costs
    several times what SQLite spends on the row; this keeps the writer thread off the GIL."""

    def __init__(self) -> None:
        self._dialect = sqlite_dialect()
        self._plans: dict[tuple[int, tuple[str, ...]], _Plan] = {}

    def execute(self, conn: Connection, statement: Any, rows: list[dict[str, Any]]) -> int:
        keys = tuple(rows[0]) if isinstance(statement, Insert) else ()
        plan = self._plans.get((id(statement), keys)) or self._compile(statement, keys)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if isinstance(statement, Select):
                return len(cursor.execute(plan.sql, plan.params(rows[0])).fetchall())
            if len(rows) == 1:
                cursor.execute(plan.sql, plan.params(rows[0]))
            else:
                cursor.executemany(plan.sql, [plan.params(row) for row in rows])
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def fetch(
        self, conn: Connection, statement: Select[Any], params: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        """The rows a select finds (values as sqlite3 returns them: no result processing)."""
        plan = self._plans.get((id(statement), ())) or self._compile(statement, ())
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            return list(cursor.execute(plan.sql, plan.params(params)).fetchall())
        finally:
            cursor.close()

    def _compile(self, statement: Any, keys: tuple[str, ...]) -> _Plan:
        compiled = statement.compile(dialect=self._dialect, column_keys=list(keys) or None)
        names = compiled.positiontup or []
        binds = [compiled.binds[name] for name in names]
        plan = _Plan(
            sql=compiled.string,
            params=_row_to_params(
                tuple(b.key for b in binds),
                tuple(b.value for b in binds),
                tuple(self._processor(b.type) for b in binds),
            ),
        )
        self._plans[(id(statement), keys)] = plan
        return plan

    def _processor(self, kind: Any) -> Callable[[Any], Any] | None:
        if isinstance(kind, UTCDateTime):
            return _sqlite_timestamp
        processor: Callable[[Any], Any] | None = kind.dialect_impl(self._dialect).bind_processor(
            self._dialect
        )
        return processor


_TIMESTAMPS: dict[datetime, str] = {}  # recent conversions (a bulk's rows share theirs)
_TIMESTAMPS_KEPT = 4096


def _sqlite_timestamp(value: datetime | None) -> str | None:
    """What ``UTCDateTime`` stores on SQLite (naive UTC text, as SQLAlchemy writes it)."""
    if value is None:
        return None
    text = _TIMESTAMPS.get(value)
    if text is None:
        if len(_TIMESTAMPS) >= _TIMESTAMPS_KEPT:
            _TIMESTAMPS.clear()
        text = _TIMESTAMPS[value] = _timestamp_text(value)
    return text


def _timestamp_text(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    text = value.replace(tzinfo=None).isoformat(" ")
    return text if value.microsecond else text + ".000000"


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    params: Callable[[dict[str, Any]], tuple[Any, ...]]


def _row_to_params(
    names: tuple[str, ...], defaults: tuple[Any, ...], processors: tuple[Any, ...]
) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function made for one statement: ``row -> (p1, p2, ...)`` with no per-row loop
    (generated once, like ``collections.namedtuple`` does)."""
    scope: dict[str, Any] = {}
    items = []
    for index, (name, default, process) in enumerate(zip(names, defaults, processors, strict=True)):
        scope[f"d{index}"] = default
        item = f"row.get({name!r}, d{index})"
        if process is not None:
            scope[f"p{index}"] = process
            item = f"p{index}({item})"
        items.append(item)
    return eval(f"lambda row: ({', '.join(items)},)", scope)  # type: ignore[no-any-return]


def _apply(
    conn: Connection,
    ops: list[WriteOp],
    execute: Execute = _sqlalchemy_execute,
    fetch: Fetch = _sqlalchemy_fetch,
) -> Outcomes:
    guarded: Outcomes = [_guard(conn, op, execute) for op in ops]
    open_ops = [op for op, error in zip(ops, guarded, strict=True) if error is None]
    debited = iter(take(conn, [op.debit for op in open_ops], execute, fetch))
    refused = [error if error is not None else next(debited) for error in guarded]
    accepted = [op for op, error in zip(ops, refused, strict=True) if error is None]
    _insert(conn, accepted, execute)
    _update(conn, accepted, execute)
    for step in (step for op in accepted for step in op.steps):
        decided = [step(conn)]  # written before the next step reads
        _insert(conn, decided, execute)
        _update(conn, decided, execute)
    return refused


def _guard(conn: Connection, op: WriteOp, execute: Execute) -> BaseException | None:
    if op.guard is None:
        return None
    statement, params, error = op.guard
    found = execute(conn, statement, [params])
    return error if found else None


def _insert(conn: Connection, ops: list[WriteOp], execute: Execute) -> None:
    grouped: dict[Table, list[dict[str, Any]]] = {}
    for op in ops:
        for table, rows in op.inserts:
            grouped.setdefault(table, []).extend(rows)
        for table, build in op.later:
            grouped.setdefault(table, []).extend(build())
    grouped = {table: rows for table, rows in grouped.items() if rows}
    for table in sorted(grouped, key=lambda t: _TABLE_ORDER[t]):
        execute(conn, _INSERTS[table], grouped[table])


def _update(conn: Connection, ops: list[WriteOp], execute: Execute) -> None:
    runs: list[tuple[Update, list[dict[str, Any]]]] = []
    for op in ops:
        for statement, rows in op.updates:
            if runs and runs[-1][0] is statement:
                runs[-1][1].extend(rows)
            else:
                runs.append((statement, list(rows)))
    for statement, rows in runs:
        execute(conn, statement, rows)
