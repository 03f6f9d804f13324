"""`make bench`: every figure of issue 6, on SQLite and on PostgreSQL, in one run.

A bare Starlette endpoint first (same uvicorn settings: the yardstick), then per
database: single sends (wrk, 50 connections) and bulk sends (1,000 recipients,
4 connections) through the simulator, with a check that every accepted message
is stored and the server's RSS; end to end through the worker to the Twilio
fake in its own process and the delivery reports back (bench/e2e.py);
scheduled-send lateness (bench/scheduled.py); webhook deliveries
(bench/webhooks.py); a campaign of 20,000 contacts dispatched through the worker to
the Twilio fake (bench/campaigns.py); then, once, a 100,000-row contacts CSV import
on SQLite (bench/contacts.py). ``GET /messages`` and ``GET /usage`` at 10k and 1M stored
messages take minutes to load, so they are read from the last
``python -m bench.usage`` (bench/results/usage.json, its date given) unless
``BENCH_USAGE=1``. Writes bench/results/latest.json and the README's table.

``BENCH_SECONDS`` (default 10) per wrk run; ``BENCH_BACKENDS`` (default
``sqlite,postgresql``; PostgreSQL is skipped when 127.0.0.1:5432 does not answer);
``BENCH_README=0`` leaves the README alone.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench import campaigns, contacts, e2e, readme, scheduled, usage, webhooks
from bench.common import (
    RESULTS,
    SENDER,
    backend_env,
    free_port,
    lynsms_server,
    numbers,
    pg_available,
    rss_mb,
    start,
    stop,
    summarize,
    temp_env,
)
from bench.wrk import run_wrk

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = 50
BULK_CONNECTIONS = 4
USAGE_RESULTS = Path(__file__).parent / "results" / "usage.json"


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
    command = [sys.executable, "-m", "uvicorn", "bench.bare:app", "--port", str(port)]
    command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
    process = start([*command, "--log-level", "warning"], env, url, ready_path=None)
    try:
        single = run_wrk(
            url, "/api/v1/messages/send", "x", connections=CONNECTIONS, seconds=SECONDS
        )
    finally:
        stop(process)
    return summarize(single)


def bench_sends(backend: str) -> dict[str, Any]:
    with backend_env(backend) as (env, db_path), lynsms_server(env, db_path) as server:
        url, key, pid = server.url, server.key, server.process.pid
        single = run_wrk(
            url, "/api/v1/messages/send", key, connections=CONNECTIONS, seconds=SECONDS
        )
        rss_single = rss_mb(pid)
        bulk = run_wrk(
            url,
            "/api/v1/messages/bulk",
            key,
            connections=BULK_CONNECTIONS,
            seconds=SECONDS,
            body=bulk_body(1000),
        )
        rss_bulk = rss_mb(pid)
        stored = server.query("SELECT count(*) FROM messages")[0][0]
    accepted = (single.requests - single.non_2xx) + (bulk.requests - bulk.non_2xx) * 1000
    return {
        "single": summarize(single),
        "bulk_1000": summarize(bulk, 1000),
        "rss_mb": {"after_single": round(rss_single, 1), "after_bulk": round(rss_bulk, 1)},
        "durability": {"accepted_by_wrk": accepted, "stored": stored, "ok": stored >= accepted},
    }


def bench_backend(backend: str, bare_rps: float) -> dict[str, Any]:
    started = time.monotonic()
    sends = bench_sends(backend)
    figures = {
        **sends,
        "ratio_single_to_bare": round(sends["single"]["requests_per_s"] / bare_rps, 3),
        "e2e": e2e.measure(backend),
        "scheduled": scheduled.measure(backend),
        "webhooks": webhooks.measure(backend),
        "campaigns": campaigns.measure(backend),
    }
    figures["run_s"] = round(time.monotonic() - started, 1)
    return figures


def usage_figures() -> dict[str, Any]:
    """GET /usage and GET /messages at 10k and 1M: measured now with BENCH_USAGE=1, else the
    last bench/results/usage.json (``source`` says which)."""
    if os.environ.get("BENCH_USAGE") == "1":
        usage.main()
        source = "measured in this run (python -m bench.usage)"
    else:
        source = "bench/results/usage.json of an earlier run (python -m bench.usage)"
    if not USAGE_RESULTS.exists():
        return {"source": "none: run python -m bench.usage"}
    measured = json.loads(USAGE_RESULTS.read_text())
    return {"source": source, "when": measured.get("when"), **_usage_p99(measured)}


def _usage_p99(measured: dict[str, Any]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for backend in ("sqlite", "postgresql"):
        sizes = measured.get(backend)
        if not isinstance(sizes, dict) or "skipped" in sizes:
            continue
        figures[backend] = {
            size: {
                route: by_connections["c1"]["p99_ms"]
                for route, by_connections in routes.items()
                if isinstance(by_connections, dict) and "c1" in by_connections
            }
            for size, routes in sizes.items()
        }
    return {"p99_ms_one_connection": figures}


def backends() -> list[str]:
    wanted = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")
    return [name for name in wanted if name == "sqlite" or pg_available()]


def main() -> None:
    started = time.monotonic()
    report: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cores": os.cpu_count(),
            "cpu": _cpu_model(),
            "python": platform.python_version(),
            "load_average_at_start": [round(n, 2) for n in os.getloadavg()],
        },
        "settings": {
            "seconds_per_wrk_run": SECONDS,
            "connections_single": CONNECTIONS,
            "connections_bulk": BULK_CONNECTIONS,
            "sqlite": "WAL, synchronous=FULL",
            "provider": "simulator (sends); Twilio fake in its own process (e2e)",
        },
    }
    with temp_env() as (env, _):
        report["bare_starlette"] = bench_bare(env)
    bare_rps = report["bare_starlette"]["requests_per_s"]
    for backend in backends():
        report[backend] = bench_backend(backend, bare_rps)
    report["usage"] = usage_figures()
    report["contacts"] = contacts.bench_sqlite()  # the CSV import (COPY on PostgreSQL)
    report["machine"]["load_average_at_end"] = [round(n, 2) for n in os.getloadavg()]
    report["run_s"] = round(time.monotonic() - started, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    if os.environ.get("BENCH_README", "1") != "0":
        readme.update(report)
    print(json.dumps(report, indent=2))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
