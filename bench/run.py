"""`make bench`: LynSMS's send path against a bare Starlette endpoint, measured in one run.

Starts `lynsms serve` (SQLite, simulator, in-process dispatcher) and the bare
endpoint with the same uvicorn settings, loads each with wrk, checks that every
accepted message is durably stored, and writes bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.wrk import WrkResult, run_wrk

RESULTS = Path(__file__).parent / "results" / "latest.json"
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str) -> None:
    for _ in range(300):
        try:
            httpx.get(url + "/healthz", timeout=1)
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


def start(command: list[str], env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_ready(url) if "lynsms" in command else time.sleep(1.5)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


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


def bulk_body(count: int) -> str:
    recipients = [f"+1303{2_000_000 + i:07d}" for i in range(count)]  # assigned numbers
    return json.dumps(
        {
            "from": "LynSMS",
            "body": "Tickets for tonight are still available",
            "recipients": recipients,
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
    )
    try:
        single = run_wrk(
            url, "/api/v1/messages/send", "x", connections=CONNECTIONS, seconds=SECONDS
        )
    finally:
        stop(process)
    return summarize(single)


def bench_lynsms(env: dict[str, str], db_path: Path) -> dict[str, Any]:
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
    key = cli(env, "keys", "create", "--account", account["id"], "--env", "live")["key"]
    cli(env, "senders", "approve", account["id"], "LynSMS")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start([sys.executable, "-m", "lynsms", "serve", "--port", str(port)], env, url)
    try:
        single = run_wrk(
            url, "/api/v1/messages/send", key, connections=CONNECTIONS, seconds=SECONDS
        )
        rss_single = rss_mb(process.pid)
        bulk = run_wrk(
            url, "/api/v1/messages/bulk", key, connections=4, seconds=SECONDS, body=bulk_body(1000)
        )
        rss_bulk = rss_mb(process.pid)
    finally:
        stop(process)
    stored = sqlite3.connect(db_path).execute("SELECT count(*) FROM messages").fetchone()[0]
    accepted = (single.requests - single.non_2xx) + (bulk.requests - bulk.non_2xx) * 1000
    return {
        "single": summarize(single),
        "bulk_1000": summarize(bulk, 1000),
        "rss_mb": {"after_single": round(rss_single, 1), "after_bulk": round(rss_bulk, 1)},
        "durability": {"accepted_by_wrk": accepted, "stored": stored, "ok": stored >= accepted},
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LYNSMS_")}
        env.update(
            LYNSMS_DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
            LYNSMS_LOG_LEVEL="ERROR",
            PYTHONPATH=str(Path(__file__).parent.parent),
        )
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
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
