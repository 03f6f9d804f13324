"""Idempotency keys (API.md §7 and §10, seed 002): the first final response, stored and replayed.

A POST, PUT, PATCH or DELETE under ``/api/v1`` that sends ``Idempotency-Key`` is served so:

1. The key must be 1–255 printable ASCII characters (one pair of surrounding double
   quotes, the RFC 8941 form, is removed), else 400 ``invalid_idempotency_key``.
2. A row for (API key, Idempotency-Key) is inserted as the request's lock, under the
   table's unique constraint, so the lock holds across processes and nodes. Its lease
   is ``LEASE``: a request that died cannot hold the key longer. If the row is there
   already, it is a stored response, replayed byte for byte with ``Idempotent-Replayed:
   true`` and the original ``X-Request-Id`` (even for a different body: the mismatch of
   fingerprints is logged), or a request still running: 409 ``idempotency_key_in_use``.
   A row whose lease or 24 hours are up is taken over.
3. The request runs; its response is held back until stored: 2xx and the business 4xx
   (402, 404, 409, 422) for ``TTL``. Any other outcome frees the key, so that a retry
   runs again.
4. At most every ``PURGE_INTERVAL`` seconds, a process that stored a response deletes
   the expired rows.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lynsms.conventions.repository import IdempotencyRepository
from lynsms.database import Database, session_scope
from lynsms.exceptions import BadRequest, Conflict
from lynsms.kit.clock import utcnow
from lynsms.kit.context import current_request_id
from lynsms.kit.logging import get_logger
from lynsms.models import IdempotencyKey

log = get_logger("lynsms.idempotency")
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LEASE = timedelta(seconds=60)  # longest a running request holds its key
TTL = timedelta(hours=24)  # how long a stored response is replayed
PURGE_INTERVAL = 600.0  # seconds between deletions of expired rows, per process
PURGE_BATCH = 1000  # rows deleted per transaction
_HEADER = b"idempotency-key"
_VALID = re.compile(rb"[\x20-\x7e]{1,255}")
_STORED_ERRORS = frozenset({402, 404, 409, 422})
_CLAIM_ATTEMPTS = 3


def idempotency_key(scope: Scope) -> str | None:
    """The request's Idempotency-Key, if it is one the API honours; raises 400 if invalid."""
    if scope["method"] not in METHODS:
        return None
    values = [value for name, value in scope["headers"] if name == _HEADER]
    if not values:
        return None
    raw: bytes = values[0]
    if len(raw) >= 2 and raw[:1] == raw[-1:] == b'"':
        raw = raw[1:-1]
    if len(values) > 1 or not _VALID.fullmatch(raw):
        raise BadRequest(
            "Send one Idempotency-Key header of 1 to 255 printable ASCII characters.",
            code="invalid_idempotency_key",
            param="Idempotency-Key",
        )
    return raw.decode("ascii")


