"""One pass of webhook delivery: POST claimed deliveries, then record what came back.

A delivery is POSTed with the event's stored payload bytes (``standard``) or
the LightningMSG body (``lightningmsg``), signed per Standard Webhooks v1 with
the endpoint's derived secret; a ``twilio`` delivery is a message's StatusCallback
(``lynsms.dialects.twilio.callbacks``), form-encoded and signed Twilio's way. Any
2xx succeeds. Anything else (3xx included, timeouts, connection errors, a
destination refused as internal) is a failed attempt, retried after
``retry_schedule[attempts - 1]`` seconds ±15 % (a ``Retry-After`` on 429/503 is a
lower bound) until the schedule runs out. 410 Gone disables the endpoint; so does
failing for five days without a success (never a ``twilio`` or ``sinch`` one: their
URLs are the messages' and batches' own).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import orjson
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.dialects.twilio import callbacks as twilio_callbacks
from lynsms.kit.clock import utcnow
from lynsms.webhooks import signing
from lynsms.webhooks.repository import (
    FAILED,
    PENDING,
    SINCH_FORMAT,
    SUCCEEDED,
    DeliveryRepository,
)
from lynsms.webhooks.urls import UnsafeUrl, check_destination

USER_AGENT = "LynSMS-Webhooks/1.0 (+https://www.standardwebhooks.com)"
TIMEOUT = 15.0  # seconds for a whole attempt, connect to last byte
CONCURRENCY = 32
JITTER = 0.15
MAX_RETRY_AFTER = 86_400.0
MAX_BODY_READ = 65_536  # bytes of a reply read (the rest is dropped with the connection)
DISABLE_AFTER = timedelta(days=5)
# LightningMSG (seed 003) knows two events; its endpoints receive only these.
LIGHTNINGMSG_EVENTS = {
    "message.sent": ("sms.sent", "sent"),
    "message.cancelled": ("sms.cancelled", "cancelled"),
}


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed delivery with what it takes to send it."""

    delivery_id: int
    attempts: int
    event_id: str
    event_type: str
    payload: str
    event_created_at: datetime
    endpoint_id: str
    url: str
    format: str
    headers: dict[str, str]
    endpoint_live: bool  # enabled and not deleted (twilio: the message still has its callback)
    failing_since: datetime | None
    account_id: str = ""
    sealed_token: str | None = None  # twilio: the key that signs (twilio_callbacks.seal)

    @classmethod
    def from_row(cls, row: RowMapping) -> Job:
        twilio = row["format"] == twilio_callbacks.FORMAT  # the URL is the message's own
        sinch = row["format"] == SINCH_FORMAT  # the URL is the batch's own
        url = (
            row["callback_url"]
            if twilio
            else row.get("sinch_callback_url")
            if sinch
            else row["url"]
        )
        return cls(
            delivery_id=row["id"],
            attempts=row["attempts"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            payload=row["payload"],
            event_created_at=row["event_created_at"],
            endpoint_id=row["endpoint_id"],
            url=url or "",
            format=row["format"],
            headers=dict(row["headers"] or {}),
            endpoint_live=bool(row["enabled"]) and row["deleted_at"] is None and bool(url),
            failing_since=row["failing_since"],
            account_id=row["account_id"],
            sealed_token=row["sealed_token"],
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one delivery came to. ``attempted`` is false when nothing was POSTed."""

    attempted: bool
    at: datetime | None = None
    status_code: int | None = None
    latency_ms: int = 0
    error: str | None = None
    retry_after: float | None = None
    abandoned: bool = False  # the endpoint is gone: fail without sending

    @property
    def succeeded(self) -> bool:
        return _is_2xx(self.status_code)


SKIPPED = Outcome(attempted=False)
ABANDONED = Outcome(attempted=False, abandoned=True)


def _is_2xx(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


def applies(job: Job) -> bool:
    """Whether the endpoint's format has anything to send for this event."""
    return job.format != "lightningmsg" or job.event_type in LIGHTNINGMSG_EVENTS


def body_of(job: Job) -> bytes:
    if job.format != "lightningmsg":
        return job.payload.encode()  # the stored bytes, exactly
    data = orjson.loads(job.payload).get("data") or {}
    return orjson.dumps(
        {
            "sms_id": data.get("id"),
            "status": LIGHTNINGMSG_EVENTS[job.event_type][1],
            "timestamp": job.event_created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )


def request_for(job: Job, key: bytes, timestamp: int) -> tuple[bytes, dict[str, str]]:
    """The exact body and headers of one attempt (custom headers first, ours win)."""
    if job.format == twilio_callbacks.FORMAT:
        return _twilio_request(job, key)
    body = body_of(job)
    secret = signing.endpoint_secret(key, job.endpoint_id)
    headers = {
        **job.headers,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signing.signature_headers(secret, job.event_id, timestamp, body),
    }
    return body, headers


def _twilio_request(job: Job, key: bytes) -> tuple[bytes, dict[str, str]]:
    """A Twilio status callback, signed with the key the message was sent with."""
    token = twilio_callbacks.unseal(key, job.sealed_token or "")
    if token is None:
        raise UnsealableToken("the message's auth token was sealed under another secret key")
    return twilio_callbacks.callback_request(
        job.payload, job.account_id, job.url, token, job.event_id, job.event_created_at
    )


class UnsealableToken(ValueError):
    """The server's secret key changed since the message was sent: its callback cannot be
    signed (and is not sent)."""


async def attempt_all(
    clients: list[httpx.AsyncClient],
    jobs: list[Job],
    key: bytes,
    allow_private: bool,
    timeout: float | None = None,
) -> list[Outcome]:
    """Send every job, ``CONCURRENCY`` at a time (lanes spread over ``clients``); outcomes
    in the order of ``jobs``."""
    refusals = await _refusals((job.url for job in jobs if job.endpoint_live), allow_private)
    outcomes: list[Outcome] = [SKIPPED] * len(jobs)
    pending = iter(range(len(jobs)))

    async def lane(client: httpx.AsyncClient) -> None:  # each takes the next job: no task each
        for index in pending:
            outcomes[index] = await _attempt(client, jobs[index], key, refusals, timeout)

    lanes = min(CONCURRENCY, len(jobs))
    await asyncio.gather(*(lane(clients[n % len(clients)]) for n in range(lanes)))
    return outcomes


async def _refusals(urls: Iterable[str], allow_private: bool) -> dict[str, str | None]:
    """Each distinct destination checked once per pass: why it is refused, or None."""
    origins = sorted({_origin(url) for url in urls})

    async def check(origin: str) -> str | None:
        try:
            await check_destination(origin, allow_private)
        except UnsafeUrl as exc:
            return f"refused: {exc}"
        return None

    results = await asyncio.gather(*(check(origin) for origin in origins))
    return dict(zip(origins, results, strict=True))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def _attempt(
    client: httpx.AsyncClient,
    job: Job,
    key: bytes,
    refusals: dict[str, str | None],
    timeout: float | None,
) -> Outcome:
    if not job.endpoint_live:
        return ABANDONED
    if not applies(job):
        return SKIPPED
    at = utcnow()
    refused = refusals.get(_origin(job.url))
    if refused is not None:
        return Outcome(attempted=True, at=at, error=refused)
    try:
        body, headers = request_for(job, key, int(time.time()))
    except UnsealableToken as exc:
        return Outcome(attempted=True, at=at, error=str(exc))
    return await post(client, job.url, body, headers, at, timeout)


async def post(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    at: datetime,
    timeout: float | None = None,
) -> Outcome:
    """POST once, within ``timeout`` (default ``TIMEOUT``) seconds; never raises for what the
    network or the receiver does."""
    timeout = timeout or TIMEOUT
    started = time.perf_counter()
    status_code, error, retry_after = None, None, None
    try:
        async with asyncio.timeout(timeout):
            status_code, retry_after = await _send(client, url, body, headers)
    except TimeoutError:
        error = f"timed out after {timeout:g} s"
    except (httpx.HTTPError, aiohttp.ClientError, ValueError) as exc:  # aiohttp: unmapped ones
        error = f"{type(exc).__name__}: {exc}".rstrip(": ")
    latency_ms = round((time.perf_counter() - started) * 1000)
    if status_code is not None and not _is_2xx(status_code):
        error = f"HTTP {status_code}"
    return Outcome(True, at, status_code, latency_ms, error[:500] if error else None, retry_after)


async def _send(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int, float | None]:
    async with client.stream("POST", url, content=body, headers=headers) as response:
        read = 0
        async for chunk in response.aiter_raw():  # drain a little, keep the connection
            read += len(chunk)
            if read > MAX_BODY_READ:
                break
        return response.status_code, _retry_after(response)


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` of a 429/503 in seconds (delta or HTTP date), capped at a day."""
    value = response.headers.get("retry-after")
    if response.status_code not in (429, 503) or not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - utcnow()).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def next_attempt(
    attempts: int, outcome: Outcome, now: datetime, schedule: list[float]
) -> datetime | None:
    """When to try again after ``attempts`` failed attempts; None when the schedule is spent."""
    if attempts - 1 >= len(schedule):
        return None
    base = schedule[attempts - 1]
    delay = base + random.uniform(-JITTER, JITTER) * base
    if outcome.retry_after is not None:
        delay = max(delay, outcome.retry_after)
    return now + timedelta(seconds=max(0.0, delay))


@dataclass
class Plan:
    """Everything one pass writes."""

    deliveries: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    healthy: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    disable: dict[str, str] = field(default_factory=dict)  # endpoint id -> reason


def plan(jobs: list[Job], outcomes: list[Outcome], now: datetime, schedule: list[float]) -> Plan:
    result = Plan()
    for job, outcome in zip(jobs, outcomes, strict=True):
        _plan_one(result, job, outcome, now, schedule)
    result.failing -= result.healthy
    for job in jobs:
        if job.endpoint_id in result.failing and _failing_too_long(job, now):
            result.disable.setdefault(job.endpoint_id, "Every delivery failed for 5 days.")
    return result


def _plan_one(
    result: Plan, job: Job, outcome: Outcome, now: datetime, schedule: list[float]
) -> None:
    attempts = job.attempts + (1 if outcome.attempted else 0)
    status, next_at = SUCCEEDED, None
    if outcome.abandoned:
        status = FAILED
    elif outcome.attempted and not outcome.succeeded:
        next_at = next_attempt(attempts, outcome, now, schedule)
        status = PENDING if next_at and outcome.status_code != 410 else FAILED
        if _has_health(job):
            result.failing.add(job.endpoint_id)
        if outcome.status_code == 410 and _has_health(job):
            result.disable[job.endpoint_id] = "The endpoint answered 410 Gone."
    elif outcome.attempted and _has_health(job):
        result.healthy.add(job.endpoint_id)
    result.deliveries.append(
        {
            "p_id": job.delivery_id,
            "p_status": status,
            "p_attempts": attempts,
            "p_next_attempt_at": next_at if status == PENDING else None,
            "p_updated_at": now,
        }
    )
    if outcome.attempted:
        result.attempts.append(_attempt_row(job, outcome))


def _has_health(job: Job) -> bool:
    """Whether the job's outcome speaks for its endpoint. A twilio endpoint POSTs to every
    message's own URL: one failing URL is no reason to stop the others (a 410 fails only
    that delivery)."""
    return job.format not in (twilio_callbacks.FORMAT, SINCH_FORMAT)


def _attempt_row(job: Job, outcome: Outcome) -> dict[str, Any]:
    return {
        "delivery_id": job.delivery_id,
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "error": outcome.error,
        "created_at": outcome.at,
    }


def _failing_too_long(job: Job, now: datetime) -> bool:
    return job.failing_since is not None and now - job.failing_since >= DISABLE_AFTER


async def record(session: AsyncSession, result: Plan, now: datetime) -> None:
    """Write a pass's plan: attempts, delivery outcomes, endpoint health and disabling."""
    repository = DeliveryRepository(session)
    await repository.add_attempts(result.attempts)
    await repository.record(result.deliveries)
    await repository.mark_healthy(sorted(result.healthy))
    await repository.mark_failing(sorted(result.failing), now)
    for endpoint_id, reason in sorted(result.disable.items()):
        await repository.disable(endpoint_id, reason, now)
