"""The operator CLI, run as a real process against a real database: --json prints one object."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest


@pytest.fixture
def run(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNSMS_")}
    env["LYNSMS_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/cli.db"

    def call(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lynsms", *args],
            env=env,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    call.env = env  # type: ignore[attr-defined]
    return call


def as_json(process: subprocess.CompletedProcess[str]) -> dict:
    return json.loads(process.stdout)


def test_operator_flow(run):
    assert "up to date" in run("db", "upgrade").stdout
    account = as_json(
        run(
            "accounts",
            "create",
            "--name",
            "Acme",
            "--email",
            "ops@acme.test",
            "--balance",
            "5.00",
            "--json",
        )
    )
    assert account["id"].startswith("acct_") and account["balance"] == 5.0
    credited = as_json(run("accounts", "credit", account["id"], "2.5", "--json"))
    assert credited == {"account_id": account["id"], "balance": 7.5}
    key = as_json(
        run(
            "keys",
            "create",
            "--account",
            account["id"],
            "--env",
            "test",
            "--scopes",
            "messages:send,messages:read",
            "--name",
            "ci",
            "--rate-limit-per-minute",
            "100",
            "--json",
        )
    )
    assert key["key"].startswith("ds_test_") and key["scopes"] == ["messages:read", "messages:send"]
    everything = as_json(
        run("keys", "create", "--account", account["id"], "--env", "live", "--json")
    )
    assert everything["scopes"] == ["*"]
    sender = as_json(run("senders", "approve", account["id"], "Acme", "--json"))
    assert sender["status"] == "approved"
    again = as_json(run("senders", "approve", account["id"], "Acme", "--json"))
    assert again["id"] == sender["id"]


def test_errors_exit_1_with_a_message(run):
    failed = run("accounts", "credit", "acct_missing", "1", check=False)
    assert failed.returncode == 1 and "not_found" in failed.stdout
    bad = run("keys", "create", "--account", "acct_x", "--env", "staging", check=False)
    assert bad.returncode != 0


def test_bootstrap_is_idempotent_and_its_curl_works(run, tmp_path):
    first = as_json(run("bootstrap", "--json"))
    second = as_json(run("bootstrap", "--json"))
    assert first["account_id"] == second["account_id"]
    assert first["api_key"] != second["api_key"] and second["api_key"].startswith("ds_test_")
    assert first["sender"] == "LynSMS" and "curl" in first["curl"]
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [sys.executable, "-m", "lynsms", "serve", "--port", str(port)],
        env=run.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import time

        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        curl = second["curl"].replace("http://127.0.0.1:8080", f"http://127.0.0.1:{port}")
        out = subprocess.run(
            ["bash", "-c", curl + " -s"], capture_output=True, text=True, timeout=30
        )
        body = json.loads(out.stdout)
        assert body["success"] is True and body["data"]["status"] == "sent"
        assert body["data"]["body"] == "Your verification code is 482194"
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_providers_lists_callback_urls(run, tmp_path):
    config = tmp_path / "lynsms.toml"
    config.write_text(
        '[server]\npublic_url = "https://sms.example.com"\n'
        '[providers.twilio]\naccount_sid = "AC00000000000000000000000000000001"\nauth_token = "t"\n'
        '[providers.infobip]\napi_key = "k"\nbase_url = "https://x.api.infobip.com"\n'
        'callback_token = "cbtok"\n'
    )
    run.env["LYNSMS_CONFIG"] = str(config)
    listed = as_json(run("providers", "--server", "http://127.0.0.1:9", "--json"))["providers"]
    assert [p["name"] for p in listed] == ["twilio", "infobip"]
    assert listed[0]["status_callback_url"] == "https://sms.example.com/callbacks/twilio/status"
    assert listed[1]["inbound_callback_url"] == (
        "https://sms.example.com/callbacks/infobip/inbound?token=cbtok"
    )
    assert listed[0]["health"].startswith("unknown")
