"""What the benchmarks share: ports, processes, a LynSMS server with an account, figures."""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.wrk import WrkResult

ROOT = Path(__file__).parent.parent
RESULTS = Path(__file__).parent / "results" / "latest.json"
SENDER = "LynSMS"
RATE_LIMIT = 1_000_000  # requests per minute of the bench's key (the most a key may have)
PG_ADMIN_DSN = os.environ.get("LYNSMS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BENCH_DATABASE = "lynsms_bench"  # a throwaway database, dropped after each use
BACKENDS = ("sqlite", "postgresql")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(
    url: str, path: str = "/healthz", process: subprocess.Popen[bytes] | None = None
) -> None:
    for _ in range(300):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            httpx.get(url + path, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "lynsms", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(
    command: list[str],
    env: dict[str, str],
    url: str,
    ready_path: str | None = "/healthz",
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start a server (its output into ``log``, if given); wait for ``ready_path`` to
    answer (or 1.5 s when None)."""
    if log is None:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    else:
        with log.open("ab") as output:  # the child keeps its own descriptor
            process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
    if ready_path is None:
        time.sleep(1.5)
    else:
        wait_ready(url, ready_path, process)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def bench_env(db_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a server on ``db_path``: no LYNSMS_* of the caller's, ``extra`` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNSMS_")}
    env.update(
        LYNSMS_DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
        LYNSMS_LOG_LEVEL="ERROR",
        LYNSMS_SECRET_KEY="bench-secret-key-not-for-production",
        LYNSMS_MEDIA_DIR=str(db_path.parent / "media"),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


@contextmanager
def temp_env(**extra: str) -> Iterator[tuple[dict[str, str], Path]]:
    """A fresh temporary SQLite database and the environment of a server using it."""
    with tempfile.TemporaryDirectory(prefix="lynsms-bench-") as tmp:
        db_path = Path(tmp) / "bench.db"
        yield bench_env(db_path, **extra), db_path


@contextmanager
def backend_env(backend: str, **extra: str) -> Iterator[tuple[dict[str, str], Path]]:
    """``temp_env`` on ``backend``: SQLite, or a fresh PostgreSQL database ``lynsms_bench``
    (127.0.0.1:5432, or ``LYNSMS_TEST_PG``) dropped afterwards. The path is the SQLite
    file (unused on PostgreSQL: its directory holds the server's log)."""
    if backend == "sqlite":
        with temp_env(**extra) as found:
            yield found
        return
    drop = f'DROP DATABASE IF EXISTS "{PG_BENCH_DATABASE}" WITH (FORCE)'
    asyncio.run(pg_fetch(PG_ADMIN_DSN, drop))
    asyncio.run(pg_fetch(PG_ADMIN_DSN, f'CREATE DATABASE "{PG_BENCH_DATABASE}"'))
    try:
        url = pg_url(PG_BENCH_DATABASE).replace("postgresql://", "postgresql+asyncpg://", 1)
        with temp_env(LYNSMS_DATABASE_URL=url, **extra) as found:
            yield found
    finally:
        asyncio.run(pg_fetch(PG_ADMIN_DSN, drop))


def pg_url(name: str) -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name


def pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


async def pg_fetch(dsn: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(row) for row in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


def as_epoch(value: Any) -> float | None:
    """A timestamp read from either database (SQLite text, PostgreSQL datetime) as epoch s."""
    if value is None or isinstance(value, str):
        return db_time(value)
    moment: datetime = value
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@dataclass(frozen=True)
class Server:
    """A running ``lynsms serve`` with a funded live account allowed to send as ``SENDER``."""

    url: str
    key: str
    account_id: str
    db_path: Path
    process: subprocess.Popen[bytes]
    pg_dsn: str | None = None  # asyncpg's DSN when the server runs on PostgreSQL

    def client(self, timeout: float = 60.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key}"}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=timeout)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the server's database (SQLite in WAL: readers do not block its writer; on
        PostgreSQL the ``?`` placeholders become ``$n``)."""
        if self.pg_dsn is not None:
            parts = sql.split("?")
            numbered = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
            return asyncio.run(pg_fetch(self.pg_dsn, numbered, *params))
        db = sqlite3.connect(self.db_path, timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()


def create_account(env: dict[str, str]) -> tuple[str, str]:
    """A funded account, a live key with every scope (its rate limit far above what the
    load reaches), and its approved sender: (id, key)."""
    account = cli(
        env,
        "accounts",
        "create",
        "--name",
        "Bench",
        "--email",
        "bench@example.com",
        "--balance",
        "100000000",
    )
    key = cli(
        env,
        "keys",
        "create",
        "--account",
        account["id"],
        "--env",
        "live",
        "--rate-limit-per-minute",
        str(RATE_LIMIT),
    )["key"]
    cli(env, "senders", "approve", account["id"], SENDER)
    return account["id"], key


@contextmanager
def lynsms_server(env: dict[str, str], db_path: Path, *serve_args: str) -> Iterator[Server]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"LYNSMS_SERVER__PUBLIC_URL": url, **env}  # where providers send callbacks
    account_id, key = create_account(env)
    command = [sys.executable, "-m", "lynsms", "serve", "--port", str(port), *serve_args]
    log = db_path.parent / "server.log"
    process = start(command, env, url, log=log)
    database_url = env["LYNSMS_DATABASE_URL"]
    pg_dsn = (
        database_url.replace("+asyncpg", "", 1) if database_url.startswith("postgres") else None
    )
    try:
        yield Server(url, key, account_id, db_path, process, pg_dsn)
    except BaseException:
        print(f"--- the server's last log lines:\n{log_tail(log)}", file=sys.stderr)
        raise
    finally:
        stop(process)


def log_tail(log: Path, lines: int = 20) -> str:
    """The last lines of a log (the temporary directory holding it goes with the run)."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def numbers(start: int, count: int) -> list[str]:
    """``count`` distinct assigned US numbers, from the ``start``-th on."""
    return [f"+1303{2_000_000 + i:07d}" for i in range(start, start + count)]


def summarize(result: WrkResult, per_request: int = 1) -> dict[str, Any]:
    return {
        "requests_per_s": round(result.rps, 1),
        "messages_per_s": round(result.rps * per_request, 1),
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "requests": result.requests,
        "non_2xx": result.non_2xx,
        "socket_errors": result.errors,
    }


def percentiles(values: Sequence[float], digits: int = 1) -> dict[str, Any]:
    """count, p50, p99 and max (nearest rank) of ``values``; None figures when empty."""
    ordered = sorted(values)

    def rank(p: float) -> float | None:
        if not ordered:
            return None
        return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], digits)

    return {"count": len(ordered), "p50": rank(50), "p99": rank(99), "max": rank(100)}


def iso_ms(moment: float) -> str:
    """An epoch time as ISO-8601 UTC with milliseconds (what ``send_at`` takes)."""
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")


def db_time(value: str | None) -> float | None:
    """A timestamp as SQLite stores it (naive UTC text) as epoch seconds."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def id_time(public_id: str | None) -> float | None:
    """The creation time a LynSMS id carries (7 base62 characters of milliseconds after
    the prefix), as epoch seconds; None when the id is not of that shape."""
    if not public_id or "_" not in public_id:
        return None
    stamp = public_id.split("_", 1)[1][:7]
    if len(stamp) != 7 or any(char not in _BASE62 for char in stamp):
        return None
    millis = 0
    for char in stamp:
        millis = millis * 62 + _BASE62.index(char)
    return millis / 1000


def merge_results(section: str, figures: dict[str, Any]) -> None:
    """Write one measurement into latest.json, keeping the other measurements there."""
    report: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    report[section] = figures
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