def fingerprint(scope: Scope, body: bytes) -> str:
    """SHA-256 of method, path, query string and body."""
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope["query_string"], body):
        digest.update(part)
        digest.update(b"\n")
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Claim:
    """One request's hold on (API key, Idempotency-Key)."""

    api_key_id: str
    key: str
    fingerprint: str
    lock_token: str
    request_id: str


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored response, as it is replayed."""

    status_code: int
    content_type: str
    body: bytes
    request_id: str
    fingerprint: str

    def response(self) -> Response:
        headers = {"x-request-id": self.request_id, "idempotent-replayed": "true"}
        if self.content_type:
            headers["content-type"] = self.content_type
        return Response(self.body, self.status_code, headers)


class Captured:
    """An ASGI ``send`` that holds the response back until it has been stored."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        starts = [m for m in self.messages if m["type"] == "http.response.start"]
        return int(starts[0]["status"]) if starts else 500

    @property
    def storable(self) -> bool:
        """Executed and final: 2xx and the business 4xx (API.md §10)."""
        return 200 <= self.status < 300 or self.status in _STORED_ERRORS

    def stored_values(self, now: datetime) -> dict[str, Any]:
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        headers = dict(start.get("headers", []))
        body = b"".join(m.get("body", b"") for m in self.messages if "body" in m)
        return {
            "status_code": self.status,
            "content_type": headers.get(b"content-type", b"").decode("latin-1"),
            "body": body,
            "expires_at": now + TTL,
        }

    async def send_to(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


class IdempotencyStore:
    """Claims, stores, frees and purges rows of ``idempotency_keys`` (one per process)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.purged_at = -math.inf  # monotonic time of the last purge

    async def claim(self, claim: Claim) -> Stored | None:
        """Hold the key for ``claim`` (None) or return the response to replay.

        Raises 409 ``idempotency_key_in_use`` while another request holds the key.
        """
        for _ in range(_CLAIM_ATTEMPTS):
            held, row = await self._try_claim(claim)
            if held:
                return None
            if row is not None and row.status_code is not None:
                return _stored(row)
            if row is not None:
                break  # running elsewhere; None: freed meanwhile, try again
        raise Conflict(
            "A request with this Idempotency-Key is still running; retry shortly.",
            code="idempotency_key_in_use",
            headers={"Retry-After": "1"},
        )

    async def _try_claim(self, claim: Claim) -> tuple[bool, IdempotencyKey | None]:
        now = utcnow()
        row = {
            "api_key_id": claim.api_key_id,
            "key": claim.key,
            "fingerprint": claim.fingerprint,
            "lock_token": claim.lock_token,
            "request_id": claim.request_id,
            "status_code": None,
            "content_type": None,
            "body": None,
            "created_at": now,
            "expires_at": now + LEASE,
        }
        async with session_scope(self.database, write=True) as session:
            repository = IdempotencyRepository(session)
            if await repository.claim(row, now):
                return True, None
            return False, await repository.get(claim.api_key_id, claim.key)

    async def finish(self, claim: Claim, response: Captured) -> None:
        """Store a final response; free the key after any other."""
        async with session_scope(self.database, write=True) as session:
            repository = IdempotencyRepository(session)
            held = (claim.api_key_id, claim.key, claim.lock_token)
            if response.storable:
                await repository.complete(*held, response.stored_values(utcnow()))
            else:
                await repository.release(*held)

    async def release(self, claim: Claim) -> None:
        """Free the key of a request that failed; if that fails too, its lease will."""
        try:
            async with session_scope(self.database, write=True) as session:
                await IdempotencyRepository(session).release(
                    claim.api_key_id, claim.key, claim.lock_token
                )
        except Exception:
            log.exception("idempotency key not freed; its lease frees it", key=claim.key)

    async def purge_if_due(self) -> None:
        if time.monotonic() - self.purged_at < PURGE_INTERVAL:
            return
        self.purged_at = time.monotonic()
        try:
            await self.purge(utcnow())
        except Exception:
            log.exception("expired idempotency keys not purged")

    async def purge(self, now: datetime) -> int:
        """Delete every row whose time is up, a batch per transaction; how many."""
        total = 0
        while True:
            async with session_scope(self.database, write=True) as session:
                count = await IdempotencyRepository(session).purge(now, PURGE_BATCH)
            total += count
            if count < PURGE_BATCH:
                return total


def _stored(row: IdempotencyKey) -> Stored:
    return Stored(
        status_code=row.status_code or 500,
        content_type=row.content_type or "",
        body=row.body or b"",
        request_id=row.request_id,
        fingerprint=row.fingerprint,
    )


async def serve(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    store: IdempotencyStore,
    api_key_id: str,
    key: str,
) -> None:
    """Serve a request that sent a valid Idempotency-Key: replay, refuse (409) or run and store."""
    body = await _read_body(receive)
    token = secrets.token_hex(16)
    claim = Claim(api_key_id, key, fingerprint(scope, body), token, current_request_id())
    stored = await store.claim(claim)
    if stored is None:
        await _run(app, scope, _replay_body(body, receive), send, store, claim)
        return
    if stored.fingerprint != claim.fingerprint:
        log.warning(
            "idempotency key reused for a different request; replaying the first response",
            key=key,
            method=scope["method"],
            path=scope["path"],
        )
    await stored.response()(scope, receive, send)


async def _run(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, store: IdempotencyStore, claim: Claim
) -> None:
    captured = Captured()
    try:
        await app(scope, receive, captured)
    except BaseException:
        await store.release(claim)
        raise
    try:
        await store.finish(claim, captured)
    except Exception:  # the request has run: answer it anyway; the lease frees the key
        log.exception("idempotent response not stored", key=claim.key)
    await captured.send_to(send)
    await store.purge_if_due()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the body already read, then whatever comes after it."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
