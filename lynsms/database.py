"""Engines, sessions, and the only places that commit for requests.

Two ways to write:

- ``get_db_session``: the request session dependency; commits when the
  endpoint returns, rolls back when it raises. For everything off the hot path.
- ``Writer`` (``lynsms.writer``): group commit for the send path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from lynsms.config import Settings
from lynsms.writer import Writer

__all__ = ["Database", "DbSession", "session_scope"]


def create_engine(settings: Settings) -> AsyncEngine:
    if not settings.is_sqlite:
        # As many connections as before (pool size + as many overflow), all kept: overflow
        # connections are closed when handed back, so a busy API reconnected (TLS probe,
        # authentication) on most requests. Above that, requests wait for a connection.
        return create_async_engine(
            settings.database_url,
            pool_size=2 * settings.database.pool_size,
            max_overflow=0,
            pool_pre_ping=True,
        )
    engine = create_async_engine(settings.database_url, pool_size=settings.database.pool_size)
    configure_sqlite(engine, settings.database.sqlite_synchronous, busy_timeout(settings))
    return engine


def busy_timeout(settings: Settings) -> int:
    """SQLite's busy timeout in milliseconds."""
    return int(settings.database.sqlite_busy_timeout * 1000)


def configure_sqlite(
    engine: AsyncEngine | Engine,
    synchronous: str,
    busy_ms: int = 15_000,
    cache_kib: int = 65_536,
) -> None:
    """WAL, busy timeout, foreign keys, and explicit BEGIN (IMMEDIATE for writers)."""

    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            f"synchronous={synchronous}",
            f"busy_timeout={busy_ms}",
            "foreign_keys=ON",
            f"cache_size=-{cache_kib}",  # index pages of a large messages table stay in memory
            "temp_store=MEMORY",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def write_engine(settings: Settings, engine: AsyncEngine) -> AsyncEngine:
    """Where writing transactions run.

    SQLite allows one writer at a time, and a connection that finds the lock taken sleeps
    in SQLite's busy handler (milliseconds at a time). So this process writes through one
    connection: writers queue on the pool, not in SQLite. Its transactions BEGIN IMMEDIATE
    (the lock at BEGIN: no read-to-write upgrade deadlocks). PostgreSQL shares one pool.
    """
    if not settings.is_sqlite:
        return engine
    writes = create_async_engine(
        settings.database_url, pool_size=1, max_overflow=0, pool_timeout=60
    )
    configure_sqlite(writes, settings.database.sqlite_synchronous, busy_timeout(settings))
    return writes.execution_options(sqlite_begin="IMMEDIATE")


def is_unavailable(exc: BaseException) -> bool:
    """A database that cannot be reached (as opposed to a bug in a statement)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if _sqlstate(exc).startswith(_UNAVAILABLE_STATES):
        return True
    return isinstance(exc, OSError | ConnectionError) or "could not connect" in str(exc).lower()


# PostgreSQL's connection exceptions (class 08) and its refusals while it shuts down,
# crashes or starts up (57P01-57P03: "the database system is starting up").
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03")


def _sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of the driver error behind ``exc`` (asyncpg), or ""."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str):
            return state
        seen = getattr(seen, "orig", None) or seen.__cause__
    return ""


class Database:
    """The engines and session factories of one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = create_engine(settings)
        self.writes = write_engine(settings, self.engine)
        # Single-statement reads without BEGIN and ROLLBACK (two round trips on PostgreSQL);
        # on SQLite the engine itself (its connections BEGIN explicitly).
        self.autocommit = (
            self.engine
            if settings.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = async_sessionmaker(self.writes, expire_on_commit=False)
        # SQLite has one writer at a time; writers of this process queue here, not in SQLite's
        # busy handler (which sleeps milliseconds at a time).
        self.write_lock = asyncio.Lock() if settings.is_sqlite else None
        self.writer = Writer(settings, self.writes, self.write_lock)

    async def start(self) -> None:
        self.writer.start()

    async def close(self) -> None:
        await self.writer.stop()
        await self.engine.dispose()
        await self.writes.dispose()


@asynccontextmanager
async def session_scope(database: Database, *, write: bool) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit if the block returns, roll back if it raises."""
    if write and database.write_lock is not None:
        async with database.write_lock, _scope(database.write_sessions) as session:
            yield session
        return
    async with _scope(database.write_sessions if write else database.read_sessions) as session:
        yield session


@asynccontextmanager
async def _scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def get_database(request: Request) -> Database:
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
