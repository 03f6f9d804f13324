"""The router's MMS rules, without a server: only providers that carry the MMS, in order."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lynsms.config import Settings
from lynsms.exceptions import ValidationFailed
from lynsms.routing.service import Router


def router() -> Router:
    providers = {
        "simulator": SimpleNamespace(supports_mms=True, max_media=10),
        "twilio": SimpleNamespace(supports_mms=True, max_media=10),
        "sinch": SimpleNamespace(supports_mms=True, max_media=1),
        "infobip": SimpleNamespace(supports_mms=False),
        "clicksend": SimpleNamespace(supports_mms=True, max_media=1, mms_needs_text=True),
    }
    settings = Settings(
        database_url="sqlite+aiosqlite:///:memory:",
        routes=[
            {"id": 1, "providers": ["infobip", "sinch", "twilio", "clicksend"]},
            {"id": 2, "countries": ["US"], "providers": ["infobip"], "priority": 1},
        ],
    )
    return Router(settings, providers)  # type: ignore[arg-type]


def test_an_sms_keeps_the_whole_chain() -> None:
    chain = router().chain(test=False, country="US", route_id=1)
    assert chain.providers == ("infobip", "sinch", "twilio", "clicksend")


@pytest.mark.parametrize(
    ("media", "text", "expected"),
    [
        (1, True, ("sinch", "twilio", "clicksend")),
        (1, False, ("sinch", "twilio")),
        (2, True, ("twilio",)),
    ],
)
def test_an_mms_keeps_only_the_providers_that_carry_it(media, text, expected) -> None:
    chain = router().chain(test=False, country="US", route_id=1, media=media, text=text)
    assert chain.providers == expected


def test_a_named_provider_that_cannot_carry_it_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        router().chain(test=False, country="US", provider="sinch", media=2)
    assert (refused.value.code, refused.value.param) == ("mms_not_supported", "provider")


def test_a_route_without_an_mms_provider_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        router().chain(test=False, country="US", route_id=2, media=1)
    assert (refused.value.code, refused.value.param) == ("mms_not_supported", "route_id")


def test_test_keys_go_to_the_simulator() -> None:
    assert router().chain(test=True, country="US", media=3).providers == ("simulator",)
