"""POST /messages/send and /messages/bulk with ``template_id`` or ``template_name`` and
``variables`` instead of ``body`` (API.md §8, §12), through the fast path."""

from __future__ import annotations

import pytest

from tests.factories import create_customer
from tests.templates.helpers import create, error

TO = "+12025550143"
VARIABLES = {"first_name": "Ada", "order.id": 1042}
RENDERED = "Hi Ada, order 1042 is confirmed. Thanks, Ada!"


async def balance(api, customer) -> float:
    return (await api.get("/balance", headers=customer.live)).json()["data"]["balance"]  # type: ignore[no-any-return]


async def messages_total(api, customer) -> int:
    page = (await api.get("/messages", headers=customer.live)).json()
    return page["pagination"]["total_items"]  # type: ignore[no-any-return]


async def test_send_by_template_id(api, customer):
    template = await create(api, customer.live)

    response = await api.post(
        "/messages/send",
        json={"to": TO, "from": "LynSMS", "template_id": template["id"], "variables": VARIABLES},
        headers=customer.live,
    )

    assert response.status_code == 201, response.text
    message = response.json()["data"]
    assert (message["body"], message["status"], message["segments"]) == (RENDERED, "sent", 1)
    assert message["cost"] == pytest.approx(0.05)
    stored = await api.get(f"/messages/{message['id']}", headers=customer.live)
    assert stored.json()["data"]["body"] == RENDERED


async def test_send_by_template_name_with_a_test_key(api, customer):
    await create(api, customer.live, body="Your code is {{code}}", name="otp")

    response = await api.post(
        "/messages/send",
        json={"to": TO, "from": "LynSMS", "template_name": "otp", "variables": {"code": "482194"}},
        headers=customer.test,
    )

    assert response.status_code == 201, response.text
    assert response.json()["data"]["body"] == "Your code is 482194"


async def test_a_template_without_variables_needs_none(api, customer):
    template = await create(api, customer.live, name="plain", body="Doors open at 7")

    response = await api.post(
        "/messages/send",
        json={"to": TO, "from": "LynSMS", "template_id": template["id"]},
        headers=customer.live,
    )

    assert response.status_code == 201 and response.json()["data"]["body"] == "Doors open at 7"


async def test_a_missing_variable_is_422_naming_it_and_creates_nothing(api, customer):
    template = await create(api, customer.live)
    before = await balance(api, customer)

    response = await api.post(
        "/messages/send",
        json={
            "to": TO,
            "from": "LynSMS",
            "template_id": template["id"],
            "variables": {"first_name": "Ada"},
        },
        headers=customer.live,
    )

    found = error(response, 422, "missing_template_variable", "variables.order.id")
    assert "order.id" in found["message"] and "first_name" not in found["message"]
    assert await balance(api, customer) == pytest.approx(before)
    assert await messages_total(api, customer) == 0


@pytest.mark.parametrize(
    ("fields", "code", "param"),
    [
        ({"template_id": "tpl_0000000000000000000000000"}, "unknown_template", "template_id"),
        ({"template_name": "nope"}, "unknown_template", "template_name"),
        ({"template_name": "order_confirmation", "body": "hi"}, "validation_error", "body"),
        ({"body": "hi", "variables": {"a": 1}}, "validation_error", "variables"),
        ({"variables": {"first_name": "A"}}, "validation_error", "variables"),
        (
            {"template_name": "order_confirmation", "template_id": "tpl_x"},
            "validation_error",
            "template_name",
        ),
        (
            {"template_name": "order_confirmation", "variables": {"first_name": [1]}},
            "validation_error",
            None,
        ),
        ({}, "validation_error", "body"),
    ],
)
async def test_refused_template_sends(api, customer, fields, code, param):
    await create(api, customer.live)

    response = await api.post(
        "/messages/send", json={"to": TO, "from": "LynSMS", **fields}, headers=customer.live
    )

    error(response, 422, code, param)
    assert await messages_total(api, customer) == 0


async def test_another_accounts_template_is_unknown(api, customer, server):
    other = await create_customer(server.runtime)
    theirs = await create(api, other.live)

    for fields, param in (
        ({"template_id": theirs["id"]}, "template_id"),
        ({"template_name": theirs["name"]}, "template_name"),
    ):
        response = await api.post(
            "/messages/send",
            json={"to": TO, "from": "LynSMS", "variables": VARIABLES, **fields},
            headers=customer.live,
        )
        error(response, 422, "unknown_template", param)


