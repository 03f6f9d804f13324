"""End to end through the worker to an HTTP provider, then delivery reports back.

``python -m bench.e2e [sqlite|postgresql]`` starts the Twilio fake as its own
process (``python -m tests.fakes.twilio``) and `lynsms serve` configured with it
alone, with a send budget of 0.2 s: a bulk request dispatches what it can in that time, and
the in-process worker hands most messages to the fake over HTTP. wrk loads
``/messages/bulk`` (1,000 recipients) for ``SECONDS``; then the bench waits
until no message is left queued.

Figures: messages accepted per second; messages the provider took (``sent_at``,
committed after its answer) per second *during* the load and from the first
send to the last; how long the backlog took to drain after the load. Then the
delivery reports: a signed Twilio status callback (``delivered``) for each sent
message, POSTed by wrk to ``/callbacks/twilio/status`` (each report once), and
how many messages became ``delivered`` per second. Writes "e2e" into
bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import (
    SENDER,
    Server,
    as_epoch,
    backend_env,
    free_port,
    lynsms_server,
    merge_results,
    numbers,
    rss_mb,
    start,
    stop,
    summarize,
)
from bench.wrk import run_wrk, run_wrk_lines

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
BULK_CONNECTIONS = 4
REPORT_CONNECTIONS = 50
PATIENCE = 120.0  # seconds after the load for the backlog to reach the provider
SID = "AC" + "0" * 31 + "1"  # the fake's account (any well-formed SID)
TOKEN = "bench-twilio-token"
SEND_BUDGET = os.environ.get("BENCH_E2E_SEND_BUDGET", "0.2")  # seconds
MAX_REPORTS = 60_000  # signed callbacks prepared (wrk posts each at most once)


@contextmanager
def twilio_fake(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "tests.fakes.twilio", "--port", str(port)]
    command += ["--account-sid", SID, "--auth-token", TOKEN]
    process = start(command, env, url, ready_path="/")
    try:
        yield url
    finally:
        stop(process)


def provider_env(fake_url: str) -> dict[str, str]:
    twilio = {"account_sid": SID, "auth_token": TOKEN, "base_url": fake_url}
    return {
        "LYNSMS_PROVIDERS": json.dumps({"twilio": twilio}),
        # A request dispatches for 0.2 s at most (the worker's passes too): the worker sends
        # most of each bulk, as in tests/test_scale_out.py.
        "LYNSMS_ROUTING__SEND_BUDGET": SEND_BUDGET,
    }


def bulk_body() -> str:
    body = {"from": SENDER, "body": "Your order has shipped", "recipients": numbers(0, 1000)}
    return json.dumps(body)


def sent_times(server: Server) -> tuple[int, list[float]]:
    """(messages of the account, the ``sent_at`` of those the provider took)."""
    rows = server.query("SELECT sent_at FROM messages WHERE account_id = ?", server.account_id)
    return len(rows), [t for (value,) in rows if (t := as_epoch(value)) is not None]


def unsettled(server: Server) -> int:
    return int(
        server.query(
            "SELECT count(*) FROM messages WHERE account_id = ? AND status = 'queued'",
            server.account_id,
        )[0][0]
    )


def wait_drained(server: Server, deadline: float) -> bool:
    while time.time() < deadline:
        if unsettled(server) == 0:
            return True
        time.sleep(0.25)
    return False


def delivery(server: Server, load: tuple[float, float]) -> dict[str, Any]:
    """Provider throughput from the database: during the load and overall."""
    started, ended = load
    total, sent = sent_times(server)
    during = [t for t in sent if t <= ended]
    last = max(sent, default=ended)
    return {
        "messages": total,
        "sent_to_provider": len(sent),
        "during_load_per_s": round(len(during) / (ended - started), 1),
        "overall_per_s": round(len(sent) / max(last - started, 1e-9), 1),
        "drained_s_after_load": round(max(0.0, last - ended), 2),
    }


def report_lines(server: Server, path: Path) -> int:
    """A signed ``delivered`` status callback per sent message, as wrk_lines input."""
    from tests.fakes.base import AcceptedMessage
    from tests.fakes.twilio import FakeTwilio

    fake = FakeTwilio(SID, TOKEN)
    callback = server.url + "/callbacks/twilio/status"
    rows = server.query(
        "SELECT provider_message_id, to_number FROM messages"
        " WHERE account_id = ? AND status = 'sent' LIMIT ?",
        server.account_id,
        MAX_REPORTS,
    )
    with path.open("w") as out:
        for provider_id, to in rows:
            accepted = AcceptedMessage(provider_id, to, SENDER, "", callback_url=callback)
            _, headers, body = fake.status_callback(accepted, "delivered")
            out.write(f"{headers['x-twilio-signature']}\t{body.decode()}\n")
    return len(rows)


def delivered(server: Server) -> int:
    return int(
        server.query(
            "SELECT count(*) FROM messages WHERE account_id = ? AND status = 'delivered'",
            server.account_id,
        )[0][0]
    )


def ingest_reports(server: Server, workdir: Path) -> dict[str, Any]:
    lines = workdir / "reports.txt"
    prepared = report_lines(server, lines)
    if not prepared:
        return {"skipped": "no sent message to report on"}
    before = delivered(server)
    wrk = run_wrk_lines(
        server.url,
        "/callbacks/twilio/status",
        str(lines),
        header="X-Twilio-Signature",
        content_type="application/x-www-form-urlencoded",
        connections=REPORT_CONNECTIONS,
        seconds=SECONDS,
    )
    applied = delivered(server) - before
    return {
        **summarize(wrk),
        "reports_prepared": prepared,
        "repeated_reports": max(0, wrk.requests - prepared),
        "messages_delivered": applied,
        "delivered_per_s": round(applied / wrk.seconds, 1) if wrk.seconds else None,
    }


def measure(backend: str = "sqlite") -> dict[str, Any]:
    with backend_env(backend) as (env, db_path), twilio_fake(env) as fake_url:
        env = {**env, **provider_env(fake_url)}
        with lynsms_server(env, db_path) as server:
            started = time.time()
            accepted = run_wrk(
                server.url,
                "/api/v1/messages/bulk",
                server.key,
                connections=BULK_CONNECTIONS,
                seconds=SECONDS,
                body=bulk_body(),
            )
            ended = time.time()
            rss = rss_mb(server.process.pid)
            drained = wait_drained(server, ended + PATIENCE)
            figures = {
                "accepted": summarize(accepted, 1000),
                "provider": {**delivery(server, (started, ended)), "drained": drained},
                "rss_mb_after_load": round(rss, 1),
                "reports": ingest_reports(server, db_path.parent),
            }
    return {"backend": backend, "provider_kind": "Twilio fake, its own process", **figures}


def main() -> None:
    backend = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    figures = measure(backend)
    merge_results(f"e2e_{backend}", figures)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
