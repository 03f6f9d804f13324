"""Webhook deliveries per second, and whether each event arrived exactly once.

``python -m bench.webhooks`` starts the receiver (bench/receiver.py, its own process)
and `lynsms serve` on a fresh SQLite database, registers the receiver for every
event, sends ``MESSAGES`` messages through the simulator in bulk requests (each
makes a ``message.sent`` and, ``DELIVERY_DELAY`` later, a ``message.delivered``
event) and waits until every message is delivered and every event in the database
has reached the receiver. Figures: events per second at the receiver from its
first delivery to its last, the drain time from the last send to the last
delivery, event-to-receipt latency, and missing/duplicate/unexpected deliveries.
Writes "webhooks" into bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from standardwebhooks import Webhook, WebhookVerificationError

from bench.common import (
    SENDER,
    Server,
    as_epoch,
    backend_env,
    cpu_seconds,
    free_port,
    lynsms_server,
    merge_results,
    numbers,
    percentiles,
    start,
    stop,
)

MESSAGES = int(os.environ.get("BENCH_WEBHOOK_MESSAGES", "3000"))
BULK = 1000
DELIVERY_DELAY = 0.2  # seconds between the simulator accepting a message and its report
PATIENCE = 75.0  # seconds at most from the first send to the last delivery
GRACE = 2.0  # seconds listened to for late duplicates once everything has arrived
UNSETTLED = ("scheduled", "queued", "sent")  # statuses that will make more events


@contextmanager
def receiver(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    url = f"http://127.0.0.1:{free_port()}"
    port = url.rsplit(":", 1)[1]
    process = start([sys.executable, "-m", "bench.receiver", port], env, url, "/stats")
    try:
        yield url, process
    finally:
        stop(process)


def register(server: Server, receiver_url: str) -> str:
    """A webhook endpoint for every event, pointing at the receiver; its secret."""
    with server.client() as client:
        response = client.post(
            "/webhooks/create", json={"url": receiver_url + "/hook", "events": ["*"]}
        )
        response.raise_for_status()
        return str(response.json()["data"]["secret"])


def send(server: Server) -> tuple[float, float]:
    """``MESSAGES`` messages in bulk requests; when the sends started and ended."""
    started = time.time()
    with server.client() as client:
        for first in range(0, MESSAGES, BULK):
            body = {
                "from": SENDER,
                "body": "Your parcel is on its way",
                "recipients": numbers(first, min(BULK, MESSAGES - first)),
            }
            client.post("/messages/bulk", json=body).raise_for_status()
    return started, time.time()


def settled(server: Server, receiver_url: str) -> bool:
    """No message will make another event, and the receiver has as many ids as there are."""
    marks = ", ".join("?" * len(UNSETTLED))
    unsettled, events = server.query(
        f"SELECT (SELECT count(*) FROM messages WHERE account_id = ? AND status IN ({marks})),"
        " (SELECT count(*) FROM events WHERE account_id = ?)",
        server.account_id,
        *UNSETTLED,
        server.account_id,
    )[0]
    if unsettled:
        return False
    unique = int(httpx.get(receiver_url + "/stats").json()["unique"])
    return unique >= int(events)


def wait_settled(server: Server, receiver_url: str, deadline: float) -> bool:
    while time.time() < deadline:
        if settled(server, receiver_url):
            time.sleep(GRACE)
            return True
        time.sleep(0.25)
    return False


def compare(events: dict[str, float], received: dict[str, Any]) -> dict[str, Any]:
    """Every event in the database against what the receiver got."""
    first: dict[str, float] = received["first"]
    missing = [event for event in events if event not in first]
    unexpected = [webhook_id for webhook_id in first if webhook_id not in events]
    lag_ms = [
        (first[event] - created) * 1000 for event, created in events.items() if event in first
    ]
    return {
        "events_in_db": len(events),
        "received_requests": received["requests"],
        "received_unique": received["unique"],
        "missing": len(missing),
        "duplicates": received["duplicates"],
        "unexpected": len(unexpected),
        "exactly_once": not missing and not unexpected and received["duplicates"] == 0,
        "event_to_receipt_ms": percentiles(lag_ms),
    }


def rate(received: dict[str, Any], sends_ended: float) -> dict[str, Any]:
    first_at, last_at = received["first_at"], received["last_at"]
    if first_at is None or last_at is None:
        return {"deliveries_per_s": 0.0}
    span = max(last_at - first_at, 1e-3)
    return {
        "deliveries_per_s": round(received["unique"] / span, 1),
        "first_to_last_delivery_s": round(span, 2),
        "drain_after_sends_s": round(last_at - sends_ended, 2),
    }


def signatures(secret: str, samples: list[dict[str, str]]) -> dict[str, int]:
    """How many of the sampled requests carry a valid Standard Webhooks signature."""
    hook, valid = Webhook(secret), 0
    for sample in samples:
        headers = {key: value for key, value in sample.items() if key != "body"}
        try:
            hook.verify(sample["body"], headers)
            valid += 1
        except WebhookVerificationError:
            pass
    return {"checked": len(samples), "valid": valid}


def database_side(server: Server) -> dict[str, Any]:
    """Events by type, deliveries by status and the attempts the server recorded."""
    account = server.account_id
    types = server.query(
        "SELECT type, count(*) FROM events WHERE account_id = ? GROUP BY 1", account
    )
    statuses = server.query("SELECT status, count(*) FROM webhook_deliveries GROUP BY 1")
    attempts = server.query("SELECT count(*) FROM webhook_attempts")[0][0]
    return {
        "events_by_type": dict(types),
        "deliveries_by_status": dict(statuses),
        "attempts_recorded": attempts,
    }


def events_in_db(server: Server) -> dict[str, float]:
    rows = server.query("SELECT id, created_at FROM events WHERE account_id = ?", server.account_id)
    return {event_id: as_epoch(created) or 0.0 for event_id, created in rows}


def run(server: Server, receiver_url: str, receiver_pid: int) -> dict[str, Any]:
    secret = register(server, receiver_url)
    cpu_before = cpu_seconds(server.process.pid), cpu_seconds(receiver_pid)
    started, ended = send(server)
    done = wait_settled(server, receiver_url, started + PATIENCE)
    cpu = cpu_seconds(server.process.pid) - cpu_before[0], cpu_seconds(receiver_pid) - cpu_before[1]
    received = httpx.get(receiver_url + "/ids", timeout=30).json()
    return {
        "settled": done,
        "sends_s": round(ended - started, 2),
        **rate(received, ended),
        **compare(events_in_db(server), received),
        "repeated_ids": dict(list(received["repeated"].items())[:10]),
        "signatures": signatures(secret, received["samples"]),
        "cpu_s": {"server": round(cpu[0], 2), "receiver": round(cpu[1], 2)},
        **database_side(server),
    }


def measure(backend: str = "sqlite") -> dict[str, Any]:
    extra = {
        "LYNSMS_WEBHOOKS_ALLOW_PRIVATE": "1",
        "LYNSMS_SIMULATOR__DELIVERY_DELAY": str(DELIVERY_DELAY),
    }
    with (
        backend_env(backend, **extra) as (env, db_path),
        receiver(env) as (receiver_url, process),
        lynsms_server(env, db_path) as server,
    ):
        figures = run(server, receiver_url, process.pid)
    settings = {"messages": MESSAGES, "bulk": BULK, "delivery_delay_s": DELIVERY_DELAY}
    return {"settings": settings, **figures}


def main() -> None:
    figures = measure(sys.argv[1] if len(sys.argv) > 1 else "sqlite")
    merge_results("webhooks", figures)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
