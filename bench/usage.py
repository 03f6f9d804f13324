"""Reading at scale: GET /usage and GET /messages with 10k, then 1M messages stored.

``python -m bench.usage`` stores messages straight into a fresh database (one
``executemany`` transaction on SQLite, binary COPY on PostgreSQL; the
``messages`` indexes are dropped first and rebuilt after, as a bulk load does,
so the schema ends exactly as migrated). They spread over the last 30 days,
four providers, nine countries and every status; 90% belong to the "big"
account, the rest to nine noise accounts, but for the "small" account's 1,000
(stored with the first size only); 5% are test-mode and 2% inbound.

`lynsms serve` then runs on that database: a check that each account's usage
counts exactly the messages stored for its live key (its first GET /usage, which
builds the usage rollup the load forgot: ``first_request_ms``), then wrk loads each route
(GET /usage?group_by=day and ?group_by=country over the default 30-day window,
so every message of the account, and GET /messages?limit=50) at 1 and 4
connections. The same again once the table holds 1M messages: the big
account's figures grow with its messages, the small account's must not.
PostgreSQL (127.0.0.1:5432, or ``LYNSMS_TEST_PG``) is measured too when it
answers. Writes bench/results/usage.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from bench.common import bench_env, create_account, free_port, start, stop, summarize
from bench.wrk import WrkResult, _parse

RESULTS = Path(__file__).parent / "results" / "usage.json"
SIZES = tuple(int(n) for n in os.environ.get("BENCH_USAGE_SIZES", "10000,1000000").split(","))
SECONDS = int(os.environ.get("BENCH_USAGE_SECONDS", "3"))  # per wrk run at the first size
SECONDS_LARGE = 2 * SECONDS  # at the others: requests are slower, fewer fit
PG_ADMIN_DSN = os.environ.get("LYNSMS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ROUTES = {  # name: (path, whose key, wrk connections)
    "usage_by_day": ("/api/v1/usage?group_by=day", "big", (1, 4)),
    "usage_by_country": ("/api/v1/usage?group_by=country", "big", (1, 4)),
    "messages_list_50": ("/api/v1/messages?limit=50", "big", (1, 4)),
    "usage_by_day_1k_account": ("/api/v1/usage?group_by=day", "small", (1,)),
}
SMALL_ACCOUNT_MESSAGES = 1_000  # all stored with the first size: its usage must not grow
SMALL_SERIALS = 900_000_000  # serials of its messages, far from the others'
SPAN = 30 * 86_400.0  # seconds of history
NOISE_ACCOUNTS = 9
MAIN_SHARE = 0.9

COLUMNS = (
    "id",
    "account_id",
    "api_key_id",
    "mode",
    "direction",
    "to_number",
    "from_number",
    "body",
    "reference",
    "status",
    "encoding",
    "segments",
    "cost_units",
    "currency",
    "country",
    "provider",
    "provider_message_id",
    "route_id",
    "attempts",
    "error_code",
    "error_message",
    "expire_at",
    "send_at",
    "sent_at",
    "delivered_at",
    "created_at",
    "updated_at",
)
STATUSES = {
    "delivered": 82,
    "sent": 5,
    "undelivered": 4,
    "failed": 4,
    "cancelled": 2,
    "scheduled": 1,
    "expired": 2,
}
UNSENT = frozenset({"scheduled", "cancelled", "expired"})
COUNTRIES = {"US": 40, "GB": 15, "DE": 10, "FR": 8, "IN": 7, "BR": 5, "CA": 5, "NO": 5, "RO": 5}
CALLING_CODES = {"US": 1, "CA": 1, "GB": 44, "DE": 49, "FR": 33, "IN": 91, "BR": 55, "NO": 47}
PRICES = {"US": 79, "CA": 79, "GB": 400, "DE": 900, "FR": 700, "IN": 300, "BR": 500}
PROVIDERS = {"twilio": 40, "sinch": 30, "infobip": 20, "clicksend": 10}
BODIES = (
    "Your verification code is {n}",
    "Your order {n} has shipped and will arrive tomorrow between 9:00 and 13:00. "
    "Track it at https://example.com/t/{n}",
    "Reminder: your appointment is tomorrow at 10:00. Reply C to confirm or R to reschedule."
    " Ref {n}. Questions? Call us on +44 20 7946 0000, Monday to Friday, 8:00 to 18:00.",
)
# Rows stored behind the server's back carry old ``updated_at``s, which the usage rollup
# cannot see change: a bulk load forgets the rollup, and the first GET /usage rebuilds it.
FORGET_ROLLUP = "DELETE FROM usage_rollup_state"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_GET = """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer %(key)s"
"""

Stamp = Callable[[float], Any]  # epoch seconds -> what the database driver takes


# --- the messages ------------------------------------------------------------------------


def sqlite_time(epoch: float) -> str:
    """UTC as SQLAlchemy stores it on SQLite: ``2026-11-25 13:55:51.123456``."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def pg_time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def message_id(epoch: float, serial: int) -> str:
    """``msg_`` + 7 base62 characters of milliseconds + 18 more: time-ordered like ``new_id``."""
    millis, chars = int(epoch * 1000), []
    for _ in range(7):
        millis, rest = divmod(millis, 62)
        chars.append(_BASE62[rest])
    return "msg_" + "".join(reversed(chars)) + f"{serial:018d}"


