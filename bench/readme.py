"""The README's benchmark table, written from bench/results/latest.json by `make bench`.

The table sits between two markers in README.md; ``python -m bench.readme`` rewrites it
from the last results without measuring anything.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bench.common import RESULTS

README = Path(__file__).parent.parent / "README.md"
START = "<!-- bench:start (written by make bench: bench/readme.py) -->"
END = "<!-- bench:end -->"
BACKENDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def update(report: dict[str, Any], path: Path = README) -> bool:
    """Replace the table between the markers; False (README untouched) without them."""
    text = path.read_text()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        return False
    table = f"{START}\n{render(report)}\n{END}"
    path.write_text(pattern.sub(lambda _: table, text, count=1))
    return True


def render(report: dict[str, Any]) -> str:
    machine = report["machine"]
    shown = [name for name in BACKENDS if name in report]
    head = " | ".join(BACKENDS[name] for name in shown)
    lines = [
        f"Run of {report['when'].replace('T', ' ').replace('Z', ' UTC')} on {machine['cores']}"
        f" cores ({machine.get('cpu', '?')}), Python {machine['python']}, load average"
        f" {_load(machine.get('load_average_at_start'))} at the start and"
        f" {_load(machine.get('load_average_at_end'))} at the end; {report['run_s']:.0f} s;"
        f" wrk {report['settings']['seconds_per_wrk_run']} s per figure.",
        "",
        f"| measure | {head} |",
        "|---|" + "---|" * len(shown),
    ]
    for label, figure in ROWS:
        cells = [_cell(figure, report[name], report) for name in shown]
        lines.append(f"| {label} | {' | '.join(cells)} |")
    lines.append("")
    lines.append(_usage_line(report.get("usage", {})))
    lines.append("")
    lines.append(_contacts_line(report.get("contacts", {})))
    return "\n".join(lines)


def _contacts_line(contacts: dict[str, Any]) -> str:
    try:
        new, busy = contacts["import_new"], contacts["sends_during_import"]
        return (
            f"Contacts CSV import (SQLite, one request of {_n(new['rows'])} rows):"
            f" {_n(new['rows_per_s'])} contacts/s; sends during an import p99"
            f" {_n(busy['p99'])} ms."
        )
    except (KeyError, TypeError):
        return "Contacts CSV import: not measured in this run."


def _load(values: list[float] | None) -> str:
    return "/".join(f"{v:.1f}" for v in values) if values else "?"


def _n(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _single(f: dict[str, Any], report: dict[str, Any]) -> str:
    s = f["single"]
    return f"{_n(s['requests_per_s'])} req/s, p50 {_n(s['p50_ms'])} ms, p99 {_n(s['p99_ms'])} ms"


def _bare(f: dict[str, Any], report: dict[str, Any]) -> str:
    bare = report["bare_starlette"]
    return f"{_n(bare['requests_per_s'])} req/s (ratio {f['ratio_single_to_bare']:.3f})"


def _bulk(f: dict[str, Any], report: dict[str, Any]) -> str:
    return f"{_n(f['bulk_1000']['messages_per_s'])} messages/s"


def _e2e(f: dict[str, Any], report: dict[str, Any]) -> str:
    e = f["e2e"]
    p = e["provider"]
    return (
        f"accepted {_n(e['accepted']['messages_per_s'])}/s; at the provider"
        f" {_n(p['during_load_per_s'])}/s during the load, {_n(p['overall_per_s'])}/s overall,"
        f" drained {_n(p['drained_s_after_load'], 1)} s after it"
    )


def _reports(f: dict[str, Any], report: dict[str, Any]) -> str:
    r = f["e2e"]["reports"]
    if "skipped" in r:
        return str(r["skipped"])
    return (
        f"{_n(r['requests_per_s'])} callbacks/s, p99 {_n(r['p99_ms'])} ms;"
        f" {_n(r['delivered_per_s'])} messages → delivered/s"
    )


def _webhooks(f: dict[str, Any], report: dict[str, Any]) -> str:
    w = f["webhooks"]
    return (
        f"{_n(w.get('deliveries_per_s'))} events/s; {w.get('missing', '?')} missing,"
        f" {w.get('duplicates', '?')} duplicates"
    )


def _campaign(f: dict[str, Any], report: dict[str, Any]) -> str:
    c = f["campaigns"]
    return (
        f"{_n(c['dispatched_per_s'])} messages/s to the provider; launch (audience frozen,"
        f" rendered, paid) {_n(c['launch_s'], 2)} s for {_n(c['contacts'])} contacts"
    )


def _scheduled(f: dict[str, Any], report: dict[str, Any]) -> str:
    s = f["scheduled"]
    idle = s["idle"]["lateness_ms"]["p99"]
    loaded = s["under_load"]["lateness_ms"]["p99"]
    return f"{_n(idle)} ms idle, {_n(loaded)} ms under a single-send load"


def _rss(f: dict[str, Any], report: dict[str, Any]) -> str:
    r = f["rss_mb"]
    return f"{_n(r['after_single'])} / {_n(r['after_bulk'])} MB (single / bulk)"


def _durable(f: dict[str, Any], report: dict[str, Any]) -> str:
    d = f["durability"]
    return f"{'yes' if d['ok'] else 'NO'}: {_n(d['stored'])} stored ≥ {_n(d['accepted_by_wrk'])}"


ROWS = [
    ("single send, 50 connections", _single),
    ("bare Starlette, same run (ratio single / bare)", _bare),
    ("bulk, 1,000 recipients, 4 connections", _bulk),
    ("end to end: bulk load, worker → Twilio fake over HTTP", _e2e),
    ("delivery reports: signed Twilio callbacks, 50 connections", _reports),
    ("webhook deliveries to a receiver process", _webhooks),
    ("campaign of 20,000 contacts, worker → Twilio fake over HTTP", _campaign),
    ("scheduled sends, lateness p99 (`sent_at − send_at`)", _scheduled),
    ("RSS of the server under load", _rss),
    ("every accepted message stored", _durable),
]


def _cell(figure: Any, figures: dict[str, Any], report: dict[str, Any]) -> str:
    try:
        return str(figure(figures, report))
    except (KeyError, TypeError):
        return "—"


def _usage_line(usage: dict[str, Any]) -> str:
    p99 = usage.get("p99_ms_one_connection") or {}
    parts = []
    for backend, sizes in p99.items():
        small, large = sizes.get("10000", {}), sizes.get("1000000", {})
        parts.append(
            f"{BACKENDS.get(backend, backend)}: `GET /usage?group_by=day`"
            f" {_n(small.get('usage_by_day'))} / {_n(large.get('usage_by_day'))} ms,"
            f" `GET /messages?limit=50` {_n(small.get('messages_list_50'))} /"
            f" {_n(large.get('messages_list_50'))} ms"
        )
    if not parts:
        return "`GET /usage` and `GET /messages` at 10k / 1M: not measured yet."
    when = usage.get("when", "?")
    return (
        "p99 at one connection, 10k / 1M stored messages (" + str(usage.get("source")) + ", "
        f"{when}): " + "; ".join(parts) + "."
    )


def main() -> None:
    report = json.loads(RESULTS.read_text())
    print("README updated" if update(report) else "README has no benchmark markers")


if __name__ == "__main__":
    main()
