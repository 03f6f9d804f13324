"""Request parsing and shapes of the LightningMSG dialect, without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lynsms.dialects.lightningmsg import requests, resources
from lynsms.dialects.lightningmsg.errors import LightningError
from lynsms.kit.middleware import _rule

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_form_json_and_php_brackets() -> None:
    form = requests.parse_body(
        "application/x-www-form-urlencoded; charset=utf-8",
        b"secret_code=s&messages%5B1%5D%5Bmobile%5D=%2B2&messages%5B0%5D%5Bmobile%5D=%2B1"
        b"&messages%5B0%5D%5Bmessage%5D=a+b",
    )
    assert form == {
        "secret_code": "s",
        "messages": [{"mobile": "+1", "message": "a b"}, {"mobile": "+2"}],
    }
    assert requests.parse_body("application/json", b'{"limit": 5}') == {"limit": 5}
    assert requests.parse_body("", b"") == {}
    for content_type, body in (("application/json", b"[1]"), ("application/json", b"{")):
        with pytest.raises(LightningError) as caught:
            requests.parse_body(content_type, body)
        assert caught.value.code == "0001"


def test_items_and_dates() -> None:
    item = requests.send_item(
        {"mobile": "+40 123 456 789", "message": "hi", "send_date": "2030-06-10 18:30:00"}, NOW
    )
    assert (item.mobile, item.to, item.send_at) == (
        "+40 123 456 789",
        "+40123456789",
        "2030-06-10T18:30:00Z",
    )
    assert (
        requests.send_item(
            {"mobile": "+40123456789", "message": "hi", "send_date": ""}, NOW
        ).send_at
        is None
    )
    items = requests.send_items({"messages": '[{"mobile": "+40123456789", "message": "a"}]'}, NOW)
    assert [i.to for i in items] == ["+40123456789"]
    for messages, code in (
        ([], "0001"),
        ("nope", "0001"),
        ([1], "0001"),
        ([{"mobile": "+1", "message": "a"}], "4007"),
    ):
        with pytest.raises(LightningError) as caught:
            requests.send_items({"messages": messages}, NOW)
        assert caught.value.code == code


def test_window() -> None:
    assert requests.window({}) == (0, 100)
    assert requests.window({"limit_from": "20", "limit": 5}) == (20, 5)
    for bad in (
        {"limit": 0},
        {"limit": "101"},
        {"limit_from": -1},
        {"limit": "x"},
        {"limit": True},
    ):
        with pytest.raises(LightningError):
            requests.window(bad)


def test_statuses_and_counters() -> None:
    mapped = {
        native: (resources.status_of(native), resources.is_sent(native))
        for native in resources.STATUSES
    }
    assert mapped == {
        "scheduled": ("pending", "0"),
        "queued": ("queued", "0"),
        "sent": ("sent", "1"),
        "delivered": ("sent", "1"),
        "cancelled": ("cancelled", "0"),
        "failed": ("failed", "0"),
        "undelivered": ("failed", "0"),
        "expired": ("failed", "0"),
    }
    assert resources.counters(100, 1) == {"total_sms": "100", "used_sms": "1", "is_own_mobile": "0"}


def test_body_rule_covers_the_prefix_only() -> None:
    import lynsms.dialects.lightningmsg.endpoints  # noqa: F401  (registers the rule)

    rule = _rule("/api/v1/sms_services/sms/get_status/msg_1")
    assert rule is not None and "application/x-www-form-urlencoded" in rule[1]
    assert _rule("/api/v1/messages/send") is None
