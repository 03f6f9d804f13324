"""Seed 003's six operations, replayed as documented (form and JSON), field by field;
and every message is the native API's message (API.md §12)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import orjson

from lynsms.kit.clock import utcnow
from tests.dialects.lightningmsg.conftest import Client, grant, lynsms_cli, set_secret

SEED_MOBILE = "+40123456789"


def future(days: int = 30) -> str:
    return (utcnow() + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


async def test_send_as_documented_form_encoded(lmsg: Client, lmsg_server, native) -> None:
    await grant(lmsg_server, lmsg.customer.account_id, "100 SMS", 100)
    body = {
        "secret_code": lmsg.secret_code,
        "mobile": SEED_MOBILE,
        "message": "This is a test message",
    }
    response = await lmsg.form("send", body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert list(data) == ["status", "message", "sms_data", "total_sms", "used_sms", "is_own_mobile"]
    assert (data["status"], data["message"]) == ("success", "")
    assert data["sms_data"]["mobile"] == SEED_MOBILE
    assert data["sms_data"]["status"] in ("queued", "sent")
    assert data["sms_data"]["sms_id"].startswith("msg_")
    assert (data["total_sms"], data["used_sms"], data["is_own_mobile"]) == ("100", "1", "0")

    # The same message through the native API: same status mapping and the cost packages left.
    own = await native.get(f"/messages/{data['sms_data']['sms_id']}", headers=lmsg.customer.live)
    message = own.json()["data"]
    assert message["to"] == SEED_MOBILE and message["body"] == "This is a test message"
    assert message["cost"] == 0  # the package paid for it
    for _ in range(100):  # the simulator sends, then delivers
        native_now = await native.get(f"/messages/{message['id']}", headers=lmsg.customer.live)
        if native_now.json()["data"]["status"] == "delivered":
            break
        await asyncio.sleep(0.05)
    assert native_now.json()["data"]["status"] == "delivered"
    status = await lmsg.form(f"get_status/{message['id']}", {"secret_code": lmsg.secret_code})
    assert status.json()["sms_data"] == {
        "id": message["id"],
        "message": "This is a test message",
        "mobile": SEED_MOBILE,
        "status": "sent",
        "is_sent": "1",
    }


async def test_scheduled_send_as_json_then_status_and_cancel(lmsg: Client, native) -> None:
    when = future()
    body = {
        "secret_code": lmsg.secret_code,
        "mobile": SEED_MOBILE,
        "message": "This is a test message",
        "send_date": when,
    }
    sent = (await lmsg.json("send", body)).json()
    assert sent["sms_data"]["status"] == "pending"
    assert (sent["total_sms"], sent["used_sms"], sent["is_own_mobile"]) == ("0", "0", "0")
    sms_id = sent["sms_data"]["sms_id"]

    message = (await native.get(f"/messages/{sms_id}", headers=lmsg.customer.live)).json()["data"]
    assert message["status"] == "scheduled"
    assert message["send_at"].startswith(when.replace(" ", "T"))
    assert message["cost"] > 0  # no package: money

    status = await lmsg.json(f"get_status/{sms_id}", {"secret_code": lmsg.secret_code})
    assert status.status_code == 200
    assert status.json() == {
        "status": "success",
        "message": "",
        "sms_data": {
            "id": sms_id,
            "message": "This is a test message",
            "mobile": SEED_MOBILE,
            "status": "pending",
            "is_sent": "0",
        },
    }

    cancelled = await lmsg.form(f"cancel/{sms_id}", {"secret_code": lmsg.secret_code})
    assert (cancelled.status_code, cancelled.json()) == (200, {"status": "success", "message": ""})
    after = (await native.get(f"/messages/{sms_id}", headers=lmsg.customer.live)).json()["data"]
    assert after["status"] == "cancelled"
    status = await lmsg.form(f"get_status/{sms_id}", {"secret_code": lmsg.secret_code})
    assert status.json()["sms_data"]["status"] == "cancelled"

    again = await lmsg.form(f"cancel/{sms_id}", {"secret_code": lmsg.secret_code})
    assert again.status_code == 422 and again.json()["status"] == "0200"


async def test_send_multiple_json_form_string_and_php_brackets(lmsg: Client) -> None:
    items = [
        {"mobile": SEED_MOBILE, "message": "This is a test message", "send_date": future(1)},
        {
            "mobile": "+40123456780",
            "message": "This is another test message",
            "send_date": future(2),
        },
    ]
    as_json = await lmsg.json("send_multiple", {"secret_code": lmsg.secret_code, "messages": items})
    assert as_json.status_code == 200, as_json.text
    data = as_json.json()
    assert (data["status"], data["message"]) == ("success", "")
    assert [(m["mobile"], m["status"]) for m in data["messages"]] == [
        (SEED_MOBILE, "pending"),
        ("+40123456780", "pending"),
    ]
    assert all(set(m) == {"mobile", "sms_id", "status"} for m in data["messages"])
    assert len({m["sms_id"] for m in data["messages"]}) == 2

    as_string = await lmsg.form(
        "send_multiple", {"secret_code": lmsg.secret_code, "messages": orjson.dumps(items).decode()}
    )
    assert [m["status"] for m in as_string.json()["messages"]] == ["pending", "pending"]

    brackets = {"secret_code": lmsg.secret_code}
    for i, item in enumerate(items):
        for name, value in item.items():
            brackets[f"messages[{i}][{name}]"] = value
    php = await lmsg.form("send_multiple", brackets)
    assert [m["mobile"] for m in php.json()["messages"]] == [SEED_MOBILE, "+40123456780"]


async def test_send_multiple_as_documented_refuses_the_past_date(lmsg: Client) -> None:
    """Seed 003's own example schedules one item on 2026-06-10, now past: the whole
    request is refused with 4009 and nothing is sent (API.md §12)."""
    body = {
        "secret_code": lmsg.secret_code,
        "messages": [
            {
                "mobile": SEED_MOBILE,
                "message": "This is a test message",
                "send_date": "2026-06-10 18:30:00",
            },
            {
                "mobile": SEED_MOBILE,
                "message": "This is another test message",
                "send_date": "2030-06-10 18:30:00",
            },
        ],
    }
    response = await lmsg.json("send_multiple", body)
    assert response.status_code == 400
    assert response.json()["status"] == "4009"
    listed = await lmsg.json("get_sent_messages", {"secret_code": lmsg.secret_code})
    assert listed.json()["nr_messages"] == 0

    body["messages"][0]["send_date"] = "2030-06-10 18:30:00"
    body["messages"][1]["mobile"] = "not a number"
    refused = await lmsg.form(
        "send_multiple", {**body, "messages": str(body["messages"]).replace("'", '"')}
    )
    assert (refused.status_code, refused.json()["status"]) == (400, "4007")
    listed = await lmsg.json("get_sent_messages", {"secret_code": lmsg.secret_code})
    assert listed.json()["nr_messages"] == 0


async def test_get_sent_messages_pages_newest_first(lmsg: Client, native) -> None:
    ids = []
    for n in range(3):
        sent = await lmsg.form(
            "send",
            {
                "secret_code": lmsg.secret_code,
                "mobile": SEED_MOBILE,
                "message": f"m{n}",
                "send_date": future(),
            },
        )
        ids.append(sent.json()["sms_data"]["sms_id"])
    native_sent = await native.post(
        "/messages/send",
        json={"to": SEED_MOBILE, "from": "LynSMS", "body": "native"},
        headers=lmsg.customer.live,
    )
    ids.append(native_sent.json()["data"]["id"])

    page = await lmsg.json(
        "get_sent_messages", {"secret_code": lmsg.secret_code, "limit_from": 0, "limit": 100}
    )
    data = page.json()
    assert (data["status"], data["message"], data["nr_messages"]) == ("success", "", 4)
    assert [m["id"] for m in data["messages"]] == ids[::-1]
    assert data["messages"][0]["message"] == "native"
    assert data["messages"][1] == {
        "id": ids[2],
        "message": "m2",
        "mobile": SEED_MOBILE,
        "status": "pending",
        "is_sent": "0",
    }

    second = await lmsg.form(
        "get_sent_messages", {"secret_code": lmsg.secret_code, "limit_from": "1", "limit": "2"}
    )
    assert [m["id"] for m in second.json()["messages"]] == [ids[2], ids[1]]
    assert second.json()["nr_messages"] == 4

    too_many = await lmsg.form(
        "get_sent_messages", {"secret_code": lmsg.secret_code, "limit": "101"}
    )
    assert (too_many.status_code, too_many.json()["status"]) == (400, "0001")


async def test_get_packages_and_counters(lmsg: Client, lmsg_server) -> None:
    empty = await lmsg.form("get_packages", {"secret_code": lmsg.secret_code})
    assert empty.json() == {"status": "success", "message": "", "packages": []}
    await grant(lmsg_server, lmsg.customer.account_id, "100 SMS", 100, days=10)
    await grant(lmsg_server, lmsg.customer.account_id, "5 SMS", 5, days=40)
    sent = await lmsg.form(
        "send", {"secret_code": lmsg.secret_code, "mobile": SEED_MOBILE, "message": "x" * 200}
    )  # 2 segments
    assert (sent.json()["total_sms"], sent.json()["used_sms"]) == ("105", "2")

    packages = (await lmsg.json("get_packages", {"secret_code": lmsg.secret_code})).json()
    assert (packages["status"], packages["message"]) == ("success", "")
    first, second = packages["packages"]
    assert list(first) == ["name", "total_sms", "used_sms", "expire_date", "is_own_mobile"]
    assert (first["name"], first["total_sms"], first["used_sms"]) == ("100 SMS", "100", "2")
    assert (second["name"], second["total_sms"], second["used_sms"]) == ("5 SMS", "5", "0")
    expected = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%d")
    assert first["expire_date"].startswith(expected) and len(first["expire_date"]) == 19


async def test_the_cli_secret_authenticates_and_rotation_revokes(lmsg: Client, lmsg_server) -> None:
    old = lmsg.secret_code
    new = await set_secret(lmsg_server, lmsg.customer.account_id)
    assert new != old
    refused = await lmsg.form("get_packages", {"secret_code": old})
    assert (refused.status_code, refused.json()["status"]) == (401, "4001")
    accepted = await lmsg.form("get_packages", {"secret_code": new})
    assert accepted.status_code == 200
    unknown = await asyncio.to_thread(
        lynsms_cli, lmsg_server.runtime.settings.database_url, "accounts", "secret", "acct_nobody"
    )
    assert unknown.returncode == 1 and "not_found" in unknown.stdout + unknown.stderr