def _pick(rnd: random.Random, weights: dict[str, int], count: int) -> list[str]:
    return rnd.choices(list(weights), list(weights.values()), k=count)


def message_rows(
    count: int, first: int, owners: dict[str, float], now: float, stamp: Stamp
) -> Iterator[tuple[Any, ...]]:
    """``count`` messages (serials from ``first``) over the 30 days before ``now``, shared
    among ``owners`` (account id: weight)."""
    rnd = random.Random(first)
    draws = zip(
        sorted(now - rnd.random() * SPAN for _ in range(count)),
        rnd.choices(list(owners), list(owners.values()), k=count),
        rnd.choices(("live", "test"), (95, 5), k=count),
        rnd.choices(("outbound", "inbound"), (98, 2), k=count),
        _pick(rnd, STATUSES, count),
        _pick(rnd, COUNTRIES, count),
        _pick(rnd, PROVIDERS, count),
        rnd.choices((1, 2, 3), (80, 15, 5), k=count),
        strict=True,
    )
    for serial, draw in enumerate(draws, start=first):
        yield _row(serial, *draw, stamp=stamp)


def _row(
    serial: int,
    at: float,
    account: str,
    mode: str,
    direction: str,
    status: str,
    country: str,
    provider: str,
    segments: int,
    *,
    stamp: Stamp,
) -> tuple[Any, ...]:
    inbound = direction == "inbound"
    status = "received" if inbound else status
    taken = inbound or status not in UNSENT
    provider_name = (provider if mode == "live" or inbound else "simulator") if taken else None
    failed = status in ("failed", "undelivered")
    number = f"+{CALLING_CODES.get(country, 40)}{700_000_000 + serial % 99_999_999}"
    created = stamp(at)
    return (
        message_id(at, serial),
        account,
        None if inbound else "key_bench",
        "live" if inbound else mode,
        direction,
        "+447700900001" if inbound else number,
        number if inbound else "LynSMS",
        BODIES[serial % len(BODIES)].format(n=serial),
        f"order-{serial}" if serial % 3 == 0 else None,
        status,
        "GSM-7",
        segments,
        0 if inbound else segments * PRICES.get(country, 500),
        "USD",
        country,
        provider_name,
        f"{'in' if inbound else 'pm'}{serial}" if taken else None,
        None if inbound or not taken else 1,
        0 if inbound else 1,
        "30003" if failed else None,
        "Unreachable destination handset" if failed else None,
        None if inbound else stamp(at + 172_800),
        stamp(at + 3_600) if status == "scheduled" else None,
        created if taken and not inbound else None,
        stamp(at + 4.2) if status == "delivered" else None,
        created,
        created,
    )


def live_outbound(rows: Iterable[tuple[Any, ...]], account: str) -> int:
    """How many messages GET /usage should count for ``account``'s live key."""
    return sum(1 for row in rows if row[1] == account and row[3] == "live" and row[4] == "outbound")


@dataclass
class Tenant:
    """An account whose live key the bench reads with, and what its usage must count."""

    account_id: str
    key: str
    expected: int = 0


# --- SQLite ------------------------------------------------------------------------------


def sqlite_accounts(db_path: Path, count: int) -> list[str]:
    ids = [f"acct_noise{n:020d}" for n in range(count)]
    with sqlite3.connect(db_path) as db:
        db.executemany(
            "INSERT INTO accounts (id, name, email, currency, balance_units, created_at)"
            " VALUES (?, 'Noise', 'noise@example.com', 'USD', 0, '2026-01-01 00:00:00.000000')",
            [(account,) for account in ids],
        )
    return ids


