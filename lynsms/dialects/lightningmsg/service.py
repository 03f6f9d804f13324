"""The six LightningMSG operations as calls to our services: one send path, one set of
messages (API.md §11, §12).

``send`` and ``send_multiple`` go through ``lynsms.messages.service.send_one`` /
``send_bulk``; ``cancel`` is its ``cancel_message``; reads are the native message
reads. The counters ``total_sms`` / ``used_sms`` are the sums over the account's active
(unexpired) packages, read after the send, so ``used_sms`` counts package consumption
only.
"""

from __future__ import annotations

from typing import Any

from lynsms.accounts.auth import Principal
from lynsms.billing.repository import BillingRepository
from lynsms.database import session_scope
from lynsms.dialects.lightningmsg import requests, resources
from lynsms.dialects.lightningmsg.errors import (
    NO_VALID_PACKAGE,
    NO_VALID_PACKAGES,
    LightningError,
)
from lynsms.dialects.lightningmsg.repository import LightningRepository
from lynsms.exceptions import LynSMSError
from lynsms.kit.clock import utcnow
from lynsms.messages import service as messages_service
from lynsms.messages.schemas import BulkRequest, SendRequest
from lynsms.runtime import Runtime

FALLBACK_SENDER = "LynSMS"  # an account with no approved sender (test keys need none)


async def send(runtime: Runtime, principal: Principal, params: dict[str, Any]) -> dict[str, Any]:
    item = requests.send_item(params, utcnow())
    sender = await _sender(runtime, principal)
    request = SendRequest.model_validate(
        {"to": item.to, "body": item.message, "from": sender, "send_at": item.send_at}
    )
    try:
        message = await messages_service.send_one(runtime, principal, request)
    except LynSMSError as exc:
        raise await _payment_error(runtime, principal, exc) from exc
    total, used = await _counters(runtime, principal)
    return resources.success(
        sms_data=resources.sent_item(item.mobile, message["id"], message["status"]),
        **resources.counters(total, used),
    )


async def send_multiple(
    runtime: Runtime, principal: Principal, params: dict[str, Any]
) -> dict[str, Any]:
    items = requests.send_items(params, utcnow())
    sender = await _sender(runtime, principal)
    request = BulkRequest.model_validate(
        {
            "from": sender,
            "messages": [
                {"to": item.to, "body": item.message, "send_at": item.send_at} for item in items
            ],
        }
    )
    try:
        result = await messages_service.send_bulk(runtime, principal, request)
    except LynSMSError as exc:
        raise await _payment_error(runtime, principal, exc) from exc
    total, used = await _counters(runtime, principal)
    return resources.success(
        messages=[
            resources.sent_item(item.mobile, sent["id"], sent["status"])
            for item, sent in zip(items, result["messages"], strict=True)
        ],
        **resources.counters(total, used),
    )


async def get_status(runtime: Runtime, principal: Principal, sms_id: str) -> dict[str, Any]:
    async with session_scope(runtime.database, write=False) as session:
        message = await messages_service.get_message(
            session, principal.account_id, sms_id, principal.environment
        )
    if message["direction"] != "outbound":
        raise LightningError("0100", f"No sent SMS {sms_id}.")
    return resources.success(sms_data=resources.message_item(message))


async def get_sent_messages(
    runtime: Runtime, principal: Principal, params: dict[str, Any]
) -> dict[str, Any]:
    """Every outbound message of the key's mode, newest first; ``nr_messages`` their total."""
    offset, limit = requests.window(params)
    filters = {"direction": "outbound", "mode": principal.environment}
    async with session_scope(runtime.database, write=False) as session:
        page, total = await messages_service.list_messages(
            session, principal.account_id, filters, offset, limit
        )
    return resources.success(
        messages=[resources.message_item(message) for message in page], nr_messages=total
    )


async def cancel(runtime: Runtime, principal: Principal, sms_id: str) -> dict[str, Any]:
    async with session_scope(runtime.database, write=True) as session:
        await messages_service.cancel_message(session, principal, sms_id)
    return resources.success()


async def get_packages(runtime: Runtime, principal: Principal) -> dict[str, Any]:
    """The account's active (unexpired) packages, soonest-expiring first."""
    async with session_scope(runtime.database, write=False) as session:
        packages = await LightningRepository(session).active_packages(
            principal.account_id, utcnow()
        )
    return resources.success(packages=[resources.package_item(p) for p in packages])


async def _sender(runtime: Runtime, principal: Principal) -> str:
    async with session_scope(runtime.database, write=False) as session:
        sender = await LightningRepository(session).sender(principal.account_id)
    return sender or FALLBACK_SENDER


async def _counters(runtime: Runtime, principal: Principal) -> tuple[int, int]:
    async with session_scope(runtime.database, write=False) as session:
        return await LightningRepository(session).counters(principal.account_id, utcnow())


async def _payment_error(
    runtime: Runtime, principal: Principal, exc: LynSMSError
) -> LynSMSError | LightningError:
    """A 402 is 4004 when the account has no package SMS left and no money at all, else
    4005 (not enough for this request); any other error passes through."""
    if exc.status_code != 402:
        return exc
    async with session_scope(runtime.database, write=False) as session:
        total, used = await LightningRepository(session).counters(principal.account_id, utcnow())
        balance = await BillingRepository(session).balance(principal.account_id)
    if total - used <= 0 and (balance or 0) <= 0:
        return LightningError(NO_VALID_PACKAGES, "No valid packages available for this account.")
    return LightningError(NO_VALID_PACKAGE, "No valid package available for this request.")
