"""`make bench`: LynSMS's send path against a bare Starlette endpoint, measured in one run.

Starts `lynsms serve` (SQLite, simulator, in-process dispatcher) and the bare
endpoint with the same uvicorn settings, loads each with wrk, checks that every
accepted message is durably stored, then measures scheduled-send lateness
(bench/scheduled.py) and webhook deliveries per second (bench/webhooks.py), and
writes everything into bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from bench import scheduled, webhooks
from bench.common import (
    RESULTS,
    SENDER,
    free_port,
    lynsms_server,
    numbers,
    rss_mb,
    start,
    stop,
    summarize,
    temp_env,
)
from bench.wrk import run_wrk

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = 50


def bulk_body(count: int) -> str:
    return json.dumps(
        {
            "from": SENDER,
            "body": "Tickets for tonight are still available",
            "recipients": numbers(0, count),
        }
    )


def bench_bare(env: dict[str, str]) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare:app",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env,
        url,
        ready_path=None,
    )
    try:
        single = run_wrk(
            url, "/api/v1/messages/send", "x", connections=CONNECTIONS, seconds=SECONDS
        )
    finally:
        stop(process)
    return summarize(single)


def bench_lynsms(env: dict[str, str], db_path: Path) -> dict[str, Any]:
    with lynsms_server(env, db_path) as server:
        url, key, pid = server.url, server.key, server.process.pid
        single = run_wrk(
            url, "/api/v1/messages/send", key, connections=CONNECTIONS, seconds=SECONDS
        )
        rss_single = rss_mb(pid)
        bulk = run_wrk(
            url, "/api/v1/messages/bulk", key, connections=4, seconds=SECONDS, body=bulk_body(1000)
        )
        rss_bulk = rss_mb(pid)
    stored = sqlite3.connect(db_path).execute("SELECT count(*) FROM messages").fetchone()[0]
    accepted = (single.requests - single.non_2xx) + (bulk.requests - bulk.non_2xx) * 1000
    return {
        "single": summarize(single),
        "bulk_1000": summarize(bulk, 1000),
        "rss_mb": {"after_single": round(rss_single, 1), "after_bulk": round(rss_bulk, 1)},
        "durability": {"accepted_by_wrk": accepted, "stored": stored, "ok": stored >= accepted},
    }


def main() -> None:
    with temp_env() as (env, db_path):
        bare = bench_bare(env)
        ours = bench_lynsms(env, db_path)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "settings": {
            "seconds": SECONDS,
            "connections_single": CONNECTIONS,
            "connections_bulk": 4,
            "database": "sqlite (WAL, synchronous=FULL)",
            "provider": "simulator",
        },
        "bare_starlette": bare,
        "lynsms_sqlite": ours,
        "ratio_single_to_bare": round(ours["single"]["requests_per_s"] / bare["requests_per_s"], 3),
        "scheduled": scheduled.measure(),
        "webhooks": webhooks.measure(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
