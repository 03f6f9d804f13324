"""Campaign messages dispatched per second: one campaign of ``CONTACTS`` contacts through the
worker to an HTTP provider (the Twilio fake as its own process).

``python -m bench.campaigns [sqlite|postgresql ...]`` starts `lynsms serve` wired to the
fake, imports ``CONTACTS`` contacts (one CSV request), creates a campaign with a
per-contact variable and launches it. Figures: how long the launch took (the audience
frozen, rendered and paid for), and messages handed to the provider per second from
the launch to the last ``sent_at`` (the worker expands the audience in batches and
dispatches it). The stats are checked against the database: every contact sent
once. Writes "campaigns" into bench/results/latest.json.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from typing import Any

from bench.common import SENDER, Server, as_epoch, backend_env, lynsms_server, merge_results
from bench.e2e import provider_env, twilio_fake

CONTACTS = int(os.environ.get("BENCH_CAMPAIGN_CONTACTS", "20000"))
PATIENCE = 300.0  # seconds for the campaign to complete


def contacts_csv(count: int) -> bytes:
    rows = (f"+1303{3_000_000 + n:07d},Person {n},crowd,C{n}\n" for n in range(count))
    return ("phone,name,tags,attributes.code\n" + "".join(rows)).encode()


def run_campaign(server: Server) -> dict[str, Any]:
    with server.client(timeout=600) as client:
        client.post(
            "/contacts/import", content=contacts_csv(CONTACTS), headers={"Content-Type": "text/csv"}
        ).raise_for_status()
        draft = {
            "name": "bench",
            "from": SENDER,
            "body": "Hi {{name}}, your code is {{code}}",
            "audience": {"tags": ["crowd"]},
        }
        campaign_id = client.post("/campaigns", json=draft).json()["data"]["id"]
        started = time.time()
        client.post(f"/campaigns/{campaign_id}/launch").raise_for_status()
        launched = time.time()
        deadline = started + PATIENCE
        while time.time() < deadline:
            found = client.get(f"/campaigns/{campaign_id}").json()["data"]
            if found["status"] == "completed":
                break
            time.sleep(0.25)
    sent = [
        t
        for (value,) in server.query("SELECT sent_at FROM messages WHERE bulk_id = ?", campaign_id)
        if (t := as_epoch(value)) is not None
    ]
    last = max(sent, default=started)
    return {
        "contacts": CONTACTS,
        "status": found["status"],
        "stats": found["stats"],
        "launch_s": round(launched - started, 2),
        "dispatched": len(sent),
        "dispatched_per_s": round(len(sent) / max(last - started, 1e-9), 1),
        "completed_s": round(last - started, 1),
    }


def measure(backend: str) -> dict[str, Any]:
    with backend_env(backend) as (env, db_path), twilio_fake(env) as fake_url:
        env = {**env, **provider_env(fake_url)}
        with lynsms_server(env, db_path) as server:
            figures = run_campaign(server)
    print(f"{backend}: {figures}", file=sys.stderr)
    return figures


def main(backends: list[str]) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
    }
    for backend in backends:
        figures[backend] = measure(backend)
    merge_results("campaigns", figures)
    return figures


if __name__ == "__main__":
    main(sys.argv[1:] or ["sqlite", "postgresql"])
