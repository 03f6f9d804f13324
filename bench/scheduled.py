"""Scheduled-send lateness: how long after its ``send_at`` a scheduled message is sent.

``python -m bench.scheduled`` starts `lynsms serve` on a fresh SQLite database and
schedules ``INSTANTS`` × ``PER_INSTANT`` messages (one bulk request per instant,
the instants 1 s apart, the first a few seconds ahead): once with the server
otherwise idle, once while wrk loads the single-send route. A message's lateness
is its ``sent_at`` minus its ``send_at``, both read from the database (so the
figure does not depend on how the dispatcher finds due work); ``accepted`` uses
the time the simulator's message id carries instead (when it accepted the
message, before the dispatcher recorded its batch). Writes "scheduled" into
bench/results/latest.json.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.common import (
    SENDER,
    Server,
    as_epoch,
    backend_env,
    id_time,
    iso_ms,
    lynsms_server,
    merge_results,
    numbers,
    percentiles,
    summarize,
)
from bench.wrk import run_wrk

PER_INSTANT = 500
INSTANTS = 4  # 1 s apart
IDLE_LEAD = 4.0  # seconds from scheduling to the first instant, idle
LOAD_LEAD = 8.0  # the same under load (the bulk requests are slower then)
WARMUP = 2.0  # seconds of load before scheduling
LOAD_SECONDS = 20  # enough for every instant to fall well inside the load
LOAD_CONNECTIONS = 50
PATIENCE = 30.0  # seconds after the last instant before giving up on the stragglers
ON_TIME_MS = 1000.0  # the contract: sent within a second of send_at


def schedule(server: Server, reference: str, first: float, offset: int) -> dict[str, Any]:
    """One bulk request per instant; how long they took and the margin left before the first."""
    started = time.time()
    with server.client() as client:
        for n in range(INSTANTS):
            body = {
                "from": SENDER,
                "body": "Your appointment is tomorrow at 10:00",
                "reference": reference,
                "send_at": iso_ms(first + n),
                "recipients": numbers(offset + n * PER_INSTANT, PER_INSTANT),
            }
            response = client.post("/messages/bulk", json=body)
            response.raise_for_status()
            if response.json()["data"]["scheduled"] != PER_INSTANT:
                raise RuntimeError(f"not all scheduled: {response.text[:500]}")
    done = time.time()
    return {
        "scheduling_requests_s": round(done - started, 2),
        "margin_before_first_instant_s": round(first - done, 2),
    }


def wait_dispatched(server: Server, reference: str, deadline: float) -> None:
    """Until every message of ``reference`` has a ``sent_at``, or ``deadline``."""
    expected = INSTANTS * PER_INSTANT
    while time.time() < deadline:
        rows = server.query(
            "SELECT count(*) FROM messages WHERE account_id = ? AND reference = ?"
            " AND sent_at IS NOT NULL",
            server.account_id,
            reference,
        )
        if rows[0][0] >= expected:
            return
        time.sleep(0.25)


def lateness(server: Server, reference: str) -> dict[str, Any]:
    """The figures of one run, from the database."""
    rows = server.query(
        "SELECT send_at, sent_at, provider_message_id, status FROM messages"
        " WHERE account_id = ? AND reference = ?",
        server.account_id,
        reference,
    )
    late_ms, accepted_ms = offsets_ms(rows)
    return {
        "scheduled": len(rows),
        "dispatched": len(late_ms),
        "statuses": dict(Counter(row[3] for row in rows)),
        "lateness_ms": percentiles(late_ms),
        "accepted_lateness_ms": percentiles(accepted_ms),
        "over_1s": sum(value > ON_TIME_MS for value in late_ms),
        "early": sum(value < 0 for value in late_ms),
    }


def offsets_ms(rows: list[tuple[Any, ...]]) -> tuple[list[float], list[float]]:
    """Of each sent message (send_at, sent_at, provider_message_id, …): sent_at − send_at,
    and the simulator's acceptance time (its id's) − send_at, in milliseconds."""
    late: list[float] = []
    accepted: list[float] = []
    for send_at, sent_at, provider_message_id, *_ in rows:
        due, sent = as_epoch(send_at), as_epoch(sent_at)
        if due is None or sent is None:
            continue
        late.append((sent - due) * 1000)
        taken = (
            id_time(provider_message_id) if str(provider_message_id).startswith("sim_") else None
        )
        if taken is not None:
            accepted.append((taken - due) * 1000)
    return late, accepted


def run_idle(server: Server) -> dict[str, Any]:
    reference = "bench-scheduled-idle"
    first = math.ceil(time.time() + IDLE_LEAD)
    timing = schedule(server, reference, first, offset=0)
    wait_dispatched(server, reference, first + INSTANTS + PATIENCE)
    return {**timing, **lateness(server, reference)}


def run_under_load(server: Server) -> dict[str, Any]:
    reference = "bench-scheduled-load"
    with ThreadPoolExecutor(max_workers=1) as pool:
        load_ends = time.time() + LOAD_SECONDS
        load = pool.submit(
            run_wrk,
            server.url,
            "/api/v1/messages/send",
            server.key,
            connections=LOAD_CONNECTIONS,
            seconds=LOAD_SECONDS,
        )
        time.sleep(WARMUP)
        first = math.ceil(time.time() + LOAD_LEAD)
        timing = schedule(server, reference, first, offset=INSTANTS * PER_INSTANT)
        wait_dispatched(server, reference, first + INSTANTS + PATIENCE)
        single = summarize(load.result())
    single["load_left_after_last_instant_s"] = round(load_ends - (first + INSTANTS - 1), 1)
    return {**timing, **lateness(server, reference), "load": single}


def measure(backend: str = "sqlite") -> dict[str, Any]:
    with backend_env(backend) as (env, db_path), lynsms_server(env, db_path) as server:
        idle = run_idle(server)
        loaded = run_under_load(server)
    return {
        "settings": {
            "messages": INSTANTS * PER_INSTANT,
            "instants": INSTANTS,
            "per_instant": PER_INSTANT,
            "load": f"wrk single send, {LOAD_CONNECTIONS} connections, {LOAD_SECONDS} s",
            "lateness": "messages.sent_at - send_at; accepted: the simulator's id time - send_at",
        },
        "idle": idle,
        "under_load": loaded,
    }


def main() -> None:
    figures = measure(sys.argv[1] if len(sys.argv) > 1 else "sqlite")
    merge_results("scheduled", figures)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
