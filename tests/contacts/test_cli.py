"""``lynsms contacts import FILE --account ACCOUNT_ID`` as a real process, on the database
the running server serves: what it imports, the API shows."""

from __future__ import annotations

import json

from tests.cli.test_packages_cli import cli
from tests.contacts.helpers import listing
from tests.factories import create_customer

CSV = (
    "phone,name,tags,attributes.plan\n"
    "+12025550101,Ada,vip;london,pro\n"
    "0712345678,National,,\n"
    "+12025550102,Bob,,\n"
)


async def test_import_with_json_prints_one_object_and_the_api_shows_the_contacts(
    api, server, database_url, tmp_path
):
    customer = await create_customer(server.runtime)
    path = tmp_path / "contacts.csv"
    path.write_text(CSV)

    done = cli(database_url)(
        "contacts", "import", str(path), "--account", customer.account_id, "--json"
    )

    result = json.loads(done.stdout)  # exactly one JSON object: the progress bar is on stderr
    assert (result["created"], result["updated"]) == (2, 0)
    assert [(f["row"], f["error"]["code"]) for f in result["failed"]] == [
        (2, "invalid_phone_number")
    ]
    ada = (await listing(api, customer.live, phone="+12025550101"))["data"][0]
    assert (ada["name"], ada["tags"], ada["attributes"]) == (
        "Ada",
        ["vip", "london"],
        {"plan": "pro"},
    )

    again = cli(database_url)("contacts", "import", str(path), "--account", customer.account_id)

    assert "created 0, updated 2, failed 1" in again.stdout
    assert "row 2: invalid_phone_number" in again.stdout


async def test_an_unknown_account_or_an_unreadable_file_exits_1(server, database_url, tmp_path):
    customer = await create_customer(server.runtime)
    lynsms = cli(database_url)
    path = tmp_path / "contacts.csv"
    path.write_text(CSV)

    unknown = lynsms("contacts", "import", str(path), "--account", "acct_nope", check=False)
    path.write_text("colour\nred\n")
    bad = lynsms("contacts", "import", str(path), "--account", customer.account_id, check=False)

    assert unknown.returncode == 1 and "not_found" in unknown.stdout
    assert bad.returncode == 1 and "validation_error" in bad.stdout and "colour" in bad.stdout
