"""Hand accepted messages to providers and turn the outcomes into one write.

Used by the send path (within the request's time budget) and by the worker
alike: both own the messages they dispatch through ``locked_until``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

from lynsms.billing import service as billing_service
from lynsms.exceptions import ValidationFailed
from lynsms.kit.clock import utcnow
from lynsms.messages import status as st
from lynsms.messages.repository import RECORD_DISPATCH, RELEASE, attempts
from lynsms.messages.views import media_urls_of, message_to_dict
from lynsms.providers.base import OutboundSms, Rejected
from lynsms.routing.chain import Outcome, walk
from lynsms.routing.service import SIMULATOR
from lynsms.runtime import Runtime
from lynsms.webhooks.events import events, message_event
from lynsms.worker.retry import DISPATCH_RETRY, THROTTLED_RETRY
from lynsms.writer import WriteOp


async def dispatch(
    runtime: Runtime,
    rows: list[dict[str, Any]],
    deadline: float,
    stop: asyncio.Event | None = None,
) -> WriteOp:
    """Dispatch the rows (updated in place with their outcome); return the write to commit.

    No row is started after ``deadline`` (the time budget) or once ``stop`` is set: those
    left are released, due at once, for the worker's next pass. So a pass never outlives
    its lease by more than one provider timeout.
    """
    outcomes: list[Outcome | None] = [None] * len(rows)
    pending = iter(range(len(rows)))

    async def lane() -> None:  # a few lanes, each taking the next row: no task per message
        for index in pending:
            if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                return
            outcomes[index] = await _dispatch_one(runtime, rows[index], deadline)

    if len(rows) == 1:
        await lane()
    else:
        lanes = min(runtime.settings.worker.concurrency, len(rows))
        await asyncio.gather(*(lane() for _ in range(lanes)))
    op = WriteOp()
    op.update(
        RELEASE,
        [{"p_id": row["id"]} for row, done in zip(rows, outcomes, strict=True) if done is None],
    )
    done = [(row, outcome) for row, outcome in zip(rows, outcomes, strict=True) if outcome]
    return record(runtime, done, op)


async def dispatch_each(
    runtime: Runtime, rows: list[dict[str, Any]], deadline: float, stop: asyncio.Event
) -> None:
    """The worker's ``dispatch``: each outcome is committed as soon as it is known (the
    writer groups the lanes' commits), so a crash re-sends at most the messages whose
    provider call or commit was in flight (one per lane), not a whole batch. Rows not
    started by ``deadline`` or ``stop`` are released, due at once."""
    pending = iter(rows)

    async def lane() -> None:
        for row in pending:
            if time.monotonic() >= deadline or stop.is_set():
                await runtime.database.writer.submit(_release([row, *pending]))
                return
            outcome = await _dispatch_one(runtime, row, deadline)
            await runtime.database.writer.submit(record(runtime, [(row, outcome)], WriteOp()))

    lanes = min(runtime.settings.worker.concurrency, len(rows))
    failures = [
        result
        for result in await asyncio.gather(*(lane() for _ in range(lanes)), return_exceptions=True)
        if isinstance(result, BaseException)
    ]
    if failures:  # what was not recorded stays leased: the next pass after the lease retries
        raise failures[0]


def _release(rows: list[dict[str, Any]]) -> WriteOp:
    return WriteOp().update(RELEASE, [{"p_id": row["id"]} for row in rows])


def record(runtime: Runtime, done: list[tuple[dict[str, Any], Outcome]], op: WriteOp) -> WriteOp:
    """Add the outcomes to ``op``: each row's new state, its attempts, events and refunds."""
    now = utcnow()
    results, attempt_rows, refunds, changes = [], [], [], []
    for row, outcome in done:
        first_try = row["attempts"] == 0 and bool(outcome.attempts)
        results.append(_apply(runtime, row, outcome, now))
        attempt_rows.extend(_attempt_rows(row["id"], outcome, now))
        if row["status"] == st.FAILED and row["mode"] == "live":
            refunds.append((row["account_id"], row["cost_units"], row["id"]))
        if row["status"] != st.QUEUED or first_try:  # still queued after a retry is no news
            changes.append(message_event(message_to_dict(row), row["account_id"], now))
    op.update(RECORD_DISPATCH, results)
    op.insert(attempts, attempt_rows)
    op.insert(events, changes)
    billing_service.add_refunds(op, refunds)
    return op


