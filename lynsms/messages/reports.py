"""Delivery reports: monotonic, idempotent status updates from providers (or the simulator).

One transaction per batch of reports: the messages are read locked, every
allowed move is computed in memory (so several reports for one message apply
in order), then written with one executemany, refunds included.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.billing import service as billing_service
from lynsms.kit.clock import utcnow
from lynsms.kit.logging import get_logger
from lynsms.kit.metrics import STATUS_CHANGES
from lynsms.messages import status as st
from lynsms.messages.repository import MessageRepository
from lynsms.messages.views import message_to_dict
from lynsms.providers.base import DeliveryReport
from lynsms.webhooks.events import message_event

log = get_logger("lynsms.reports")


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
    moves: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for report in reports:
        row = current.get(report.provider_message_id)
        if row is None:
            log.warning(
                "report for unknown message",
                provider=provider,
                provider_message_id=report.provider_message_id,
            )
        elif st.allowed(row["status"], report.status):
            moves.append(_move(row, report, now))
            _mirror(row, moves[-1])
            changes.append(message_event(message_to_dict(row), row["account_id"], now))
    await repository.move_many(moves)
    await repository.add_events(changes)
    await _refund(session, current, moves)
    for move in moves:
        STATUS_CHANGES.labels(move["p_status"]).inc()
    return len(moves)


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
