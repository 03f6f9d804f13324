"""Contacts CRUD through the public API (API.md §8, §12), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from tests.contacts.helpers import create, error, listing, patch, phones
from tests.factories import create_customer, create_key

ADA = {
    "phone": "+44 (7700) 900-100",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "tags": [" vip ", "london", "vip", ""],
    "attributes": {"plan": "pro", "visits": 12, "ratio": 0.5, "beta": True},
}


async def test_create_returns_the_contact_normalised(api, customer):
    response = await api.post("/contacts", json=ADA, headers=customer.live)

    assert response.status_code == 201, response.text
    contact = response.json()["data"]
    assert contact["id"].startswith("ct_") and len(contact["id"]) == 28
    assert contact["object"] == "contact"
    assert contact["phone"] == "+447700900100"
    assert (contact["name"], contact["email"]) == ("Ada Lovelace", "ada@example.com")
    assert contact["tags"] == ["vip", "london"]
    assert contact["attributes"] == {"plan": "pro", "visits": 12, "ratio": 0.5, "beta": True}
    assert (contact["opted_out"], contact["opted_out_at"]) == (False, None)
    assert contact["created_at"].endswith("+00:00")
    assert contact["created_at"] == contact["updated_at"]


async def test_get_returns_what_create_returned(api, customer):
    created = await create(api, customer.live, **ADA)

    response = await api.get(f"/contacts/{created['id']}", headers=customer.live)

    assert response.status_code == 200 and response.json()["data"] == created


async def test_a_minimal_contact_has_empty_fields(api, customer):
    contact = await create(api, customer.live, phone="0044 20 7946 0958")

    assert contact["phone"] == "+442079460958"
    assert (contact["name"], contact["email"], contact["tags"], contact["attributes"]) == (
        None,
        None,
        [],
        {},
    )


async def test_the_same_number_in_another_format_is_409(api, customer):
    await create(api, customer.live, phone="+12025550143")

    response = await api.post(
        "/contacts", json={"phone": "+1 (202) 555-0143"}, headers=customer.live
    )

    error(response, 409, "contact_exists", "phone")
    assert (await listing(api, customer.live))["pagination"]["total_items"] == 1


async def test_two_accounts_may_hold_the_same_number_and_see_only_their_own(api, customer, server):
    other = await create_customer(server.runtime)
    mine = await create(api, customer.live, phone="+12025550143", name="Mine")
    theirs = await create(api, other.live, phone="+12025550143", name="Theirs")

    assert await phones(api, customer.live) == ["+12025550143"]
    for method, path in (
        ("GET", f"/contacts/{theirs['id']}"),
        ("PATCH", f"/contacts/{theirs['id']}"),
        ("DELETE", f"/contacts/{theirs['id']}"),
    ):
        response = await api.request(
            method, path, json={} if method == "PATCH" else None, headers=customer.live
        )
        error(response, 404, "not_found")
    still = await api.get(f"/contacts/{mine['id']}", headers=customer.live)
    assert still.json()["data"]["name"] == "Mine"


async def test_concurrent_creates_of_one_number_make_one_contact(api, customer):
    responses = await asyncio.gather(
        *(
            api.post("/contacts", json={"phone": "+12025550143"}, headers=customer.live)
            for _ in range(6)
        )
    )

    assert sorted(r.status_code for r in responses) == [201] + [409] * 5, [
        r.text for r in responses
    ]
    assert (await listing(api, customer.live))["pagination"]["total_items"] == 1


@pytest.mark.parametrize(
    ("payload", "code", "param"),
    [
        ({"phone": "0712345678"}, "invalid_phone_number", "phone"),
        ({"phone": "+1"}, "invalid_phone_number", "phone"),
        ({}, "validation_error", "phone"),
        ({"phone": 12025550143}, "validation_error", "phone"),
        ({"phone": "+12025550143", "email": "not-an-email"}, "validation_error", "email"),
        ({"phone": "+12025550143", "name": "x" * 201}, "validation_error", "name"),
        ({"phone": "+12025550143", "tags": ["a;b"]}, "validation_error", "tags"),
        ({"phone": "+12025550143", "tags": ["t" * 65]}, "validation_error", "tags"),
        ({"phone": "+12025550143", "tags": "vip"}, "validation_error", "tags"),
        ({"phone": "+12025550143", "attributes": {"nested": {"a": 1}}}, "validation_error", None),
        ({"phone": "+12025550143", "attributes": {"list": [1]}}, "validation_error", None),
        ({"phone": "+12025550143", "attributes": {"bad key": 1}}, "validation_error", "attributes"),
        ({"phone": "+12025550143", "attributes": {"a": "x" * 1001}}, "validation_error", None),
        ({"phone": "+12025550143", "opted_out": "yes"}, "validation_error", "opted_out"),
        ({"phone": "+12025550143", "colour": "red"}, "validation_error", "colour"),
    ],
)
async def test_invalid_contacts_are_422_and_named(api, customer, payload, code, param):
    response = await api.post("/contacts", json=payload, headers=customer.live)

    found = error(response, 422, code)
    if param is not None:
        assert found["param"].split(".")[0] == param, found
    assert (await listing(api, customer.live))["pagination"]["total_items"] == 0


async def test_patch_merges_attributes_and_replaces_tags(api, customer):
    contact = await create(api, customer.live, **ADA)
    await asyncio.sleep(0.01)

    updated = await patch(
        api,
        customer.live,
        contact["id"],
        attributes={"visits": 13, "beta": None, "city": "London"},
        tags=["gold"],
    )

    assert updated["attributes"] == {"plan": "pro", "visits": 13, "ratio": 0.5, "city": "London"}
    assert updated["tags"] == ["gold"]
    assert (updated["name"], updated["email"], updated["phone"]) == (
        "Ada Lovelace",
        "ada@example.com",
        "+447700900100",
    )
    assert datetime.fromisoformat(updated["updated_at"]) > datetime.fromisoformat(
        contact["updated_at"]
    )
    assert updated["created_at"] == contact["created_at"]
    assert await phones(api, customer.live, tag="gold") == ["+447700900100"]
    assert await phones(api, customer.live, tag="vip") == []


async def test_patch_null_clears_a_field(api, customer):
    contact = await create(api, customer.live, **ADA)

    cleared = await patch(
        api, customer.live, contact["id"], name=None, email=None, tags=None, attributes=None
    )

    assert (cleared["name"], cleared["email"], cleared["tags"], cleared["attributes"]) == (
        None,
        None,
        [],
        {},
    )
    assert await phones(api, customer.live, tag="vip") == []


async def test_patch_of_nothing_changes_nothing(api, customer):
    contact = await create(api, customer.live, **ADA)

    assert await patch(api, customer.live, contact["id"]) == contact


async def test_patch_phone_is_normalised_and_unique(api, customer):
    first = await create(api, customer.live, phone="+12025550143")
    second = await create(api, customer.live, phone="+12025550144")

    moved = await patch(api, customer.live, second["id"], phone="001 202 555 0145")
    assert moved["phone"] == "+12025550145"

    taken = await api.patch(
        f"/contacts/{second['id']}", json={"phone": "+1 202 555 0143"}, headers=customer.live
    )
    error(taken, 409, "contact_exists", "phone")
    for payload, code in (
        ({"phone": None}, "validation_error"),
        ({"phone": "12345"}, "invalid_phone_number"),
        ({"opted_out": None}, "validation_error"),
        ({"attributes": {"x": {"y": 1}}}, "validation_error"),
        ({"id": "ct_x"}, "validation_error"),
    ):
        response = await api.patch(f"/contacts/{first['id']}", json=payload, headers=customer.live)
        error(response, 422, code)
    assert await phones(api, customer.live) == ["+12025550145", "+12025550143"]


async def test_delete_answers_the_deleted_contact_and_frees_its_number(api, customer):
    contact = await create(api, customer.live, **ADA)

    deleted = await api.delete(f"/contacts/{contact['id']}", headers=customer.live)

    assert deleted.status_code == 200 and deleted.json()["data"] == contact
    error(await api.get(f"/contacts/{contact['id']}", headers=customer.live), 404, "not_found")
    error(await api.delete(f"/contacts/{contact['id']}", headers=customer.live), 404, "not_found")
    assert await phones(api, customer.live, tag="vip") == []
    again = await create(api, customer.live, phone=ADA["phone"])
    assert again["id"] != contact["id"] and again["tags"] == []


async def test_list_is_newest_first_and_paginated(api, customer):
    created = [await create(api, customer.live, phone=f"+1202555{n:04d}") for n in range(5)]

    first = await listing(api, customer.live, limit=2)
    last = await listing(api, customer.live, limit=2, page=3)

    assert [c["id"] for c in first["data"]] == [created[4]["id"], created[3]["id"]]
    assert first["pagination"] == {
        "page": 1,
        "limit": 2,
        "total_items": 5,
        "total_pages": 3,
        "has_next": True,
        "has_prev": False,
    }
    assert [c["id"] for c in last["data"]] == [created[0]["id"]]
    assert last["pagination"]["has_next"] is False


async def test_list_filters(api, customer):
    await create(api, customer.live, phone="+12025550101", name="Ada Lovelace", tags=["vip"])
    await create(
        api, customer.live, phone="+12025550102", name="Grace HOPPER", tags=["vip", "navy"]
    )
    await create(api, customer.live, phone="+447700900100", name="Alan 100% Turing")
    await create(api, customer.live, phone="+447700900101", name="a_b", opted_out=True)

    assert await phones(api, customer.live, tag="vip") == ["+12025550102", "+12025550101"]
    assert await phones(api, customer.live, tag="navy") == ["+12025550102"]
    assert await phones(api, customer.live, tag="VIP") == []
    assert await phones(api, customer.live, phone="+1 (202) 555-0101") == ["+12025550101"]
    assert await phones(api, customer.live, q="hopper") == ["+12025550102"]
    assert await phones(api, customer.live, q="lov") == ["+12025550101"]
    assert await phones(api, customer.live, q="7700 900") == ["+447700900101", "+447700900100"]
    assert await phones(api, customer.live, q="%") == ["+447700900100"]
    assert await phones(api, customer.live, q="_") == ["+447700900101"]
    assert await phones(api, customer.live, opted_out="true") == ["+447700900101"]
    assert len(await phones(api, customer.live, opted_out="false")) == 3
    assert await phones(api, customer.live, tag="vip", q="ada") == ["+12025550101"]
    counted = await listing(api, customer.live, tag="vip", limit=1)
    assert counted["pagination"]["total_items"] == 2
    bad = await api.get("/contacts", params={"phone": "0712"}, headers=customer.live)
    error(bad, 422, "invalid_phone_number", "phone")


async def test_scopes(api, customer, server):
    reader = await create_key(server.runtime, customer.account_id, scopes=["contacts:read"])
    sender = await create_key(server.runtime, customer.account_id, scopes=["messages:send"])
    contact = await create(api, customer.live, phone="+12025550143")

    read = await api.get(f"/contacts/{contact['id']}", headers=customer.headers(reader))
    assert read.status_code == 200
    for method, path in (
        ("POST", "/contacts"),
        ("PATCH", f"/contacts/{contact['id']}"),
        ("DELETE", f"/contacts/{contact['id']}"),
        ("POST", "/contacts/import"),
    ):
        csv = path.endswith("/import")
        refused = await api.request(
            method,
            path,
            content=b"phone\n+12025550144\n" if csv else b"{}",
            headers={
                **customer.headers(reader),
                "Content-Type": "text/csv" if csv else "application/json",
            },
        )
        found = error(refused, 403, "insufficient_scope")
        assert found["required_scope"] == "contacts:write"
    refused = await api.get("/contacts", headers=customer.headers(sender))
    assert error(refused, 403, "insufficient_scope")["required_scope"] == "contacts:read"
    assert (await api.get("/contacts")).status_code == 401