def sqlite_load(db_path: Path, rows: Iterable[tuple[Any, ...]]) -> None:
    """One transaction: drop the messages indexes, insert, rebuild them, checkpoint."""
    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        indexes = db.execute(
            "SELECT name, sql FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL"
        ).fetchall()
        db.execute("BEGIN IMMEDIATE")
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        marks = ", ".join("?" * len(COLUMNS))
        db.executemany(f"INSERT INTO messages ({', '.join(COLUMNS)}) VALUES ({marks})", rows)
        for _, sql in indexes:
            db.execute(sql)
        db.execute(FORGET_ROLLUP)
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def sqlite_size_mb(db_path: Path) -> float:
    return round(db_path.stat().st_size / 1e6, 1)


# --- PostgreSQL --------------------------------------------------------------------------


def pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


async def _pg(dsn: str, sql: str, *args: Any) -> Any:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def pg_dsn(name: str) -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name


def pg_accounts(dsn: str, count: int) -> list[str]:
    ids = [f"acct_noise{n:020d}" for n in range(count)]
    asyncio.run(
        _pg(
            dsn,
            "INSERT INTO accounts (id, name, email, currency, balance_units, created_at)"
            " SELECT id, 'Noise', 'noise@example.com', 'USD', 0, now() FROM unnest($1::text[]) id",
            ids,
        )
    )
    return ids


async def _pg_copy(dsn: str, rows: Iterable[tuple[Any, ...]]) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE tablename = 'messages' AND indexname <> 'pk_messages'"
        )
        async with conn.transaction():
            for index in indexes:
                await conn.execute(f'DROP INDEX "{index["indexname"]}"')
            await conn.copy_records_to_table("messages", records=rows, columns=list(COLUMNS))
            for index in indexes:
                await conn.execute(index["indexdef"])
            await conn.execute(FORGET_ROLLUP)
        await conn.execute("VACUUM (ANALYZE) messages")  # what autovacuum does soon after
    finally:
        await conn.close()


def pg_load(dsn: str, rows: Iterable[tuple[Any, ...]]) -> None:
    asyncio.run(_pg_copy(dsn, rows))


def pg_size_mb(dsn: str) -> float:
    rows = asyncio.run(_pg(dsn, "SELECT pg_database_size(current_database()) AS size"))
    return round(int(rows[0]["size"]) / 1e6, 1)


# --- measuring ---------------------------------------------------------------------------


def run_get(url: str, key: str, *, connections: int, seconds: int) -> WrkResult:
    """wrk GETs of ``url`` (bench.wrk's scripts POST)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(_GET % {"key": key})
    command = ["wrk", "-t", str(min(2, connections)), "-c", str(connections)]
    command += ["-d", f"{seconds}s", "--latency", "--timeout", "30s", "-s", handle.name, url]
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        Path(handle.name).unlink()
    return _parse(out)


def check_usage(url: str, tenant: Tenant, now: float) -> dict[str, Any]:
    """The tenant's live usage over all of its history counts every message stored."""
    params = {"from": _iso(now - SPAN - 60), "to": _iso(now + 60)}
    headers = {"Authorization": f"Bearer {tenant.key}"}
    started = time.monotonic()
    response = httpx.get(url + "/api/v1/usage", params=params, headers=headers, timeout=120)
    first_ms = round((time.monotonic() - started) * 1000, 1)
    response.raise_for_status()
    counted = response.json()["data"]["totals"]["messages"]
    return {
        "expected_messages": tenant.expected,
        "counted": counted,
        "ok": counted == tenant.expected,
        "first_request_ms": first_ms,  # builds the usage rollup of the tenant's live messages
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def load_route(url: str, key: str, connections: int, seconds: int) -> dict[str, Any]:
    httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=120)  # warm the caches
    result = run_get(url, key, connections=connections, seconds=seconds)
    if result.requests == 0:
        return {"requests": 0, "note": f"no request finished within {seconds} s"}
    return summarize(result)


def measure_routes(url: str, tenants: dict[str, Tenant], seconds: int) -> dict[str, Any]:
    return {
        name: {
            f"c{count}": load_route(url + path, tenants[whose].key, count, seconds)
            for count in connections
        }
        for name, (path, whose, connections) in ROUTES.items()
    }


def serve_and_measure(
    env: dict[str, str], tenants: dict[str, Tenant], now: float, seconds: int
) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.gettempdir()) / f"lynsms-bench-usage-{port}.log"
    process = start(
        [sys.executable, "-m", "lynsms", "serve", "--port", str(port)], env, url, log=log
    )
    try:
        checks = {name: check_usage(url, tenant, now) for name, tenant in tenants.items()}
        return {"checks": checks, **measure_routes(url, tenants, seconds)}
    finally:
        stop(process)
        log.unlink(missing_ok=True)


# --- one backend at two sizes -------------------------------------------------------------


