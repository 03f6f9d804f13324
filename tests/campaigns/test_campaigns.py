"""Campaigns through the public API (API.md §8, §12): drafts, launch, stats, cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lynsms.billing import service as billing_service
from lynsms.database import session_scope
from tests.campaigns.helpers import DRAFT, campaign, contact, create, error, launch, wait_for
from tests.factories import create_customer

PHONES = ["+12025550101", "+12025550102", "+12025550103", "+12025550104", "+12025550105"]
PRICE = 0.05  # per segment (the default price)


def finished(found: dict) -> bool:
    return found["status"] == "completed" and found["stats"]["sent"] == 0


async def balance(api, headers) -> float:
    return (await api.get("/balance", headers=headers)).json()["data"]["balance"]


async def audience_of_four(api, headers):
    """vip: Ada, Bob, a contact without a name, and one that opted out; Eve is not vip."""
    await contact(api, headers, PHONES[0], name="Ada", tags=["vip"])
    await contact(api, headers, PHONES[1], name="Bob", tags=["vip", "news"])
    await contact(api, headers, PHONES[2], tags=["vip"])
    await contact(api, headers, PHONES[3], name="Cy", tags=["vip"], opted_out=True)
    await contact(api, headers, PHONES[4], name="Eve", tags=["news"])


# --- drafts -----------------------------------------------------------------------------
async def test_create_a_draft_and_read_it_back(api, customer):
    fields = {"variables": {"code": "SPRING"}, "audience": {"tags": ["vip", "vip", "news"]}}
    created = await create(api, customer.live, **fields)

    assert created["id"].startswith("cmp_") and created["object"] == "campaign"
    assert created["status"] == "draft"
    assert (created["name"], created["from"], created["body"]) == (
        DRAFT["name"],
        "LynSMS",
        DRAFT["body"],
    )
    assert created["audience"] == {"tags": ["vip", "news"]}
    assert created["variables"] == {"code": "SPRING"}
    assert created["stats"] == {
        "total": 0,
        "queued": 0,
        "sent": 0,
        "delivered": 0,
        "failed": 0,
        "skipped_opted_out": 0,
        "cancelled": 0,
    }
    assert created["template_id"] is None and created["send_at"] is None
    assert created["started_at"] is None and created["completed_at"] is None
    assert await campaign(api, customer.live, created["id"]) == created


@pytest.mark.parametrize(
    ("payload", "status", "code", "param"),
    [
        ({"name": ""}, 422, "validation_error", "name"),
        ({"name": None}, 422, "validation_error", "name"),
        ({"colour": "red"}, 422, "validation_error", "colour"),
        ({"from": "not a sender!"}, 422, "invalid_sender", "from"),
        ({"template_id": "tpl_nope", "body": None}, 422, "unknown_template", "template_id"),
        ({"template_id": "tpl_nope"}, 422, "unknown_template", "template_id"),
        ({"body": "Hi {{ first name }}"}, 422, "validation_error", "body"),
        ({"audience": {}}, 422, "validation_error", "audience"),
        ({"audience": {"tags": ["a"], "contact_ids": ["ct_1"]}}, 422, "validation_error", None),
        ({"audience": {"tags": []}}, 422, "validation_error", None),
        ({"send_at": "2001-01-01T00:00:00Z"}, 422, "invalid_schedule_date", "send_at"),
        ({"send_at": "tomorrow"}, 422, "invalid_schedule_date", "send_at"),
        ({"variables": {"code": None}}, 422, "validation_error", None),
    ],
)
async def test_invalid_drafts_are_refused_and_named(api, customer, payload, status, code, param):
    response = await api.post("/campaigns", json={**DRAFT, **payload}, headers=customer.live)

    found = error(response, status, code)
    if param is not None:
        assert found["param"] == param or found["param"].startswith(param), found
    assert (await api.get("/campaigns", headers=customer.live)).json()["data"] == []


async def test_a_draft_with_a_template_and_a_body_is_refused(api, customer):
    template = (
        await api.post(
            "/templates", json={"name": "t1", "body": "Hi {{name}}"}, headers=customer.live
        )
    ).json()["data"]

    response = await api.post(
        "/campaigns", json={**DRAFT, "template_id": template["id"]}, headers=customer.live
    )

    error(response, 422, "validation_error", "body")
    created = await create(api, customer.live, body=None, template_id=template["id"])
    assert created["template_id"] == template["id"] and created["body"] is None


async def test_patch_edits_a_draft_and_null_clears(api, customer):
    created = await create(api, customer.live, send_at="2099-01-01T00:00:00Z")

    response = await api.patch(
        f"/campaigns/{created['id']}",
        json={"name": "Renamed", "send_at": None, "audience": {"contact_ids": ["ct_x"]}},
        headers=customer.live,
    )

    assert response.status_code == 200, response.text
    patched = response.json()["data"]
    assert (patched["name"], patched["send_at"]) == ("Renamed", None)
    assert patched["audience"] == {"contact_ids": ["ct_x"]}
    assert patched["body"] == DRAFT["body"]
    assert patched["updated_at"] >= created["updated_at"]
    error(
        await api.patch(f"/campaigns/{created['id']}", json={"name": None}, headers=customer.live),
        422,
        "validation_error",
        "name",
    )


async def test_list_filters_by_status_pages_and_keeps_environments_apart(api, customer, server):
    first = await create(api, customer.live, name="one")
    second = await create(api, customer.live, name="two")
    mine_in_test = await create(api, customer.test, name="test one")
    other = await create_customer(server.runtime)
    await create(api, other.live, name="theirs")

    listed = (await api.get("/campaigns", params={"limit": 1}, headers=customer.live)).json()

    assert [c["id"] for c in listed["data"]] == [second["id"]]
    assert listed["pagination"]["total_items"] == 2 and listed["pagination"]["has_next"]
    drafts = await api.get("/campaigns", params={"status": "draft"}, headers=customer.live)
    assert [c["id"] for c in drafts.json()["data"]] == [second["id"], first["id"]]
    running = await api.get("/campaigns", params={"status": "running"}, headers=customer.live)
    assert running.json()["data"] == []
    tests = await api.get("/campaigns", headers=customer.test)
    assert [c["id"] for c in tests.json()["data"]] == [mine_in_test["id"]]
    error(await api.get(f"/campaigns/{first['id']}", headers=other.live), 404, "not_found")
    error(await api.get(f"/campaigns/{first['id']}", headers=customer.test), 404, "not_found")
    error(
        await api.get("/campaigns", params={"status": "done"}, headers=customer.live),
        422,
        "validation_error",
    )


async def test_delete_a_draft(api, customer):
    created = await create(api, customer.live)

    response = await api.delete(f"/campaigns/{created['id']}", headers=customer.live)

    assert response.status_code == 200 and response.json()["data"]["id"] == created["id"]
    error(await api.get(f"/campaigns/{created['id']}", headers=customer.live), 404, "not_found")
    error(await api.delete(f"/campaigns/{created['id']}", headers=customer.live), 404, "not_found")


async def test_scopes(api, customer, server):
    from tests.factories import create_key

    reader = await create_key(server.runtime, customer.account_id, scopes=["campaigns:read"])
    headers = {"Authorization": f"Bearer {reader}"}
    created = await create(api, customer.live)

    assert (await api.get(f"/campaigns/{created['id']}", headers=headers)).status_code == 200
    error(await api.post("/campaigns", json=DRAFT, headers=headers), 403, "insufficient_scope")
    error(
        await api.post(f"/campaigns/{created['id']}/launch", headers=headers),
        403,
        "insufficient_scope",
    )


# --- launch and run ----------------------------------------------------------------------
async def test_a_campaign_runs_to_completion_with_stats_and_charges(api, customer):
    await audience_of_four(api, customer.live)
    before = await balance(api, customer.live)
    created = await create(
        api, customer.live, variables={"code": "SPRING"}, audience={"tags": ["vip"]}
    )

    launched = await launch(api, customer.live, created["id"])

    assert launched["status"] in ("running", "completed")
    assert launched["stats"]["total"] == 4
    assert launched["stats"]["skipped_opted_out"] == 1
    assert launched["stats"]["failed"] == 1  # the contact without a name
    assert launched["cost"] == pytest.approx(2 * PRICE)
    assert launched["started_at"] is not None
    done = await wait_for(api, customer.live, created["id"], finished)
    assert done["stats"] == {
        "total": 4,
        "queued": 0,
        "sent": 0,
        "delivered": 2,
        "failed": 1,
        "skipped_opted_out": 1,
        "cancelled": 0,
    }
    assert done["completed_at"] >= done["started_at"]
    assert await balance(api, customer.live) == pytest.approx(before - 2 * PRICE)
    listed = await api.get(f"/campaigns/{created['id']}/messages", headers=customer.live)
    messages = listed.json()["data"]
    assert sorted((m["to"], m["body"]) for m in messages) == [
        (PHONES[0], "Hi Ada, use SPRING"),
        (PHONES[1], "Hi Bob, use SPRING"),
    ]
    assert all(m["status"] == "delivered" for m in messages)
    assert listed.json()["pagination"]["total_items"] == 2


async def test_campaign_events_carry_the_campaign(api, customer):
    await contact(api, customer.live, PHONES[0], name="Ada", tags=["vip"])
    created = await create(api, customer.live, variables={"code": "X"}, audience={"tags": ["vip"]})
    await launch(api, customer.live, created["id"])
    await wait_for(api, customer.live, created["id"], finished)

    found = {}
    for kind in ("campaign.started", "campaign.completed"):
        events = (await api.get("/events", params={"type": kind}, headers=customer.live)).json()
        found[kind] = [e for e in events["data"] if e["data"]["id"] == created["id"]]
    assert len(found["campaign.started"]) == 1 and len(found["campaign.completed"]) == 1
    completed = found["campaign.completed"][0]["data"]
    assert completed["object"] == "campaign" and completed["status"] == "completed"
    assert completed["stats"]["total"] == 1


async def test_variables_come_from_the_campaign_then_the_contact(api, customer):
    ada = await contact(
        api,
        customer.live,
        PHONES[0],
        name="Ada",
        email="ada@example.com",
        attributes={"code": "FROM-CONTACT", "tier": "gold", "points": 12},
    )
    bob = await contact(api, customer.live, PHONES[1], name="Bob", attributes={"tier": "blue"})
    body = "{{name}} {{phone}} {{tier}} {{points}} {{code}}"
    created = await create(
        api,
        customer.live,
        body=body,
        variables={"code": "CAMPAIGN", "points": 0},
        audience={"contact_ids": [bob["id"], ada["id"]]},
    )

    await launch(api, customer.live, created["id"])

    done = await wait_for(api, customer.live, created["id"], finished)
    messages = (
        await api.get(f"/campaigns/{created['id']}/messages", headers=customer.live)
    ).json()["data"]
    assert sorted(m["body"] for m in messages) == sorted(
        [f"Ada {PHONES[0]} gold 0 CAMPAIGN", f"Bob {PHONES[1]} blue 0 CAMPAIGN"]
    )
    assert done["stats"]["delivered"] == 2


async def test_a_launch_the_balance_cannot_cover_is_402_and_changes_nothing(api, server):
    poor = await create_customer(server.runtime, balance="0.0500")  # covers one message
    await contact(api, poor.live, PHONES[0], name="Ada", tags=["vip"])
    await contact(api, poor.live, PHONES[1], name="Bob", tags=["vip"])
    created = await create(api, poor.live, variables={"code": "X"}, audience={"tags": ["vip"]})

    response = await api.post(f"/campaigns/{created['id']}/launch", headers=poor.live)

    error(response, 402, "insufficient_balance")
    assert await campaign(api, poor.live, created["id"]) == created
    assert await balance(api, poor.live) == pytest.approx(0.05)
    listed = await api.get(f"/campaigns/{created['id']}/messages", headers=poor.live)
    assert listed.json()["data"] == []


@pytest.mark.parametrize(
    ("fields", "code", "param"),
    [
        ({}, "validation_error", "audience"),
        ({"audience": {"tags": ["nobody"]}}, "empty_audience", "audience"),
        ({"audience": {"contact_ids": ["ct_ghost"]}}, "unknown_contact", "audience.contact_ids"),
        ({"audience": {"tags": ["vip"]}, "from": "Nope"}, "sender_not_approved", "from"),
    ],
)
async def test_a_launch_refused_names_the_field(api, customer, fields, code, param):
    await contact(api, customer.live, PHONES[0], name="Ada", tags=["vip"])
    draft = await create(api, customer.live, **fields)

    response = await api.post(f"/campaigns/{draft['id']}/launch", headers=customer.live)

    error(response, 422, code, param)
    assert (await campaign(api, customer.live, draft["id"]))["status"] == "draft"


async def test_only_a_draft_can_be_launched_or_edited(api, customer):
    await contact(api, customer.live, PHONES[0], name="Ada", tags=["vip"])
    ok = await create(api, customer.live, variables={"code": "X"}, audience={"tags": ["vip"]})
    await launch(api, customer.live, ok["id"])
    error(
        await api.post(f"/campaigns/{ok['id']}/launch", headers=customer.live),
        409,
        "campaign_not_launchable",
    )
    error(
        await api.patch(f"/campaigns/{ok['id']}", json={"name": "x"}, headers=customer.live),
        409,
        "campaign_not_editable",
    )
    error(await api.post("/campaigns/cmp_nope/launch", headers=customer.live), 404, "not_found")


async def test_a_test_key_campaign_is_free_and_stays_in_test(api, customer):
    await contact(api, customer.test, PHONES[0], name="Ada", tags=["vip"])
    before = await balance(api, customer.live)
    created = await create(api, customer.test, variables={"code": "T"}, audience={"tags": ["vip"]})

    await launch(api, customer.test, created["id"])

    done = await wait_for(api, customer.test, created["id"], finished)
    assert done["stats"]["delivered"] == 1 and done["cost"] == 0
    assert await balance(api, customer.live) == before
    messages = await api.get(f"/campaigns/{created['id']}/messages", headers=customer.test)
    assert messages.json()["data"][0]["mode"] == "test"


# --- scheduled, cancelled ---------------------------------------------------------------
async def test_a_scheduled_campaign_waits_for_send_at(api, customer):
    await contact(api, customer.live, PHONES[0], name="Ada", tags=["vip"])
    send_at = datetime.now(UTC) + timedelta(seconds=2)
    created = await create(
        api,
        customer.live,
        variables={"code": "X"},
        audience={"tags": ["vip"]},
        send_at=send_at.isoformat(),
    )

    launched = await launch(api, customer.live, created["id"])

    assert launched["status"] == "scheduled" and launched["started_at"] is None
    assert launched["stats"]["queued"] == 1
    messages = await api.get(f"/campaigns/{created['id']}/messages", headers=customer.live)
    assert messages.json()["data"] == []
    done = await wait_for(api, customer.live, created["id"], finished)
    assert datetime.fromisoformat(done["started_at"]) >= send_at
    assert done["stats"]["delivered"] == 1


async def test_cancel_refunds_what_was_not_sent(api, customer):
    for phone in PHONES[:3]:
        await contact(api, customer.live, phone, name="N", tags=["vip"])
    before = await balance(api, customer.live)
    created = await create(
        api,
        customer.live,
        variables={"code": "X"},
        audience={"tags": ["vip"]},
        send_at="2099-01-01T00:00:00Z",
    )
    launched = await launch(api, customer.live, created["id"])
    assert await balance(api, customer.live) == pytest.approx(before - 3 * PRICE)

    response = await api.post(f"/campaigns/{created['id']}/cancel", headers=customer.live)

    assert response.status_code == 200, response.text
    cancelled = response.json()["data"]
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"] is not None
    assert cancelled["stats"] == {**launched["stats"], "queued": 0, "cancelled": 3}
    assert await balance(api, customer.live) == pytest.approx(before)
    error(
        await api.post(f"/campaigns/{created['id']}/cancel", headers=customer.live),
        409,
        "campaign_not_cancellable",
    )
    deleted = await api.delete(f"/campaigns/{created['id']}", headers=customer.live)
    assert deleted.status_code == 200


async def test_a_running_campaign_cannot_be_deleted(api, customer):
    await contact(api, customer.live, PHONES[0], name="Ada", tags=["vip"])
    created = await create(
        api,
        customer.live,
        variables={"code": "X"},
        audience={"tags": ["vip"]},
        send_at="2099-01-01T00:00:00Z",
    )
    await launch(api, customer.live, created["id"])

    error(
        await api.delete(f"/campaigns/{created['id']}", headers=customer.live),
        409,
        "campaign_not_editable",
    )


async def test_an_opt_out_after_launch_is_skipped_and_refunded(api, customer):
    ada = await contact(api, customer.live, PHONES[0], name="Ada", tags=["vip"])
    await contact(api, customer.live, PHONES[1], name="Bob", tags=["vip"])
    before = await balance(api, customer.live)
    send_at = datetime.now(UTC) + timedelta(seconds=1.5)
    created = await create(
        api,
        customer.live,
        variables={"code": "X"},
        audience={"tags": ["vip"]},
        send_at=send_at.isoformat(),
    )
    await launch(api, customer.live, created["id"])
    patched = await api.patch(
        f"/contacts/{ada['id']}", json={"opted_out": True}, headers=customer.live
    )
    assert patched.status_code == 200

    done = await wait_for(api, customer.live, created["id"], finished)

    assert done["stats"]["skipped_opted_out"] == 1 and done["stats"]["delivered"] == 1
    assert await balance(api, customer.live) == pytest.approx(before - PRICE)


async def test_packages_pay_first_and_a_cancel_gives_their_sms_back(api, customer, server):
    for phone in PHONES[:3]:
        await contact(api, customer.live, phone, name="N", tags=["vip"])
    async with session_scope(server.runtime.database, write=True) as session:
        await billing_service.grant_package(
            session, customer.account_id, "Promo", 2, datetime.now(UTC) + timedelta(days=30)
        )
    before = await balance(api, customer.live)
    created = await create(
        api,
        customer.live,
        variables={"code": "X"},
        audience={"tags": ["vip"]},
        send_at="2099-01-01T00:00:00Z",
    )

    launched = await launch(api, customer.live, created["id"])

    assert launched["cost"] == pytest.approx(PRICE)  # two of three covered by the package
    after_launch = (await api.get("/balance", headers=customer.live)).json()["data"]
    assert after_launch["package_sms_remaining"] == 0
    assert after_launch["balance"] == pytest.approx(before - PRICE)
    await api.post(f"/campaigns/{created['id']}/cancel", headers=customer.live)
    after_cancel = (await api.get("/balance", headers=customer.live)).json()["data"]
    assert after_cancel["package_sms_remaining"] == 2
    assert after_cancel["balance"] == pytest.approx(before)


async def test_cancel_stops_a_running_campaign_and_refunds_its_waiting_messages(
    api, customer, server
):
    """A message the provider keeps refusing retryably waits, queued: cancel refunds its
    package SMS; the one already delivered keeps its charge."""
    await contact(api, customer.live, PHONES[0], name="Ada", tags=["vip"])
    await contact(api, customer.live, "+15005550003", name="Retry", tags=["vip"])  # simulator
    async with session_scope(server.runtime.database, write=True) as session:
        await billing_service.grant_package(
            session, customer.account_id, "Promo", 2, datetime.now(UTC) + timedelta(days=30)
        )
    before = await balance(api, customer.live)
    created = await create(api, customer.live, variables={"code": "X"}, audience={"tags": ["vip"]})
    await launch(api, customer.live, created["id"])
    await wait_for(
        api, customer.live, created["id"], lambda c: c["stats"]["delivered"] == 1, timeout=30
    )

    response = await api.post(f"/campaigns/{created['id']}/cancel", headers=customer.live)

    assert response.status_code == 200, response.text
    stats = response.json()["data"]["stats"]
    assert (stats["delivered"], stats["cancelled"], stats["queued"]) == (1, 1, 0)
    after = (await api.get("/balance", headers=customer.live)).json()["data"]
    assert after["package_sms_remaining"] == 1  # the cancelled message's SMS came back
    assert after["balance"] == pytest.approx(before)  # packages paid both: no money moved
    messages = await api.get(f"/campaigns/{created['id']}/messages", headers=customer.live)
    assert sorted(m["status"] for m in messages.json()["data"]) == ["cancelled", "delivered"]
