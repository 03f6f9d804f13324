"""The benchmark harness's pure helpers (no server, no wrk): figures, ids, the receiver."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from bench import run, scheduled, webhooks
from bench.common import db_time, id_time, iso_ms, numbers, percentiles
from bench.receiver import Connection, Tally
from lynsms.kit.ids import new_id


def test_the_bench_modules_import_with_their_entry_points() -> None:
    for module in (run, scheduled, webhooks):
        assert callable(module.main)
    assert callable(scheduled.measure) and callable(webhooks.measure)


def test_percentiles_nearest_rank() -> None:
    figures = percentiles([float(n) for n in range(100, 0, -1)])
    assert figures == {"count": 100, "p50": 50.0, "p99": 99.0, "max": 100.0}
    assert percentiles([7.25], digits=1) == {"count": 1, "p50": 7.2, "p99": 7.2, "max": 7.2}


def test_percentiles_of_nothing() -> None:
    assert percentiles([]) == {"count": 0, "p50": None, "p99": None, "max": None}


def test_id_time_reads_the_milliseconds_of_a_lynsms_id() -> None:
    before = time.time()
    stamp = id_time(new_id("sim"))
    assert stamp is not None
    assert before - 0.002 <= stamp <= time.time()
    assert id_time(None) is None
    assert id_time("SM3f2c") is None
    assert id_time("sim_?!") is None


def test_times_round_trip_through_iso_and_sqlite_text() -> None:
    assert iso_ms(0.5) == "1970-01-01T00:00:00.500+00:00"
    assert db_time("1970-01-01 00:00:01.250000") == pytest.approx(1.25)
    assert db_time("1970-01-01T00:00:02+00:00") == pytest.approx(2.0)
    assert db_time(None) is None


def test_numbers_are_distinct_e164() -> None:
    batch = numbers(0, 1000) + numbers(1000, 1000)
    assert len(set(batch)) == 2000
    assert all(number.startswith("+1303") and len(number) == 12 for number in batch)


def test_tally_counts_duplicates_and_keeps_first_arrivals() -> None:
    tally = Tally()
    tally.record("evt_a", 10.0, {"webhook-id": "evt_a"}, b"{}")
    tally.record("evt_b", 11.0, {}, b"{}")
    tally.record("evt_a", 12.0, {}, b"{}")
    assert tally.stats() == {
        "requests": 3,
        "unique": 2,
        "duplicates": 1,
        "first_at": 10.0,
        "last_at": 12.0,
    }
    detail = tally.detail()
    assert detail["first"] == {"evt_a": 10.0, "evt_b": 11.0}
    assert detail["repeated"] == {"evt_a": 2}


class FakeTransport:
    def __init__(self) -> None:
        self.written = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True


def _post(webhook_id: str, body: bytes) -> bytes:
    head = f"POST /hook HTTP/1.1\r\nHost: x\r\nWebhook-Id: {webhook_id}\r\n"
    return head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def test_connection_counts_pipelined_posts_split_anywhere() -> None:
    tally, transport = Tally(), FakeTransport()
    connection = Connection(tally)
    connection.connection_made(transport)  # type: ignore[arg-type]
    stream = _post("evt_a", b'{"n":1}') + _post("evt_a", b'{"n":1}') + _post("evt_b", b"{}")
    for index in range(0, len(stream), 7):
        connection.data_received(stream[index : index + 7])
    assert transport.written.count(b"HTTP/1.1 200 OK") == 3
    assert tally.stats()["requests"] == 3
    assert tally.detail()["repeated"] == {"evt_a": 2}
    assert tally.samples[0] == {"webhook-id": "evt_a", "body": '{"n":1}'}


def test_connection_closes_on_garbage() -> None:
    transport = FakeTransport()
    connection = Connection(Tally())
    connection.connection_made(transport)  # type: ignore[arg-type]
    connection.data_received(b"\x00\x01 not http\r\n\r\n")
    assert transport.closed


async def test_receiver_over_a_real_socket() -> None:
    tally = Tally()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(tally), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for webhook_id in ("evt_a", "evt_b", "evt_a"):
            response = await client.post("/hook", content=b"{}", headers={"webhook-id": webhook_id})
            assert response.status_code == 200
        stats = (await client.get("/stats")).json()
        missing = await client.get("/nowhere")
    assert stats["requests"] == 3 and stats["duplicates"] == 1
    assert missing.status_code == 404


def _received(first: dict[str, float], requests: int) -> dict[str, Any]:
    return {
        "first": first,
        "requests": requests,
        "unique": len(first),
        "duplicates": requests - len(first),
        "first_at": min(first.values()),
        "last_at": max(first.values()),
    }


def test_compare_finds_missing_duplicate_and_unexpected_events() -> None:
    events = {"evt_a": 100.0, "evt_b": 100.5, "evt_c": 101.0}
    figures = webhooks.compare(events, _received({"evt_a": 100.2, "evt_b": 101.5, "x": 1.0}, 4))
    assert figures["missing"] == 1
    assert figures["unexpected"] == 1
    assert figures["duplicates"] == 1
    assert figures["exactly_once"] is False
    assert figures["event_to_receipt_ms"]["max"] == 1000.0


def test_compare_all_once() -> None:
    events = {"evt_a": 100.0, "evt_b": 100.5}
    figures = webhooks.compare(events, _received({"evt_a": 100.1, "evt_b": 100.6}, 2))
    assert figures["exactly_once"] is True


def test_rate_from_first_to_last_delivery() -> None:
    figures = webhooks.rate(_received({"a": 10.0, "b": 12.0, "c": 14.0}, 3), sends_ended=11.0)
    assert figures == {
        "deliveries_per_s": 0.8,
        "first_to_last_delivery_s": 4.0,
        "drain_after_sends_s": 3.0,
    }


def test_signatures_checked_with_standardwebhooks() -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"id":"evt_a"}'
    now = int(time.time())
    signature = Webhook(secret).sign("evt_a", datetime.fromtimestamp(now, UTC), body)
    good = {"webhook-id": "evt_a", "webhook-timestamp": str(now), "webhook-signature": signature}
    forged = {**good, "body": '{"id":"evt_b"}'}
    assert webhooks.signatures(secret, [{**good, "body": body}, forged]) == {
        "checked": 2,
        "valid": 1,
    }


def test_scheduled_offsets_from_database_rows() -> None:
    accepted_id = "sim_" + "0" * 6 + "2" + "x" * 18  # 2 ms after the epoch
    rows = [
        ("1970-01-01 00:00:00", "1970-01-01 00:00:00.250000", accepted_id, "sent"),
        ("1970-01-01 00:00:00", None, None, "scheduled"),
        ("1970-01-01 00:00:01", "1970-01-01 00:00:01.100000", "SM3f2c", "delivered"),
    ]
    late, accepted = scheduled.offsets_ms(rows)
    assert late == pytest.approx([250.0, 100.0])
    assert accepted == pytest.approx([2.0])


def test_as_epoch_reads_both_databases_timestamps() -> None:
    from bench.common import as_epoch

    moment = datetime(2026, 11, 25, 12, 0, 1, 500000, tzinfo=UTC)
    assert as_epoch("2026-11-25 12:00:01.500000") == moment.timestamp()  # SQLite text
    assert as_epoch(moment) == moment.timestamp()  # PostgreSQL, aware
    assert as_epoch(moment.replace(tzinfo=None)) == moment.timestamp()  # naive: UTC
    assert as_epoch(None) is None


def test_readme_table_is_rewritten_between_its_markers(tmp_path) -> None:
    from bench import readme

    report = _report()
    path = tmp_path / "README.md"
    path.write_text(f"# Title\n\n{readme.START}\nold table\n{readme.END}\n\nAfter.\n")
    assert readme.update(report, path)
    text = path.read_text()
    assert "old table" not in text and text.startswith("# Title") and text.endswith("After.\n")
    assert "| single send, 50 connections | 1,234 req/s, p50 30 ms, p99 90 ms |" in text
    assert "12,000 req/s (ratio 0.103)" in text
    assert "2026-11-25 17:00:00 UTC on 2 cores" in text
    assert "`GET /usage?group_by=day` 24 / 1,020 ms" in text
    unmarked = tmp_path / "OTHER.md"
    unmarked.write_text("no markers\n")
    assert not readme.update(report, unmarked)
    assert unmarked.read_text() == "no markers\n"


def test_readme_table_shows_a_dash_for_a_missing_figure() -> None:
    from bench import readme

    report = _report()
    del report["sqlite"]["e2e"]
    assert "| end to end: bulk load, worker → Twilio fake over HTTP | — |" in readme.render(report)


def test_lines_script_gives_each_thread_its_own_lines() -> None:
    from bench.wrk import _LINES

    script = _LINES % {
        "file": "/tmp/x",
        "threads": 2,
        "path": "/callbacks/twilio/status",
        "header": "X-Twilio-Signature",
        "content_type": "application/x-www-form-urlencoded",
    }
    assert "lines[(n * 2 + tid) % #lines + 1]" in script
    assert "local tid" not in script  # a local would hide the id each thread is given


def _report() -> dict[str, Any]:
    single = {"requests_per_s": 1234.0, "p50_ms": 30.0, "p99_ms": 90.0}
    return {
        "when": "2026-11-25T17:00:00Z",
        "machine": {"cores": 2, "cpu": "x", "python": "3.11.7", "load_average_at_start": [1.0]},
        "settings": {"seconds_per_wrk_run": 10},
        "run_s": 300.0,
        "bare_starlette": {"requests_per_s": 12000.0},
        "sqlite": {
            "single": single,
            "ratio_single_to_bare": 0.103,
            "bulk_1000": {"messages_per_s": 9000.0},
            "e2e": {"accepted": {"messages_per_s": 1.0}},
        },
        "usage": {
            "source": "earlier",
            "when": "2026-11-25T15:00:00Z",
            "p99_ms_one_connection": {
                "sqlite": {
                    "10000": {"usage_by_day": 24.0, "messages_list_50": 77.0},
                    "1000000": {"usage_by_day": 1020.0, "messages_list_50": 383.0},
                }
            },
        },
    }
