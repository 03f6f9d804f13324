"""Templates CRUD and preview through the public API (API.md §8, §12)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from tests.factories import create_customer, create_key
from tests.templates.helpers import ORDER, create, error


async def test_create_derives_the_variables(api, customer):
    response = await api.post("/templates", json=ORDER, headers=customer.live)

    assert response.status_code == 201, response.text
    template = response.json()["data"]
    assert template["id"].startswith("tpl_") and len(template["id"]) == 29
    assert template["object"] == "template"
    assert (template["name"], template["body"], template["description"]) == (
        ORDER["name"],
        ORDER["body"],
        ORDER["description"],
    )
    assert template["variables"] == ["first_name", "order.id"]
    assert template["created_at"] == template["updated_at"]
    assert template["created_at"].endswith("+00:00")
    got = await api.get(f"/templates/{template['id']}", headers=customer.live)
    assert got.status_code == 200 and got.json()["data"] == template


async def test_a_template_without_placeholders_or_description(api, customer):
    template = await create(
        api, customer.live, name="plain", body="Doors open at 7", description=None
    )

    assert (template["variables"], template["description"]) == ([], None)


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"name": "Order"}, "name"),
        ({"name": "order-confirmation"}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": ""}, "name"),
        ({"body": ""}, "body"),
        ({"body": "x" * 1601}, "body"),
        ({"body": "Hi {{ first name }}"}, "body"),
        ({"body": "Hi {{name"}, "body"),
        ({"description": "d" * 501}, "description"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_invalid_templates_are_422_and_named(api, customer, payload, param):
    response = await api.post("/templates", json={**ORDER, **payload}, headers=customer.live)

    assert error(response, 422, "validation_error")["param"] == param
    assert (await api.get("/templates", headers=customer.live)).json()["data"] == []


async def test_a_taken_name_is_409_even_when_racing(api, customer, server):
    await create(api, customer.live)
    error(
        await api.post("/templates", json=ORDER, headers=customer.live),
        409,
        "template_exists",
        "name",
    )
    other = await create_customer(server.runtime)
    assert (await api.post("/templates", json=ORDER, headers=other.live)).status_code == 201

    racing = await asyncio.gather(
        *(
            api.post("/templates", json={**ORDER, "name": "race"}, headers=customer.live)
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in racing) == [201, 409, 409, 409, 409]


async def test_patch_changes_only_what_is_sent(api, customer):
    template = await create(api, customer.live)
    await asyncio.sleep(0.01)

    renamed = await api.patch(
        f"/templates/{template['id']}", json={"body": "Order {{id}} shipped"}, headers=customer.live
    )

    data = renamed.json()["data"]
    assert (data["name"], data["body"], data["variables"]) == (
        ORDER["name"],
        "Order {{id}} shipped",
        ["id"],
    )
    assert data["description"] == ORDER["description"]
    assert datetime.fromisoformat(data["updated_at"]) > datetime.fromisoformat(
        template["updated_at"]
    )
    cleared = await api.patch(
        f"/templates/{template['id']}",
        json={"description": None, "name": "order_shipped"},
        headers=customer.live,
    )
    assert (cleared.json()["data"]["description"], cleared.json()["data"]["name"]) == (
        None,
        "order_shipped",
    )


async def test_patch_refusals(api, customer):
    first = await create(api, customer.live, name="first")
    second = await create(api, customer.live, name="second")
    path = f"/templates/{second['id']}"

    error(
        await api.patch(path, json={"name": "first"}, headers=customer.live),
        409,
        "template_exists",
        "name",
    )
    for payload, param in (
        ({"name": None}, "name"),
        ({"body": None}, "body"),
        ({"body": "{{ bad name }}"}, "body"),
        ({"name": "Bad"}, "name"),
        ({"variables": []}, "variables"),
    ):
        assert (
            error(
                await api.patch(path, json=payload, headers=customer.live), 422, "validation_error"
            )["param"]
            == param
        )
    same = await api.patch(path, json={"name": "second"}, headers=customer.live)
    assert same.status_code == 200
    assert (await api.get(f"/templates/{first['id']}", headers=customer.live)).json()[
        "data"
    ] == first


async def test_delete_answers_the_deleted_template_and_frees_its_name(api, customer):
    template = await create(api, customer.live)

    deleted = await api.delete(f"/templates/{template['id']}", headers=customer.live)

    assert deleted.status_code == 200 and deleted.json()["data"] == template
    error(await api.get(f"/templates/{template['id']}", headers=customer.live), 404, "not_found")
    error(await api.delete(f"/templates/{template['id']}", headers=customer.live), 404, "not_found")
    assert (await create(api, customer.live))["id"] != template["id"]


async def test_list_is_newest_first_paginated_and_per_account(api, customer, server):
    made = [await create(api, customer.live, name=f"t{n}") for n in range(3)]
    other = await create_customer(server.runtime)
    theirs = await create(api, other.live, name="theirs")

    page = (await api.get("/templates", params={"limit": 2}, headers=customer.live)).json()

    assert [t["name"] for t in page["data"]] == ["t2", "t1"]
    assert page["pagination"]["total_items"] == 3 and page["pagination"]["has_next"] is True
    for method in ("GET", "PATCH", "DELETE"):
        response = await api.request(
            method,
            f"/templates/{theirs['id']}",
            json={} if method == "PATCH" else None,
            headers=customer.live,
        )
        error(response, 404, "not_found")
    preview = await api.post(f"/templates/{theirs['id']}/preview", json={}, headers=customer.live)
    error(preview, 404, "not_found")
    assert made[0]["id"] in {
        t["id"]
        for t in (
            await api.get("/templates", params={"page": 2, "limit": 2}, headers=customer.live)
        ).json()["data"]
    }


@pytest.mark.parametrize(
    ("variables", "body", "encoding", "segments"),
    [
        (
            {"first_name": "Ada", "order.id": 1042},
            "Hi Ada, order 1042 is confirmed. Thanks, Ada!",
            "GSM-7",
            1,
        ),
        (
            {"first_name": "Zoë 😀", "order.id": "A-1", "unused": True},
            "Hi Zoë 😀, order A-1 is confirmed. Thanks, Zoë 😀!",
            "UCS-2",
            1,
        ),
        (
            {"first_name": "x" * 80, "order.id": 7},
            f"Hi {'x' * 80}, order 7 is confirmed. Thanks, {'x' * 80}!",
            "GSM-7",
            2,
        ),
    ],
)
async def test_preview_renders_and_segments(api, customer, variables, body, encoding, segments):
    template = await create(api, customer.live)

    response = await api.post(
        f"/templates/{template['id']}/preview", json={"variables": variables}, headers=customer.live
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"body": body, "encoding": encoding, "segments": segments}


async def test_preview_names_the_missing_variables(api, customer):
    template = await create(api, customer.live)

    response = await api.post(
        f"/templates/{template['id']}/preview", json={}, headers=customer.live
    )

    found = error(response, 422, "missing_template_variable", "variables.first_name")
    assert "'first_name', 'order.id'" in found["message"]
    bad = await api.post(
        f"/templates/{template['id']}/preview",
        json={"variables": {"first_name": {"x": 1}}},
        headers=customer.live,
    )
    error(bad, 422, "validation_error")


async def test_scopes(api, customer, server):
    reader = await create_key(server.runtime, customer.account_id, scopes=["templates:read"])
    sender = await create_key(server.runtime, customer.account_id, scopes=["messages:send"])
    template = await create(api, customer.live)

    assert (
        await api.get(f"/templates/{template['id']}", headers=customer.headers(reader))
    ).status_code == 200
    preview = await api.post(
        f"/templates/{template['id']}/preview",
        json={"variables": {"first_name": "A", "order.id": 1}},
        headers=customer.headers(reader),
    )
    assert preview.status_code == 200
    for method, path in (
        ("POST", "/templates"),
        ("PATCH", f"/templates/{template['id']}"),
        ("DELETE", f"/templates/{template['id']}"),
    ):
        refused = await api.request(method, path, json=ORDER, headers=customer.headers(reader))
        assert error(refused, 403, "insufficient_scope")["required_scope"] == "templates:write"
    listed = await api.get("/templates", headers=customer.headers(sender))
    assert error(listed, 403, "insufficient_scope")["required_scope"] == "templates:read"
