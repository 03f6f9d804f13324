"""Opt-outs: one fact per account and number (inbound STOP, and later the contact's flag)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.contacts.repository import OptOutRepository
from lynsms.kit.clock import utcnow
from lynsms.kit.logging import get_logger

log = get_logger("lynsms.optouts")

# Matched on the trimmed, case-insensitive whole body (API.md §10).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})


def keyword(body: str) -> str | None:
    """``"stop"`` for an opt-out body, ``"start"`` for an opt-in, else None."""
    word = body.strip().upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return None


async def opt_out(session: AsyncSession, account_id: str, phone: str, source: str) -> bool:
    added = await OptOutRepository(session).add(account_id, phone, source, utcnow())
    if added:
        log.info("number opted out", account_id=account_id, source=source)
    return added


async def opt_in(session: AsyncSession, account_id: str, phone: str) -> bool:
    removed = await OptOutRepository(session).remove(account_id, phone)
    if removed:
        log.info("number opted back in", account_id=account_id)
    return removed


async def opted_out_among(session: AsyncSession, account_id: str, phones: list[str]) -> set[str]:
    if not phones:
        return set()
    return await OptOutRepository(session).among(account_id, phones)
