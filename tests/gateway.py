"""A LynSMS server wired to the four provider fakes over loopback, with routes and costs.

Routes: 1 covers every country with twilio → sinch → infobip → clicksend;
2 covers GB with infobip → twilio and is cheaper there (infobip's GB cost),
3 covers US and CA with clicksend → sinch at priority 1 but no configured cost
(so it sorts after the priced routes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fakes.base import FakeProvider
from tests.fakes.clicksend import FakeClickSend
from tests.fakes.infobip import FakeInfobip
from tests.fakes.sinch import FakeSinch
from tests.fakes.twilio import FakeTwilio

TWILIO_SID = "AC" + "0" * 31 + "1"
TWILIO_TOKEN = "twilio-test-token"
SINCH_PLAN = "plan123"
SINCH_TOKEN = "sinch-api-token"
INFOBIP_KEY = "infobip-api-key"
CLICKSEND_USER = "clicksend-user"
CLICKSEND_KEY = "clicksend-key"
CALLBACK_TOKENS = {
    "sinch": "sinch-cb-token",
    "infobip": "infobip-cb-token",
    "clicksend": "clicksend-cb-token",
}


@dataclass
class Fakes:
    twilio: FakeTwilio
    sinch: FakeSinch
    infobip: FakeInfobip
    clicksend: FakeClickSend

    def all(self) -> list[FakeProvider]:
        return [self.twilio, self.sinch, self.infobip, self.clicksend]

    def by_name(self, name: str) -> FakeProvider:
        fake: FakeProvider = getattr(self, name)
        return fake

    def received_by(self, number: str) -> list[str]:
        """Which fakes accepted a message to ``number``, in order of acceptance."""
        return [fake.name for fake in self.all() for m in fake.accepted if m.to == number]


def start_fakes() -> Fakes:
    fakes = Fakes(
        twilio=FakeTwilio(TWILIO_SID, TWILIO_TOKEN, hang_seconds=2.0),
        sinch=FakeSinch(service_plan_id=SINCH_PLAN, api_token=SINCH_TOKEN, hang_seconds=2.0),
        infobip=FakeInfobip(INFOBIP_KEY, hang_seconds=2.0),
        clicksend=FakeClickSend(username=CLICKSEND_USER, api_key=CLICKSEND_KEY, hang_seconds=2.0),
    )
    for fake in fakes.all():
        fake.start()
    return fakes


def gateway_settings(fakes: Fakes, database_url: str, public_url: str) -> dict[str, Any]:
    return {
        "database_url": database_url,
        "server": {"public_url": public_url},
        "providers": {
            "twilio": {
                "account_sid": TWILIO_SID,
                "auth_token": TWILIO_TOKEN,
                "base_url": fakes.twilio.url,
            },
            "sinch": {
                "service_plan_id": SINCH_PLAN,
                "api_token": SINCH_TOKEN,
                "base_url": fakes.sinch.url,
                "callback_token": CALLBACK_TOKENS["sinch"],
            },
            "infobip": {
                "api_key": INFOBIP_KEY,
                "base_url": fakes.infobip.url,
                "callback_token": CALLBACK_TOKENS["infobip"],
            },
            "clicksend": {
                "username": CLICKSEND_USER,
                "api_key": CLICKSEND_KEY,
                "base_url": fakes.clicksend.url,
                "callback_token": CALLBACK_TOKENS["clicksend"],
            },
        },
        "routes": [
            {
                "id": 1,
                "name": "world",
                "countries": ["*"],
                "providers": ["twilio", "sinch", "infobip", "clicksend"],
                "priority": 10,
            },
            {
                "id": 2,
                "name": "uk",
                "countries": ["GB"],
                "providers": ["infobip", "twilio"],
                "priority": 20,
            },
            {
                "id": 3,
                "name": "north america",
                "countries": ["US", "CA"],
                "providers": ["clicksend", "sinch"],
                "priority": 1,
            },
        ],
        "costs": {
            "twilio": {"default": "0.0079", "GB": "0.0350"},
            "infobip": {"default": "0.0100", "GB": "0.0300"},
        },
        "prices": {"default": "0.0500", "countries": {"GB": "0.0400"}},
        "routing": {
            "provider_timeout": 0.5,
            "send_budget": 5.0,
            "breaker_failures": 3,
            "breaker_cooldown": 1.0,
        },
        "simulator": {"delivery_delay": 0.2},
    }
