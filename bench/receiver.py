"""A webhook receiver far lighter than the server it measures: raw asyncio and httptools.

``python -m bench.receiver PORT`` answers 200 with an empty body to every POST and
counts it by its ``webhook-id``, with the time each id first arrived. ``GET /stats``
answers the totals, ``GET /ids`` every id's first arrival, the ids received more than
once and the first few requests whole (for checking their signatures).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any, cast

import httptools
import uvloop

SAMPLES = 20  # requests kept whole for signature checks
KEPT_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
OK = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"


@dataclass
class Tally:
    """Deliveries counted by webhook id."""

    requests: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, float] = field(default_factory=dict)  # id -> epoch seconds
    first_at: float | None = None
    last_at: float | None = None
    samples: list[dict[str, str]] = field(default_factory=list)

    def record(self, webhook_id: str, at: float, headers: dict[str, str], body: bytes) -> None:
        self.requests += 1
        self.first_at = at if self.first_at is None else self.first_at
        self.last_at = at
        seen = self.counts.get(webhook_id, 0)
        self.counts[webhook_id] = seen + 1
        if not seen:
            self.first[webhook_id] = at
        if len(self.samples) < SAMPLES:
            self.samples.append({**headers, "body": body.decode()})

    @property
    def duplicates(self) -> int:
        """Requests beyond the first of their id."""
        return self.requests - len(self.counts)

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "unique": len(self.counts),
            "duplicates": self.duplicates,
            "first_at": self.first_at,
            "last_at": self.last_at,
        }

    def detail(self) -> dict[str, Any]:
        repeated = {key: count for key, count in self.counts.items() if count > 1}
        return {**self.stats(), "first": self.first, "repeated": repeated, "samples": self.samples}


def json_reply(payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload).encode()
    head = (
        f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection(asyncio.Protocol):
    """One keep-alive connection; httptools calls the ``on_*`` methods as bytes arrive."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.headers: dict[str, str] = {}
        self.body = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        if key in KEPT_HEADERS:
            self.headers[key] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        assert self.transport is not None
        self.transport.write(self._answer())
        self._reset()

    def _answer(self) -> bytes:
        if self.parser.get_method() == b"POST":
            webhook_id = self.headers.get("webhook-id", "")
            self.tally.record(webhook_id, time.time(), self.headers, bytes(self.body))
            return OK
        path = self.url.split(b"?", 1)[0]
        if path == b"/stats":
            return json_reply(self.tally.stats())
        if path == b"/ids":
            return json_reply(self.tally.detail())
        return NOT_FOUND


async def serve(port: int) -> None:
    tally = Tally()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(tally), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1])))