class Backend(Protocol):
    """Where the messages go: accounts, bulk load and size, per database."""

    name: str
    env: dict[str, str]

    def add_accounts(self, count: int) -> list[str]: ...
    def load(self, rows: Iterable[tuple[Any, ...]]) -> None: ...
    def size_mb(self) -> float: ...


@dataclass
class SqliteBackend:
    env: dict[str, str]
    db_path: Path
    name: str = "sqlite"

    def add_accounts(self, count: int) -> list[str]:
        return sqlite_accounts(self.db_path, count)

    def load(self, rows: Iterable[tuple[Any, ...]]) -> None:
        sqlite_load(self.db_path, rows)

    def size_mb(self) -> float:
        return sqlite_size_mb(self.db_path)


@dataclass
class PostgresBackend:
    env: dict[str, str]
    dsn: str
    name: str = "postgresql"

    def add_accounts(self, count: int) -> list[str]:
        return pg_accounts(self.dsn, count)

    def load(self, rows: Iterable[tuple[Any, ...]]) -> None:
        pg_load(self.dsn, rows)

    def size_mb(self) -> float:
        return pg_size_mb(self.dsn)


def bench_backend(backend: Backend) -> dict[str, Any]:
    """The first size, measure; top up to the next, measure again."""
    tenants = {name: Tenant(*create_account(backend.env)) for name in ("big", "small")}
    noise = backend.add_accounts(NOISE_ACCOUNTS)
    owners = {tenants["big"].account_id: MAIN_SHARE}
    owners.update((account, (1 - MAIN_SHARE) / len(noise)) for account in noise)
    stamp = sqlite_time if backend.name == "sqlite" else pg_time
    now, stored, figures = time.time(), 0, {}
    for size in SIZES:
        rows = [] if stored else list(small_account_rows(tenants["small"], now, stamp))
        rows += message_rows(size - stored - len(rows), stored, owners, now, stamp)
        seconds = SECONDS_LARGE if stored else SECONDS
        figures[f"{size}"] = load_and_measure(backend, rows, tenants, now, seconds)
        stored = size
    return figures


def small_account_rows(tenant: Tenant, now: float, stamp: Stamp) -> Iterator[tuple[Any, ...]]:
    owner = {tenant.account_id: 1.0}
    return message_rows(SMALL_ACCOUNT_MESSAGES, SMALL_SERIALS, owner, now, stamp)


def load_and_measure(
    backend: Backend,
    rows: list[tuple[Any, ...]],
    tenants: dict[str, Tenant],
    now: float,
    seconds: int,
) -> dict[str, Any]:
    started = time.monotonic()
    backend.load(rows)
    loaded_s = round(time.monotonic() - started, 1)
    for tenant in tenants.values():
        tenant.expected += live_outbound(rows, tenant.account_id)
    return {
        "load_s": loaded_s,
        "database_mb": backend.size_mb(),
        **serve_and_measure(backend.env, tenants, now, seconds),
    }


def bench_sqlite() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lynsms-bench-usage-") as tmp:
        db_path = Path(tmp) / "bench.db"
        return bench_backend(SqliteBackend(bench_env(db_path), db_path))


def bench_postgres() -> dict[str, Any]:
    if not pg_available():
        return {"skipped": "PostgreSQL is not reachable on 127.0.0.1:5432"}
    name = f"lynsms_bench_usage_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg(PG_ADMIN_DSN, f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory(prefix="lynsms-bench-usage-") as tmp:
            url = pg_dsn(name).replace("postgresql://", "postgresql+asyncpg://")
            env = bench_env(Path(tmp) / "unused.db", LYNSMS_DATABASE_URL=url)
            return bench_backend(PostgresBackend(env, pg_dsn(name)))
    finally:
        asyncio.run(_pg(PG_ADMIN_DSN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    started = time.monotonic()
    report: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": [round(n, 2) for n in os.getloadavg()],
        },
        "settings": {
            "seconds_per_wrk_run": {"first_size": SECONDS, "larger_sizes": SECONDS_LARGE},
            "sizes": list(SIZES),
            "history_days": SPAN / 86_400,
            "measured_account_share": MAIN_SHARE,
            "routes": {
                name: f"{path} ({whose} account)" for name, (path, whose, _) in ROUTES.items()
            },
            "small_account_messages": SMALL_ACCOUNT_MESSAGES,
            "provider": "none called: messages are stored, not sent",
        },
        "sqlite": bench_sqlite(),
        "postgresql": bench_postgres(),
    }
    report["run_s"] = round(time.monotonic() - started, 1)
    report["machine"]["load_average_at_end"] = [round(n, 2) for n in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
