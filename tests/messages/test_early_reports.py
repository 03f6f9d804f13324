"""Kept delivery reports: applied once their send is recorded, dropped after a day if never."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from lynsms.database import session_scope
from lynsms.kit.clock import utcnow
from lynsms.messages.reports import EARLY_REPORT_TTL, record_reports
from lynsms.messages.repository import early_reports
from lynsms.providers.base import DeliveryReport


async def _kept(server, provider_message_id: str) -> int:
    async with session_scope(server.runtime.database, write=False) as session:
        count = await session.scalar(
            select(func.count())
            .select_from(early_reports)
            .where(early_reports.c.provider_message_id == provider_message_id)
        )
    return int(count or 0)


async def test_a_report_for_an_unknown_id_is_kept_then_dropped_after_a_day(server):
    stranger = "SM" + "f" * 32
    report = DeliveryReport(stranger, "delivered", "delivered")
    async with session_scope(server.runtime.database, write=True) as session:
        assert await record_reports(session, "twilio", [report]) == 0
    assert await _kept(server, stranger) == 1
    await asyncio.sleep(0.5)  # the worker looks, finds no message with that id: still kept
    assert await _kept(server, stranger) == 1

    async with session_scope(server.runtime.database, write=True) as session:
        await session.execute(
            early_reports.update()
            .where(early_reports.c.provider_message_id == stranger)
            .values(received_at=utcnow() - EARLY_REPORT_TTL - timedelta(minutes=1))
        )
    for _ in range(50):
        if await _kept(server, stranger) == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("a report kept for over a day was not dropped")
