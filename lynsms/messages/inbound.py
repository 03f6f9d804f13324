"""Inbound messages: stored on the account that owns the receiving number; STOP/START keywords.

A provider may deliver the same inbound message twice: it is stored once
(provider + provider message id). A message to a number no account owns as an
approved long code is acknowledged, logged and dropped (API.md §10).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.contacts import service as contacts_service
from lynsms.kit.clock import utcnow
from lynsms.kit.ids import new_id
from lynsms.kit.logging import get_logger
from lynsms.kit.phones import InvalidNumber, country_of, normalise
from lynsms.kit.segments import segment
from lynsms.messages import status as st
from lynsms.messages.repository import MessageRepository
from lynsms.messages.views import message_to_dict
from lynsms.providers.base import InboundSms
from lynsms.senders.repository import SenderRepository
from lynsms.webhooks.events import message_event

log = get_logger("lynsms.inbound")


async def receive(session: AsyncSession, provider: str, items: list[InboundSms]) -> int:
    """Store ``items`` and apply their keywords; returns how many were new."""
    stored = 0
    for sms in items:
        owner = await SenderRepository(session).owner_of_number(sms.to)
        if owner is None:
            log.warning("inbound message for a number no account owns", provider=provider)
            continue
        repository = MessageRepository(session)
        row = _row(provider, sms, *owner)
        if not await repository.insert_inbound(row):  # the provider delivered it before
            continue
        await repository.add_events([message_event(message_to_dict(row), owner[0])])
        await _apply_keyword(session, owner[0], provider, sms)
        stored += 1
    return stored


async def _apply_keyword(
    session: AsyncSession, account_id: str, provider: str, sms: InboundSms
) -> None:
    word = contacts_service.keyword(sms.body)
    if word == "stop":  # with its contact.opted_out event
        await contacts_service.opt_out(session, account_id, sms.sender, f"inbound:{provider}")
    elif word == "start":
        await contacts_service.opt_in(session, account_id, sms.sender)


def _row(provider: str, sms: InboundSms, account_id: str, currency: str) -> dict[str, Any]:
    now = utcnow()
    seg = segment(sms.body)
    return {
        "id": new_id("msg"),
        "account_id": account_id,
        "api_key_id": None,
        "mode": "live",
        "direction": "inbound",
        "to_number": sms.to,
        "from_number": sms.sender,
        "body": sms.body,
        "reference": None,
        "status": st.RECEIVED,
        "encoding": seg.encoding,
        "segments": seg.segments,
        "cost_units": 0,
        "currency": currency,
        "country": _country(sms.sender),
        "provider": provider,
        "provider_message_id": sms.provider_message_id,
        "route_id": None,
        "requested_provider": None,
        "requested_route_id": None,
        "attempts": 0,
        "error_code": None,
        "error_message": None,
        "bulk_id": None,
        "next_attempt_at": None,
        "locked_until": None,
        "expire_at": None,
        "send_at": None,
        "sent_at": None,
        "delivered_at": sms.received_at or now,
        "created_at": sms.received_at or now,
        "updated_at": now,
    }


def _country(number: str) -> str:
    try:
        return country_of(normalise(number))
    except InvalidNumber:
        return "ZZ"