async def test_a_rendered_body_over_1600_characters_is_too_long(api, customer):
    template = await create(api, customer.live, name="long", body="{{text}}{{text}}")

    response = await api.post(
        "/messages/send",
        json={
            "to": TO,
            "from": "LynSMS",
            "template_name": "long",
            "variables": {"text": "x" * 801},
        },
        headers=customer.live,
    )

    error(response, 422, "message_too_long", "body")
    assert template["variables"] == ["text"]


async def test_an_opted_out_recipient_is_refused_for_a_template_too(api, customer):
    await create(api, customer.live)
    await api.post("/contacts", json={"phone": TO, "opted_out": True}, headers=customer.live)

    response = await api.post(
        "/messages/send",
        json={
            "to": TO,
            "from": "LynSMS",
            "template_name": "order_confirmation",
            "variables": VARIABLES,
        },
        headers=customer.live,
    )

    error(response, 422, "recipient_opted_out", "to")


async def test_bulk_to_recipients_by_template(api, customer):
    template = await create(api, customer.live)

    response = await api.post(
        "/messages/bulk",
        json={
            "from": "LynSMS",
            "recipients": [TO, "+447700900100", "0712"],
            "template_id": template["id"],
            "variables": VARIABLES,
        },
        headers=customer.live,
    )

    assert response.status_code == 201, response.text
    result = response.json()["data"]
    assert (result["total"], result["sent"], result["failed"]) == (3, 2, 1)
    for item in result["messages"][:2]:
        stored = (await api.get(f"/messages/{item['id']}", headers=customer.live)).json()["data"]
        assert stored["body"] == RENDERED


async def test_bulk_messages_by_template_name_keep_their_own_bodies(api, customer):
    await create(api, customer.live)

    response = await api.post(
        "/messages/bulk",
        json={
            "from": "LynSMS",
            "messages": [{"to": TO, "reference": "a"}, {"to": "+447700900100", "body": "Own text"}],
            "template_name": "order_confirmation",
            "variables": VARIABLES,
        },
        headers=customer.live,
    )

    assert response.status_code == 201, response.text
    bodies = []
    for item in response.json()["data"]["messages"]:
        bodies.append(
            (await api.get(f"/messages/{item['id']}", headers=customer.live)).json()["data"]["body"]
        )
    assert bodies == [RENDERED, "Own text"]


@pytest.mark.parametrize(
    ("fields", "code", "param"),
    [
        (
            {"template_name": "order_confirmation", "variables": {"first_name": "A"}},
            "missing_template_variable",
            "variables.order.id",
        ),
        (
            {"template_name": "order_confirmation"},
            "missing_template_variable",
            "variables.first_name",
        ),
        ({"template_name": "nope", "variables": VARIABLES}, "unknown_template", "template_name"),
        (
            {"template_name": "order_confirmation", "variables": VARIABLES, "body": "hi"},
            "validation_error",
            "body",
        ),
        ({"body": "hi", "variables": VARIABLES}, "validation_error", "variables"),
    ],
)
async def test_refused_bulk_template_sends_create_nothing(api, customer, fields, code, param):
    await create(api, customer.live)
    before = await balance(api, customer)

    response = await api.post(
        "/messages/bulk",
        json={"from": "LynSMS", "recipients": [TO, "+447700900100"], **fields},
        headers=customer.live,
    )

    error(response, 422, code, param)
    assert await balance(api, customer) == pytest.approx(before)
    assert await messages_total(api, customer) == 0


async def test_an_edited_template_sends_its_new_body(api, customer):
    template = await create(api, customer.live, name="promo", body="Sale: {{pct}}% off")
    payload = {"to": TO, "from": "LynSMS", "template_name": "promo", "variables": {"pct": 10}}
    first = await api.post("/messages/send", json=payload, headers=customer.live)

    await api.patch(
        f"/templates/{template['id']}",
        json={"body": "Last day: {{pct}}% off"},
        headers=customer.live,
    )
    second = await api.post("/messages/send", json=payload, headers=customer.live)

    assert [r.json()["data"]["body"] for r in (first, second)] == [
        "Sale: 10% off",
        "Last day: 10% off",
    ]
