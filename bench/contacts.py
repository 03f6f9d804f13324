"""Contacts imported per second: a 100,000-row CSV through ``POST /contacts/import``.

``python -m bench.contacts`` starts `lynsms serve` on a fresh SQLite database and
imports ``ROWS`` contacts (phone, name, email, two tags, two attributes) in one
request (``import_new``: the headline figure), then the same file again (every
row an update that changes nothing), then the file with every name changed
(every row an update). Last, ``ROWS`` other numbers are imported while a client
sends one message every ``PROBE_INTERVAL`` seconds: the import commits in
batches, so a send waits for one batch at most, never for the file
(``sends_during_import``; ``sends_idle`` is the same client before any import).
The database is checked afterwards: ``2 × ROWS`` contacts, ``4 × ROWS`` tag rows.
Writes bench/results/contacts.json.
"""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import SENDER, Server, lynsms_server, percentiles, temp_env

RESULTS = Path(__file__).parent / "results" / "contacts.json"
ROWS = int(os.environ.get("BENCH_CONTACTS_ROWS", "100000"))
PROBE_INTERVAL = 0.05  # seconds between the sends measured during the import
IDLE_PROBE_SECONDS = 3.0  # the same sends first, with no import running
HEADER = "phone,name,email,tags,attributes.plan,attributes.city\n"


def csv_file(rows: int, name: str = "Person", area: str = "303") -> bytes:
    lines = (
        f"+1{area}{2_000_000 + n:07d},{name} {n},p{n}@example.com,"
        f"{'even' if n % 2 == 0 else 'odd'};all,plan{n % 3},City {n % 7}\n"
        for n in range(rows)
    )
    return (HEADER + "".join(lines)).encode()


def timed_import(server: Server, data: bytes) -> dict[str, Any]:
    with server.client(timeout=600) as client:
        started = time.perf_counter()
        response = client.post(
            "/contacts/import", content=data, headers={"Content-Type": "text/csv"}
        )
        seconds = time.perf_counter() - started
    response.raise_for_status()
    result = response.json()["data"]
    assert not result["failed"], result["failed"][:3]
    done = result["created"] + result["updated"]
    return {
        "rows": done,
        "created": result["created"],
        "updated": result["updated"],
        "seconds": round(seconds, 2),
        "rows_per_s": round(done / seconds),
    }


class SendProbe:
    """Sends one message every ``PROBE_INTERVAL`` seconds until stopped; keeps latencies."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.latencies_ms: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SendProbe:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        payload = {"to": "+12025550143", "from": SENDER, "body": "probe"}
        with self.server.client(timeout=60) as client:
            while not self._stop.wait(PROBE_INTERVAL):
                started = time.perf_counter()
                response = client.post("/messages/send", json=payload)
                self.latencies_ms.append((time.perf_counter() - started) * 1000)
                self.failures += response.status_code != 201


def probe_figures(probe: SendProbe) -> dict[str, Any]:
    return {**percentiles(probe.latencies_ms), "unit": "ms", "failures": probe.failures}


def stored(server: Server) -> dict[str, int]:
    contacts = server.query("SELECT count(*) FROM contacts WHERE account_id = ?", server.account_id)
    tags = server.query("SELECT count(*) FROM contact_tags WHERE account_id = ?", server.account_id)
    return {"contacts": contacts[0][0], "tag_rows": tags[0][0]}


def bench_sqlite() -> dict[str, Any]:
    data, renamed, others = csv_file(ROWS), csv_file(ROWS, "Renamed"), csv_file(ROWS, area="304")
    with temp_env() as (env, db_path), lynsms_server(env, db_path) as server:
        with SendProbe(server) as idle:
            time.sleep(IDLE_PROBE_SECONDS)
        first = timed_import(server, data)
        unchanged = timed_import(server, data)
        changed = timed_import(server, renamed)
        with SendProbe(server) as probe:
            busy = timed_import(server, others)
        counts = stored(server)
    assert counts == {"contacts": 2 * ROWS, "tag_rows": 4 * ROWS}, counts
    assert (first["created"], unchanged["updated"], changed["updated"]) == (ROWS, ROWS, ROWS)
    assert busy["created"] == ROWS
    return {
        "csv_mib": round(len(data) / 2**20, 1),
        "import_new": first,
        "import_again_unchanged": unchanged,
        "import_again_every_name_changed": changed,
        "import_new_while_sending": busy,
        "sends_idle": probe_figures(idle),
        "sends_during_import": probe_figures(probe),
        "stored": counts,
    }


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
            "rows": ROWS,
            "columns": HEADER.strip(),
            "probe_interval_s": PROBE_INTERVAL,
            "server": "lynsms serve (API and worker, one process), SQLite",
        },
        "sqlite": bench_sqlite(),
    }
    report["run_s"] = round(time.monotonic() - started, 1)
    report["machine"]["load_average_at_end"] = [round(n, 2) for n in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
