"""POST /contacts/import (API.md §8, §12): CSV in, ``{created, updated, failed}`` out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from lynsms.contacts import importer
from lynsms.contacts import service as contacts_service
from lynsms.contacts.schemas import ContactCreate, ContactUpdate
from lynsms.database import session_scope
from tests.contacts.helpers import create, error, import_csv, listing, phones

HEADER = "phone,name,email,tags,attributes.plan,attributes.city\n"


def result_of(response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["data"]) == {"created", "updated", "failed"}, body
    return body["data"]  # type: ignore[no-any-return]


async def contact(api, headers, phone: str) -> dict:
    found = (await listing(api, headers, phone=phone))["data"]
    assert len(found) == 1, found
    return found[0]  # type: ignore[no-any-return]


async def test_import_creates_contacts(api, customer):
    text = (
        HEADER
        + "+12025550101,Ada Lovelace,ada@example.com,vip;london,pro,London\n"
        + '"+1 (202) 555-0102","Hopper, Grace",,navy,,\n'
        + "+12025550103\n"
    )

    result = result_of(await import_csv(api, customer.live, text))

    assert result == {"created": 3, "updated": 0, "failed": []}
    ada = await contact(api, customer.live, "+12025550101")
    assert (ada["name"], ada["email"], ada["tags"]) == (
        "Ada Lovelace",
        "ada@example.com",
        ["vip", "london"],
    )
    assert ada["attributes"] == {"plan": "pro", "city": "London"}
    grace = await contact(api, customer.live, "+12025550102")
    assert (grace["name"], grace["email"], grace["tags"], grace["attributes"]) == (
        "Hopper, Grace",
        None,
        ["navy"],
        {},
    )
    assert (await contact(api, customer.live, "+12025550103"))["tags"] == []
    assert await phones(api, customer.live, tag="vip") == ["+12025550101"]


async def test_import_updates_by_phone_and_an_empty_cell_changes_nothing(api, customer):
    made = await create(
        api,
        customer.live,
        phone="+12025550101",
        name="Ada",
        email="ada@example.com",
        tags=["old"],
        attributes={"visits": 3, "plan": "free"},
    )
    text = HEADER + "+1 202 555 0101,,,new;vip,pro,\n+12025550102,Bob,,,,\n"

    result = result_of(await import_csv(api, customer.live, text))

    assert result == {"created": 1, "updated": 1, "failed": []}
    ada = await contact(api, customer.live, "+12025550101")
    assert ada["id"] == made["id"]
    assert (ada["name"], ada["email"], ada["tags"]) == ("Ada", "ada@example.com", ["new", "vip"])
    assert ada["attributes"] == {"visits": 3, "plan": "pro"}  # merged; CSV values are strings
    assert ada["updated_at"] > made["updated_at"]
    assert await phones(api, customer.live, tag="old") == []
    assert await phones(api, customer.live, tag="new") == ["+12025550101"]


async def test_importing_the_same_file_again_updates_and_changes_nothing(api, customer):
    text = HEADER + "+12025550101,Ada,,vip,pro,\n+12025550102,Bob,,,,\n"
    result_of(await import_csv(api, customer.live, text))
    before = (await listing(api, customer.live))["data"]

    again = result_of(await import_csv(api, customer.live, text))

    assert again == {"created": 0, "updated": 2, "failed": []}
    assert (await listing(api, customer.live))["data"] == before


async def test_bad_rows_are_reported_with_their_row_and_the_rest_imported(api, customer):
    text = (
        "phone,name,email\n"
        "+12025550101,Ada,\n"  # row 1
        "0712345678,National,\n"  # row 2
        ",No phone,\n"  # row 3
        "+12025550104,Bad mail,nope\n"  # row 4
        "+12025550105,Too,many,cells\n"  # row 5
        "+1,Short,\n"  # row 6
        f"+12025550107,{'x' * 201},\n"  # row 7
        "+12025550108,Fine,fine@example.com\n"  # row 8
    )

    result = result_of(await import_csv(api, customer.live, text))

    assert (result["created"], result["updated"]) == (2, 0)
    codes = [(f["row"], f["error"]["code"]) for f in result["failed"]]
    assert codes == [
        (2, "invalid_phone_number"),
        (3, "validation_error"),
        (4, "validation_error"),
        (5, "validation_error"),
        (6, "invalid_phone_number"),
        (7, "validation_error"),
    ]
    assert all(f["error"]["message"] for f in result["failed"])
    assert "0712345678" in result["failed"][0]["error"]["message"]
    assert sorted(await phones(api, customer.live)) == ["+12025550101", "+12025550108"]


async def test_a_phone_repeated_in_one_file_takes_its_last_row(api, customer):
    text = (
        "phone,name,tags,attributes.plan\n"
        "+12025550101,First,a,free\n"
        "+1 202 555 0101,Last,,\n"
        "+12025550102,Other,,\n"
        "+12025550101,,b,\n"  # row 4: the last valid one; its empty cells are absent
        "+12025550101,,,x,too-many\n"  # row 5 fails: it does not count
    )

    result = result_of(await import_csv(api, customer.live, text))

    assert (result["created"], result["updated"]) == (2, 0)
    assert [f["row"] for f in result["failed"]] == [5]
    ada = await contact(api, customer.live, "+12025550101")
    assert (ada["name"], ada["tags"], ada["attributes"]) == (None, ["b"], {})


async def test_header_is_case_insensitive_and_bom_crlf_and_blank_lines_are_read(api, customer):
    text = "\ufeffPhone,NAME,Attributes.Plan\r\n+12025550101,Ada,pro\r\n\r\n0712,Bad,\r\n"

    result = result_of(await import_csv(api, customer.live, text))

    assert result["created"] == 1
    assert [f["row"] for f in result["failed"]] == [3]  # the blank line is row 2
    ada = await contact(api, customer.live, "+12025550101")
    assert (ada["name"], ada["attributes"]) == ("Ada", {"Plan": "pro"})


@pytest.mark.parametrize(
    ("text", "param"),
    [
        ("", None),
        ("name,email\nAda,ada@example.com\n", None),
        ("phone,colour\n+12025550101,red\n", "colour"),
        ("phone,name,Name\n+12025550101,a,b\n", "name"),
        ("phone,attributes.bad key\n+12025550101,x\n", "attributes.bad key"),
        (b"phone,name\n+12025550101,\xff\xfe\n", None),
        ('phone,name\n+12025550101,"unterminated\n+12025550102,Bob\n', None),
        ('phone,name\n+12025550101,"Ada"Lovelace\n', None),
    ],
)
async def test_a_file_that_cannot_be_read_is_422_and_imports_nothing(api, customer, text, param):
    response = await import_csv(api, customer.live, text)

    found = error(response, 422, "validation_error")
    if param is not None:
        assert found["param"] == param
    assert (await listing(api, customer.live))["pagination"]["total_items"] == 0


async def test_only_csv_is_taken(api, customer):
    response = await api.post(
        "/contacts/import", json=[{"phone": "+12025550101"}], headers=customer.live
    )
    assert error(response, 415, "unsupported_media_type")["message"].endswith("text/csv.")
    form = await api.post("/contacts/import", data={"phone": "+12025550101"}, headers=customer.live)
    error(form, 415, "unsupported_media_type")


async def test_csv_past_the_json_limit_is_taken_and_past_50_mib_is_413(api, customer):
    rows = "".join(f"+1303{2_000_000 + n:07d},{'n' * 60}\n" for n in range(20_000))
    big = "phone,name\n" + rows  # about 1.5 MiB: over the 1 MiB of JSON bodies
    assert len(big) > 1024 * 1024
    assert result_of(await import_csv(api, customer.live, big))["created"] == 20_000

    huge = b"phone\n" + b"+12025550101\n" * (50 * 1024 * 1024 // 13 + 1)
    error(await import_csv(api, customer.live, huge), 413, "payload_too_large")


async def test_an_imported_number_that_opted_out_shows_it(api, customer):
    made = await create(api, customer.live, phone="+12025550101", opted_out=True)
    await api.delete(f"/contacts/{made['id']}", headers=customer.live)

    result_of(await import_csv(api, customer.live, "phone\n+12025550101\n+12025550102\n"))

    assert await phones(api, customer.live, opted_out="true") == ["+12025550101"]


@contextmanager
def statements(engine) -> Iterator[list[int]]:
    """Counts the statements about contacts the server sends its database (an executemany
    is one)."""
    seen = [0]

    def count(_conn, _cursor, statement: str, *_args) -> None:
        if "contact" in statement:
            seen[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def test_100k_rows_import_in_one_request_in_batches(api, customer, server):
    rows = "".join(
        f"+1303{2_000_000 + n:07d},Person {n},p{n}@example.com,{'even' if n % 2 == 0 else 'odd'};all,"
        f"plan{n % 3},City {n % 7}\n"
        for n in range(100_000)
    )
    text = HEADER + rows + "not-a-number,Bad,,,,\n"
    database = server.runtime.database

    started = time.perf_counter()
    with statements(database.writes) as writes:
        response = await import_csv(api, customer.live, text)
    seconds = time.perf_counter() - started

    result = result_of(response)
    print(
        f"\n100,000-row import: {seconds:.2f} s, {100_000 / seconds:,.0f} rows/s, "
        f"{writes[0]} write statements"
    )
    assert (result["created"], result["updated"]) == (100_000, 0)
    assert (
        result["failed"] == [{"row": 100_001, "error": result["failed"][0]["error"]}]
        and result["failed"][0]["error"]["code"] == "invalid_phone_number"
    )
    # Batched: at most 5 statements (select, insert, tags, update, retag) per batch.
    assert writes[0] <= 5 * (100_000 // importer.BATCH + 1), writes[0]
    assert (await listing(api, customer.live, limit=1))["pagination"]["total_items"] == 100_000
    assert (await listing(api, customer.live, tag="even", limit=1))["pagination"][
        "total_items"
    ] == 50_000
    last = await contact(api, customer.live, "+13032099999")
    assert (last["name"], last["tags"], last["attributes"]) == (
        "Person 99999",
        ["odd", "all"],
        {"plan": "plan0", "city": "City 4"},
    )


async def test_a_contact_changed_between_plan_and_write_is_read_again(
    api, customer, server, monkeypatch
):
    made = await create(api, customer.live, phone="+12025550101", attributes={"a": "1"})
    planned = []
    real_plan = importer._plan

    async def plan_then_patch(database, account_id, batch):
        plan = await real_plan(database, account_id, batch)
        if not planned:  # a PATCH lands after the plan's read, before its transaction
            patch = ContactUpdate(attributes={"b": "2"})
            async with session_scope(database, write=True) as session:
                await contacts_service.update_contact(session, account_id, made["id"], patch)
        planned.append(plan)
        return plan

    monkeypatch.setattr(importer, "_plan", plan_then_patch)

    result = result_of(await import_csv(api, customer.live, "phone,attributes.c\n+12025550101,3\n"))

    assert result == {"created": 0, "updated": 1, "failed": []}
    assert len(planned) == 2  # the first plan was stale
    contact_now = await contact(api, customer.live, "+12025550101")
    assert contact_now["attributes"] == {"a": "1", "b": "2", "c": "3"}  # no update lost


async def test_a_contact_created_between_plan_and_write_is_updated(
    api, customer, server, monkeypatch
):
    planned = []
    real_plan = importer._plan

    async def plan_then_create(database, account_id, batch):
        plan = await real_plan(database, account_id, batch)
        if not planned:
            spec = ContactCreate(phone="+12025550101", name="Racer")
            async with session_scope(database, write=True) as session:
                await contacts_service.create_contact(session, account_id, spec)
        planned.append(plan)
        return plan

    monkeypatch.setattr(importer, "_plan", plan_then_create)

    text = "phone,email\n+12025550101,ada@example.com\n+12025550102,\n"
    result = result_of(await import_csv(api, customer.live, text))

    assert result == {"created": 1, "updated": 1, "failed": []}
    racer = await contact(api, customer.live, "+12025550101")
    assert (racer["name"], racer["email"]) == ("Racer", "ada@example.com")
