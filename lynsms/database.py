"""Engines, sessions, and the only places that commit for requests.

Two ways to write:

- ``get_db_session``: the request session dependency; commits when the
  endpoint returns, rolls back when it raises. For everything off the hot path.
- ``Writer``: group commit for the send path. Requests hand it ``WriteOp``s
  (balance debits, rows to insert, rows to update) and wait; one task applies
  every op that is waiting in one transaction and resolves each request after
  the commit. A request therefore answers only once its rows are durable, and
  a thousand concurrent requests cost a handful of commits, not a thousand.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Table, bindparam, event, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.dml import Update

from lynsms.config import Settings
from lynsms.exceptions import InsufficientBalance, ServiceUnavailable
from lynsms.kit.metrics import WRITER_BATCH
from lynsms.models import Account, Base

log = logging.getLogger("lynsms.database")
_accounts: Table = Account.__table__  # type: ignore[assignment]
_TABLE_ORDER = {table: index for index, table in enumerate(Base.metadata.sorted_tables)}


def create_engine(settings: Settings) -> AsyncEngine:
    if not settings.is_sqlite:
        return create_async_engine(
            settings.database_url,
            pool_size=settings.database.pool_size,
            max_overflow=settings.database.pool_size,
            pool_pre_ping=True,
        )
    engine = create_async_engine(settings.database_url, pool_size=settings.database.pool_size)
    _configure_sqlite(engine, settings.database.sqlite_synchronous)
    return engine


def _configure_sqlite(engine: AsyncEngine, synchronous: str) -> None:
    """WAL, busy timeout, foreign keys, and explicit BEGIN (IMMEDIATE for writers)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            f"synchronous={synchronous}",
            "busy_timeout=15000",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def write_engine(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, but SQLite transactions take the write lock at BEGIN (no upgrade deadlocks)."""
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def is_unavailable(exc: BaseException) -> bool:
    """A database that cannot be reached (as opposed to a bug in a statement)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OSError | ConnectionError) or "could not connect" in str(exc).lower()


class Database:
    """The engines and session factories of one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = create_engine(settings)
        self.writes = write_engine(self.engine)
        self.read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = async_sessionmaker(self.writes, expire_on_commit=False)
        self.writer = Writer(self.writes, settings.database.batch_max)

    async def start(self) -> None:
        self.writer.start()

    async def close(self) -> None:
        await self.writer.stop()
        await self.engine.dispose()


@asynccontextmanager
async def session_scope(database: Database, *, write: bool) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit if the block returns, roll back if it raises."""
    factory = database.write_sessions if write else database.read_sessions
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_db_session(
    request: Request, database: Annotated[Database, Depends(get_database)]
) -> AsyncIterator[AsyncSession]:
    """The request session: committed when the endpoint returns, rolled back if it raises."""
    async with session_scope(database, write=request.method not in ("GET", "HEAD")) as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_db_session, scope="function")]


def on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's transaction has committed."""
    event.listen(session.sync_session, "after_commit", lambda _s: callback(), once=True)


@dataclass
class WriteOp:
    """What one request needs written, applied all-or-nothing inside a group commit."""

    debit: tuple[str, int] | None = None  # (account_id, units) taken only if the balance allows
    inserts: list[tuple[Table, list[dict[str, Any]]]] = field(default_factory=list)
    updates: list[tuple[Update, list[dict[str, Any]]]] = field(default_factory=list)

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> WriteOp:
        if rows:
            self.inserts.append((table, rows))
        return self

    def update(self, statement: Update, rows: list[dict[str, Any]]) -> WriteOp:
        if rows:
            self.updates.append((statement, rows))
        return self


@dataclass
class _Pending:
    op: WriteOp
    future: asyncio.Future[None]


_DEBIT = (
    update(_accounts)
    .where(_accounts.c.id == bindparam("account"))
    .where(_accounts.c.balance_units >= bindparam("units"))
    .values(balance_units=_accounts.c.balance_units - bindparam("units"))
)


class Writer:
    """Group commit: applies every waiting ``WriteOp`` in one transaction."""

    def __init__(self, engine: AsyncEngine, batch_max: int) -> None:
        self._engine = engine
        self._batch_max = batch_max
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

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

    async def submit(self, op: WriteOp) -> None:
        """Return once ``op`` is committed; raise ``InsufficientBalance`` or a database error."""
        if self._task is None:
            await self._commit([_Pending(op, asyncio.get_running_loop().create_future())])
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(op, future))
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
            async with self._engine.begin() as conn:
                outcomes = await _apply(conn, [pending.op for pending in batch])
        except Exception as exc:
            if len(batch) > 1:
                for pending in batch:  # isolate the op that broke the batch
                    await self._commit([pending])
                return
            _settle(batch[0].future, _database_error(exc))
            return
        for pending, outcome in zip(batch, outcomes, strict=True):
            _settle(pending.future, outcome)


def _settle(future: asyncio.Future[None], outcome: BaseException | None) -> None:
    if future.done():
        return
    if outcome is None:
        future.set_result(None)
    else:
        future.set_exception(outcome)


def _database_error(exc: Exception) -> BaseException:
    if is_unavailable(exc):
        log.error("database unavailable: %s", type(exc).__name__)
        return ServiceUnavailable("The database is unavailable; retry shortly.")
    return exc


async def _apply(conn: AsyncConnection, ops: list[WriteOp]) -> list[BaseException | None]:
    refused = await _debit(conn, ops)
    accepted = [op for op, error in zip(ops, refused, strict=True) if error is None]
    await _insert(conn, accepted)
    await _update(conn, accepted)
    return refused


async def _debit(conn: AsyncConnection, ops: list[WriteOp]) -> list[BaseException | None]:
    """Take every op's debits; all at once per account when the balance allows, else op by op."""
    outcomes: list[BaseException | None] = [None] * len(ops)
    totals: dict[str, int] = {}
    for op in ops:
        if op.debit:
            totals[op.debit[0]] = totals.get(op.debit[0], 0) + op.debit[1]
    for account, units in totals.items():
        if (await conn.execute(_DEBIT, {"account": account, "units": units})).rowcount:
            continue
        for index, op in enumerate(ops):
            if op.debit and op.debit[0] == account:
                outcomes[index] = await _debit_one(conn, account, op.debit[1])
    return outcomes


async def _debit_one(conn: AsyncConnection, account: str, units: int) -> BaseException | None:
    if units == 0 or (await conn.execute(_DEBIT, {"account": account, "units": units})).rowcount:
        return None
    return InsufficientBalance("The account balance does not cover this request.")


async def _insert(conn: AsyncConnection, ops: list[WriteOp]) -> None:
    grouped: dict[Table, list[dict[str, Any]]] = {}
    for op in ops:
        for table, rows in op.inserts:
            grouped.setdefault(table, []).extend(rows)
    for table in sorted(grouped, key=lambda t: _TABLE_ORDER[t]):
        await conn.execute(table.insert(), grouped[table])


async def _update(conn: AsyncConnection, ops: list[WriteOp]) -> None:
    runs: list[tuple[Update, list[dict[str, Any]]]] = []
    for op in ops:
        for statement, rows in op.updates:
            if runs and runs[-1][0] is statement:
                runs[-1][1].extend(rows)
            else:
                runs.append((statement, list(rows)))
    for statement, rows in runs:
        await conn.execute(statement, rows)