async def _dispatch_one(runtime: Runtime, row: dict[str, Any], deadline: float) -> Outcome:
    media = tuple(media_urls_of(row))
    try:
        chain = runtime.router.chain(
            test=row["mode"] == "test",
            country=row["country"],
            provider=row["requested_provider"],
            route_id=row["requested_route_id"],
            media=len(media),
            text=bool(row["body"]),
        )
    except ValidationFailed as exc:  # the routes changed since it was accepted: nowhere to go
        error = Rejected(exc.message, provider_code=exc.code)
        return Outcome(status=st.FAILED, route_id=row["requested_route_id"], error=error)
    sms = OutboundSms(
        message_id=row["id"],
        to=row["to_number"],
        sender=row["from_number"],
        body=row["body"],
        validity_seconds=_validity(row),
        media_urls=media,
    )
    return await walk(runtime.router, chain, sms, deadline)


def _validity(row: dict[str, Any]) -> int | None:
    expire_at: datetime | None = row.get("expire_at")
    if expire_at is None:
        return None
    return max(60, int((expire_at - utcnow()).total_seconds()))


def _apply(
    runtime: Runtime, row: dict[str, Any], outcome: Outcome, now: datetime
) -> dict[str, Any]:
    """Move ``row`` to its new state in memory; return the RECORD_DISPATCH parameters."""
    error = outcome.error
    row.update(
        status=outcome.status,
        provider=outcome.provider,
        route_id=outcome.route_id,
        provider_message_id=outcome.provider_message_id,
        attempts=row["attempts"] + len(outcome.attempts),
        error_code=error.code if error else None,
        error_message=_describe(outcome) if error else None,
        sent_at=now if outcome.status == st.SENT else None,
        next_attempt_at=_next_time(runtime, row, outcome, now),
        updated_at=now,
    )
    return {f"p_{name}": row[name] for name in _RECORDED}


_RECORDED = (
    "id",
    "status",
    "provider",
    "provider_message_id",
    "route_id",
    "attempts",
    "error_code",
    "error_message",
    "sent_at",
    "next_attempt_at",
    "updated_at",
)


def _next_time(
    runtime: Runtime, row: dict[str, Any], outcome: Outcome, now: datetime
) -> datetime | None:
    if outcome.status == st.SENT:
        if outcome.provider != SIMULATOR:
            return None
        return now + timedelta(seconds=runtime.settings.simulator.delivery_delay)
    if outcome.status == st.QUEUED:
        if outcome.throttled and not outcome.attempts:  # only waiting for a slot: soon again
            return now + THROTTLED_RETRY.delay(1)
        return now + DISPATCH_RETRY.delay(row["attempts"] + len(outcome.attempts))
    return None


def _describe(outcome: Outcome) -> str:
    error = outcome.error
    assert error is not None
    code = f" {error.provider_code}" if error.provider_code else ""
    return f"{outcome.provider or 'routing'}{code}: {error.message}"[:500]


def _attempt_rows(message_id: str, outcome: Outcome, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "message_id": message_id,
            "provider": attempt.provider,
            "outcome": attempt.outcome,
            "provider_message_id": attempt.provider_message_id,
            "error_code": attempt.error.code if attempt.error else None,
            "error_message": attempt.error.message[:500] if attempt.error else None,
            "latency_ms": attempt.latency_ms,
            "created_at": now,
        }
        for attempt in outcome.attempts
    ]


def deadline_in(seconds: float) -> float:
    return time.monotonic() + seconds
