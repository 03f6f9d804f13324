"""Delivery reports: monotonic, idempotent status updates from providers (or the simulator)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.billing import service as billing_service
from lynsms.kit.clock import utcnow
from lynsms.kit.logging import get_logger
from lynsms.kit.metrics import STATUS_CHANGES
from lynsms.messages import status as st
from lynsms.messages.repository import MessageRepository, move
from lynsms.providers.base import DeliveryReport

log = get_logger("lynsms.reports")


async def record_reports(
    session: AsyncSession, provider: str, reports: list[DeliveryReport]
) -> int:
    """Apply ``reports``; a repeated or late report changes nothing. Returns how many moved."""
    ids = list({report.provider_message_id for report in reports})
    rows = await MessageRepository(session).by_provider_ids(provider, ids)
    current = {row["provider_message_id"]: dict(row) for row in rows}
    moved = 0
    for report in reports:
        row = current.get(report.provider_message_id)
        if row is None:
            log.warning(
                "report for unknown message",
                provider=provider,
                provider_message_id=report.provider_message_id,
            )
            continue
        if st.allowed(row["status"], report.status) and await _apply(session, row, report):
            moved += 1
    return moved


async def _apply(session: AsyncSession, row: dict[str, Any], report: DeliveryReport) -> bool:
    now = utcnow()
    values: dict[str, Any] = {"updated_at": now, "next_attempt_at": None}
    if report.status == st.DELIVERED:
        values["delivered_at"] = report.occurred_at or now
    if report.error_code or report.status != st.DELIVERED:
        values["error_code"] = report.error_code or report.provider_status
        values["error_message"] = (report.error_message or report.provider_status)[:500]
    if not await move(session, row["id"], report.status, values):
        return False
    if report.status in st.REFUNDED and row["mode"] == "live" and row["cost_units"]:
        await billing_service.refund(session, row["account_id"], row["cost_units"], row["id"])
    row["status"] = report.status
    STATUS_CHANGES.labels(report.status).inc()
    return True
