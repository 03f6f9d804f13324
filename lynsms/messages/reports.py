"""Delivery reports: monotonic, idempotent status updates from providers (or the simulator).

One transaction per batch of reports: the messages are read locked, every
allowed move is computed in memory (so several reports for one message apply
in order), then written with one executemany, refunds included.

A report can overtake the provider's answer to the send it is about: it names a
provider id no message carries yet. Such a report is kept (``early_reports``)
and the worker applies it once the send is recorded (``replay_early``); a kept
report whose id never becomes ours is dropped after ``EARLY_REPORT_TTL``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.billing import service as billing_service
from lynsms.kit.clock import utcnow
from lynsms.kit.logging import get_logger
from lynsms.kit.metrics import STATUS_CHANGES
from lynsms.messages import status as st
from lynsms.messages.repository import MOVE, MessageRepository, early_reports, messages
from lynsms.messages.views import message_to_dict
from lynsms.providers.base import DeliveryReport
from lynsms.runtime import Runtime
from lynsms.webhooks.events import events, message_event
from lynsms.writer import WriteOp

log = get_logger("lynsms.reports")
EARLY_REPORT_TTL = timedelta(days=1)


async def record_reports(
    session: AsyncSession, provider: str, reports: list[DeliveryReport]
) -> int:
    """Apply ``reports``; a repeated or late report changes nothing. Returns how many moved."""
    if not reports:
        return 0
    repository = MessageRepository(session)
    ids = list({report.provider_message_id for report in reports})
    rows = await repository.lock_by_provider_ids(provider, ids)
    current = {row["provider_message_id"]: dict(row) for row in rows}
    now = utcnow()
    moves, changes, early = _plan(current, reports, now)
    await repository.move_many(moves)
    await repository.add_events(changes)
    await _refund(session, current, moves)
    await _keep_early(repository, provider, early, now)
    _count(moves)
    return len(moves)


async def record_reports_batched(
    runtime: Runtime, provider: str, reports: list[DeliveryReport]
) -> int:
    """``record_reports`` through the group-commit writer: the reports of every request
    waiting share one transaction (the same reads, moves, events, refunds and kept early
    reports, answered after the commit). How many moved."""
    if not reports:
        return 0
    moved: list[list[dict[str, Any]]] = []

    def step(conn: Connection) -> WriteOp:
        op, moves = _reports_op(conn, provider, reports)
        moved.append(moves)  # the last attempt is the one committed
        return op

    await runtime.database.writer.submit(WriteOp().then(step))
    _count(moved[-1])
    return len(moved[-1])


def _reports_op(
    conn: Connection, provider: str, reports: list[DeliveryReport]
) -> tuple[WriteOp, list[dict[str, Any]]]:
    ids = list({report.provider_message_id for report in reports})
    query = select(messages).where(
        messages.c.provider == provider, messages.c.provider_message_id.in_(ids)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    current = {row["provider_message_id"]: dict(row) for row in conn.execute(query).mappings()}
    now = utcnow()
    moves, changes, early = _plan(current, reports, now)
    by_id = {row["id"]: row for row in current.values()}
    refunds = []
    for move in moves:
        row = by_id[move["p_id"]]
        if move["p_status"] in st.REFUNDED and row["mode"] == "live":
            refunds.append((row["account_id"], row["cost_units"], row["id"]))
    if early:
        _log_early(provider, early)
    op = WriteOp().update(MOVE, moves).insert(events, changes)
    op.insert(early_reports, [_early_row(provider, report, now) for report in early])
    billing_service.add_refunds(op, refunds)
    return op, moves


def _plan(
    current: dict[str, dict[str, Any]], reports: list[DeliveryReport], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[DeliveryReport]]:
    """The moves, the events and the reports kept for later (their message is not known
    yet), reading the rows of ``current`` (updated in memory, in report order)."""
    moves: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    early: list[DeliveryReport] = []
    for report in reports:
        row = current.get(report.provider_message_id)
        if row is None:
            early.append(report)
        elif st.allowed(row["status"], report.status):
            moves.append(_move(row, report, now))
            _mirror(row, moves[-1])
            changes.append(message_event(message_to_dict(row), row["account_id"], now))
    return moves, changes, early


def _count(moves: list[dict[str, Any]]) -> None:
    for move in moves:
        STATUS_CHANGES.labels(move["p_status"]).inc()


def _move(row: dict[str, Any], report: DeliveryReport, now: datetime) -> dict[str, Any]:
    failed = report.status != st.DELIVERED
    return {
        "p_id": row["id"],
        "p_from": row["status"],
        "p_status": report.status,
        "p_error_code": (report.error_code or report.provider_status) if failed else None,
        "p_error_message": (report.error_message or report.provider_status)[:500]
        if failed
        else None,
        "p_delivered_at": (report.occurred_at or now) if not failed else None,
        "p_updated_at": now,
    }


def _mirror(row: dict[str, Any], move: dict[str, Any]) -> None:
    """Apply a move to the row in memory (the event carries the message as it now is)."""
    row.update(
        status=move["p_status"],
        error_code=move["p_error_code"],
        error_message=move["p_error_message"],
        delivered_at=move["p_delivered_at"],
        updated_at=move["p_updated_at"],
        next_attempt_at=None,
    )


async def _refund(
    session: AsyncSession, rows: dict[str, dict[str, Any]], moves: list[dict[str, Any]]
) -> None:
    by_id = {row["id"]: row for row in rows.values()}
    for move in moves:
        row = by_id[move["p_id"]]
        if move["p_status"] in st.REFUNDED and row["mode"] == "live":
            await billing_service.refund(session, row["account_id"], row["cost_units"], row["id"])


async def _keep_early(
    repository: MessageRepository, provider: str, reports: list[DeliveryReport], now: datetime
) -> None:
    if not reports:
        return
    _log_early(provider, reports)
    await repository.keep_early_reports([_early_row(provider, r, now) for r in reports])


def _log_early(provider: str, reports: list[DeliveryReport]) -> None:
    log.info(
        "report for a message not recorded yet: kept",
        provider=provider,
        provider_message_ids=[report.provider_message_id for report in reports][:20],
    )


def _early_row(provider: str, report: DeliveryReport, now: datetime) -> dict[str, Any]:
    return {
        "provider": provider,
        "provider_message_id": report.provider_message_id,
        "status": report.status,
        "provider_status": report.provider_status[:64],
        "error_code": report.error_code,
        "error_message": (report.error_message or "")[:500] or None,
        "occurred_at": report.occurred_at,
        "received_at": now,
    }


async def replay_early(session: AsyncSession, limit: int) -> int:
    """Apply kept reports whose message is now recorded; drop expired ones. How many."""
    repository = MessageRepository(session)
    now = utcnow()
    rows = await repository.matched_early_reports(limit)
    by_provider: dict[str, list[DeliveryReport]] = {}
    for row in rows:
        by_provider.setdefault(row["provider"], []).append(_report(row))
    for provider, reports in by_provider.items():
        await record_reports(session, provider, reports)
    dropped = await repository.forget_early_reports(
        [row["id"] for row in rows], now - EARLY_REPORT_TTL
    )
    if dropped:
        log.warning("reports for messages never recorded dropped", count=dropped)
    return len(rows)


def _report(row: Any) -> DeliveryReport:
    return DeliveryReport(
        provider_message_id=row["provider_message_id"],
        status=row["status"],
        provider_status=row["provider_status"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        occurred_at=row["occurred_at"],
    )
