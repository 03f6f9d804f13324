"""``lynsms packages grant|list`` as a real process: what it grants, a running server spends."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.factories import create_customer


def cli(database_url: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNSMS_")}
    env["LYNSMS_DATABASE_URL"] = database_url

    def call(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lynsms", *args],
            env=env,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    return call


@pytest.fixture
def lynsms(database_url):
    """The CLI on the database the ``server`` fixture serves (SQLite and PostgreSQL)."""
    return cli(database_url)


@pytest.fixture
def lynsms_alone(tmp_path):
    return cli(f"sqlite+aiosqlite:///{tmp_path}/cli.db")


async def test_a_granted_package_is_spent_by_the_running_server(api, server, lynsms):
    customer = await create_customer(server.runtime)
    granted = json.loads(
        lynsms(
            "packages",
            "grant",
            customer.account_id,
            "--name",
            "100 SMS",
            "--sms",
            "100",
            "--expires",
            "2099-12-31",
            "--json",
        ).stdout
    )
    assert granted["id"].startswith("pkg_") and granted["object"] == "package"
    assert (granted["name"], granted["total_sms"], granted["used_sms"]) == ("100 SMS", 100, 0)
    assert granted["expire_date"] == "2099-12-31T23:59:59+00:00" and granted["expired"] is False
    payload = {"to": "+12025550143", "from": "LynSMS", "body": "hello"}
    sent = await api.post("/messages/send", json=payload, headers=customer.live)
    assert sent.json()["data"]["cost"] == 0.0
    listed = json.loads(lynsms("packages", "list", customer.account_id, "--json").stdout)
    assert listed["account_id"] == customer.account_id and listed["total"] == 1
    assert listed["packages"][0]["id"] == granted["id"]
    assert listed["packages"][0]["used_sms"] == 1
    assert listed["packages"][0]["remaining_sms"] == 99
    human = lynsms("packages", "list", customer.account_id).stdout
    assert granted["id"] in human and "99 of 100 SMS left" in human


def test_grant_takes_a_datetime_with_offset_and_lists_newest_first(lynsms_alone):
    account = json.loads(
        lynsms_alone("accounts", "create", "--name", "A", "--email", "a@x.test", "--json").stdout
    )["id"]
    assert "has no packages" in lynsms_alone("packages", "list", account).stdout
    first = ["packages", "grant", account, "--name", "Old", "--sms", "5"]
    lynsms_alone(*first, "--expires", "2099-01-01")
    granted = lynsms_alone(
        "packages",
        "grant",
        account,
        "--name",
        "Promo",
        "--sms",
        "7",
        "--expires",
        "2099-06-01T12:00:00+02:00",
    ).stdout
    assert "granted pkg_" in granted and "2099-06-01T10:00:00+00:00" in granted
    listed = json.loads(lynsms_alone("packages", "list", account, "--json").stdout)
    assert [p["name"] for p in listed["packages"]] == ["Promo", "Old"]


BAD_INPUT = [
    (["--name", "P", "--sms", "0", "--expires", "2099-01-01"], 1, "SMS must be between 1"),
    (["--name", "P", "--sms", "-3", "--expires", "2099-01-01"], 1, "validation_error"),
    (["--name", "P", "--sms", "lots", "--expires", "2099-01-01"], 2, "'--sms'"),
    (["--name", "P", "--sms", "5", "--expires", "tomorrow"], 2, "neither a date"),
    (["--name", "P", "--sms", "5", "--expires", "2020-01-01"], 1, "is past"),
    (["--name", "  ", "--sms", "5", "--expires", "2099-01-01"], 1, "name must be 1 to 100"),
    (["--name", "P" * 101, "--sms", "5", "--expires", "2099-01-01"], 1, "1 to 100"),
    (["--sms", "5", "--expires", "2099-01-01"], 2, "Missing option '--name'"),
]


def test_grant_refuses_bad_input_clearly(lynsms_alone):
    account = json.loads(
        lynsms_alone("accounts", "create", "--name", "A", "--email", "a@x.test", "--json").stdout
    )["id"]
    for args, code, says in BAD_INPUT:
        failed = lynsms_alone("packages", "grant", account, *args, check=False)
        assert failed.returncode == code, args
        assert says in failed.stdout + failed.stderr, (args, failed.stdout, failed.stderr)
    assert json.loads(lynsms_alone("packages", "list", account, "--json").stdout)["total"] == 0


def test_an_unknown_account_is_not_found(lynsms_alone):
    grant = ["packages", "grant", "acct_missing", "--name", "P", "--sms", "5"]
    failed = lynsms_alone(*grant, "--expires", "2099-01-01", check=False)
    assert failed.returncode == 1 and "not_found" in failed.stdout
    listed = lynsms_alone("packages", "list", "acct_missing", check=False)
    assert listed.returncode == 1 and "not_found" in listed.stdout
