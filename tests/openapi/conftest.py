"""A server for synchronous clients (schemathesis, requests), with a funded customer.

The session's ``server`` runs on the test event loop, which a synchronous test
blocks; this one runs on its own loop in a thread, on its own database (one per
backend), without a worker (nothing here waits for one, and it would deliver the
seeded webhooks). The customer is funded for the whole run, has one approved
sender, and keys that the tests choose from; the objects seeded here give the
by-id operations ids that exist.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest

from lynsms.accounts.scopes import SCOPES
from lynsms.kit.clock import isoformat, utcnow
from tests.conftest import BACKENDS, LiveServer, make_database, start_server, stop_server
from tests.conftest import test_settings as make_settings
from tests.factories import approve_sender, create_account, create_key

T = TypeVar("T")
READ_SCOPES = [scope for scope in SCOPES if scope.endswith(":read")]
UNLIMITED = 1_000_000  # requests per minute: the fuzzer must not be rate limited by accident


class LoopThread:
    """An event loop running in a daemon thread; ``run`` waits for a coroutine run on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


@dataclass
class Fuzzed:
    """The server under test, the keys to call it with and ids that exist in it."""

    url: str
    keys: dict[str, str]  # live (scope *), test (scope *), read_only (live, every :read scope)
    ids: dict[str, list[str]]  # path parameter name -> ids of existing objects


@pytest.fixture(scope="module", params=BACKENDS)
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzzed]:
    url, drop = make_database(request.param, str(tmp_path_factory.mktemp("openapi")))
    thread = LoopThread()
    media_dir = tmp_path_factory.mktemp("media")  # Media and MMS: uploads stay out of the tree
    settings = make_settings(url, webhooks_allow_private=True, media_dir=media_dir)
    live = thread.run(start_server(settings, run_worker=False))
    try:
        keys = thread.run(_keys(live))
        yield Fuzzed(url=live.url, keys=keys, ids=_seed(live.url, keys))
    finally:
        thread.run(stop_server(live))
        thread.close()
        drop()


async def _keys(live: LiveServer) -> dict[str, str]:
    runtime = live.runtime
    account_id = await create_account(runtime, balance="100000.00")
    await approve_sender(runtime, account_id)
    specs = {"live": ("live", ["*"]), "test": ("test", ["*"]), "read_only": ("live", READ_SCOPES)}
    return {
        name: await create_key(
            runtime, account_id, environment, scopes, rate_limit_per_minute=UNLIMITED
        )
        for name, (environment, scopes) in specs.items()
    }


def _seed(url: str, keys: dict[str, str]) -> dict[str, list[str]]:
    """Objects of every kind a path names, made through the API as a customer would."""
    headers = {"Authorization": f"Bearer {keys['live']}"}
    later = isoformat(utcnow() + timedelta(days=1))
    with httpx.Client(base_url=url + "/api/v1", headers=headers, timeout=30) as client:

        def made(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
            response = client.request(method, path, json=body)
            assert response.status_code in (200, 201), response.text
            return response.json()["data"]

        message = {"to": "+12025550143", "from": "LynSMS", "body": "Your code is 482194"}
        sent = made("POST", "/messages/send", message)
        scheduled = made("POST", "/messages/send", {**message, "send_at": later})
        webhook = made("POST", "/webhooks/create", {"url": "http://127.0.0.1:9/hook"})
        sender = made("POST", "/senders/create", {"sender_id": "Fuzz"})
        events = made("GET", "/events")
        spare = made("POST", "/api-keys/create", {"name": "revoked by the fuzzer"})
        contact = made("POST", "/contacts", {"phone": "+12025550143", "tags": ["fuzz"]})
        template = made("POST", "/templates", {"name": "fuzz", "body": "Hi {{name}}"})
        draft = {"name": "fuzz", "from": "LynSMS", "body": "Hi", "audience": {"tags": ["fuzz"]}}
        campaign = made("POST", "/campaigns", draft)
        launched = made("POST", "/campaigns", {**draft, "send_at": later})
        made("POST", f"/campaigns/{launched['id']}/launch")
        image = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
        uploaded = client.post("/media", files={"file": ("fuzz.gif", image, "image/gif")})
        assert uploaded.status_code == 201, uploaded.text  # Media and MMS: a media_id that exists
    return {
        "message_id": [sent["id"], scheduled["id"]],
        "webhook_id": [webhook["id"]],
        "sender_pk": [sender["id"]],
        "event_id": [event["id"] for event in events[:2]],
        "key_id": [spare["id"]],
        "contact_id": [contact["id"]],
        "template_id": [template["id"]],
        "campaign_id": [campaign["id"], launched["id"]],
        "media_id": [uploaded.json()["data"]["id"]],
    }
