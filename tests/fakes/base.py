"""Shared machinery of the provider fakes: a real HTTP server on loopback, per-number behaviour.

Each provider fake (``tests/fakes/<provider>.py``) subclasses ``FakeProvider``
with a Starlette app that speaks the provider's own API (auth, request
validation, success and error bodies) and knows how to build the provider's
delivery-report and inbound callbacks. Tests and ``bench/`` start one with
``with FakeTwilio(...) as fake:`` and point the adapter's ``base_url`` at
``fake.url``.

Behaviour is chosen per destination number (E.164 with ``+``)::

    fake.behave("+12025550143", Behaviour.SERVER_ERROR)

and every request the fake received is kept in ``fake.received`` and every
message it accepted in ``fake.accepted``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette


def shared_file(relative: str) -> Path:
    """A file of the project's ``shared/`` folder: beside the repository (CI lays it there),
    else the workplace's ``/work/shared``."""
    beside = Path(__file__).resolve().parents[3] / "shared" / relative
    return beside if beside.exists() else Path("/work/shared") / relative


class Behaviour(StrEnum):
    OK = "ok"  # accept the message
    SERVER_ERROR = "server_error"  # HTTP 5xx in the provider's format
    THROTTLE = "throttle"  # HTTP 429 in the provider's format
    PERMANENT = "permanent"  # the provider's own hard error for an invalid/unroutable number
    BLACKLISTED = "blacklisted"  # the provider's own error for an opted-out / blocked number
    HANG = "hang"  # wait ``hang_seconds`` before answering (past the adapter's timeout)
    PARTIAL = "partial"  # 200 with this recipient rejected inside the body (Infobip, ClickSend)


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class AcceptedMessage:
    provider_message_id: str
    to: str  # E.164 with +
    sender: str
    body: str
    callback_url: str | None = None
    reference: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic, compare=False)  # when it was accepted


class FakeProvider:
    """A provider fake served by uvicorn on 127.0.0.1 in a background thread."""

    name = "fake"

    def __init__(self, *, hang_seconds: float = 5.0) -> None:
        self.hang_seconds = hang_seconds
        self.behaviours: dict[str, Behaviour] = {}
        self.received: list[ReceivedRequest] = []
        self.accepted: list[AcceptedMessage] = []
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- to override -------------------------------------------------------------------
    def build_app(self) -> Starlette:
        raise NotImplementedError

    # --- control -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def behave(self, number: str, behaviour: Behaviour) -> None:
        self.behaviours[number] = behaviour

    def behaviour_for(self, number: str) -> Behaviour:
        digits = number if number.startswith("+") else "+" + number
        return self.behaviours.get(digits, Behaviour.OK)

    def record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.received.append(request)

    def accept(self, message: AcceptedMessage) -> None:
        with self._lock:
            self.accepted.append(message)

    def reset(self) -> None:
        with self._lock:
            self.behaviours.clear()
            self.received.clear()
            self.accepted.clear()

    async def hang(self) -> None:
        await asyncio.sleep(self.hang_seconds)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeProvider:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.build_app(), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} fake did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
