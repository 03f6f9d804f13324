"""Infobip's delivery-report and inbound (MO) callbacks.

Both arrive as JSON ``{"results": [...]}`` batches (delivery reports: up to 100
per request by default). Infobip signs nothing unless the account sets up
subscription security, so the URL we hand out carries ``?token=<callback_token>``
and every callback must present it (compared in constant time); with no token
configured every callback is rejected.

A malformed body (not JSON, no ``results`` list) raises ``ValueError``; a single
result without a message id or a known status group is skipped, so that one bad
entry does not make Infobip redeliver the whole batch.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from lynsms.providers.base import (
    CallbackRejected,
    CallbackRequest,
    DeliveryReport,
    DeliveryStatus,
    InboundSms,
)

if TYPE_CHECKING:
    from lynsms.providers.infobip.adapter import InfobipConfig

# We never ask for intermediate reports, so a DELIVERED report (including
# DELIVERED_TO_OPERATOR on networks without handset receipts) is final.
STATUS_GROUPS: dict[str, DeliveryStatus] = {
    "ACCEPTED": "sent",
    "PENDING": "sent",
    "DELIVERED": "delivered",
    "UNDELIVERABLE": "undelivered",
    "EXPIRED": "undelivered",
    "REJECTED": "failed",
}
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")
_SHORT_CODE_MAX_DIGITS = 6


def parse_status_callback(config: InfobipConfig, request: CallbackRequest) -> list[DeliveryReport]:
    authenticate(config, request)
    reports = (_report(result) for result in _results(request.body))
    return [report for report in reports if report is not None]


def parse_inbound_callback(config: InfobipConfig, request: CallbackRequest) -> list[InboundSms]:
    authenticate(config, request)
    messages = (_inbound(result) for result in _results(request.body))
    return [message for message in messages if message is not None]


def authenticate(config: InfobipConfig, request: CallbackRequest) -> None:
    """Require ``?token=`` equal to ``config.callback_token``; raise ``CallbackRejected``."""
    expected = config.callback_token
    given = request.query.get("token")
    if given is None:
        given = next(iter(parse_qs(urlsplit(request.url).query).get("token", [])), None)
    if not expected or given is None or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CallbackRejected("infobip callback without a valid token")


def _results(body: bytes) -> list[dict[str, Any]]:
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ValueError("infobip callback body is not JSON") from exc
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list):
        raise ValueError("infobip callback body has no results list")
    return [result for result in results if isinstance(result, dict)]


def _report(result: dict[str, Any]) -> DeliveryReport | None:
    status = _object(result.get("status"))
    mapped = STATUS_GROUPS.get(str(status.get("groupName")))
    message_id = result.get("messageId")
    if mapped is None or not isinstance(message_id, str) or not message_id:
        return None
    error_code, error_message = _error(_object(result.get("error")))
    return DeliveryReport(
        provider_message_id=message_id,
        status=mapped,
        provider_status=str(status.get("name") or status.get("groupName")),
        error_code=error_code,
        error_message=error_message,
        occurred_at=parse_time(result.get("doneAt")),
        recipient=e164(result["to"]) if isinstance(result.get("to"), str) else None,
    )


def _error(error: dict[str, Any]) -> tuple[str | None, str | None]:
    """Keep Infobip's error name as the code, group / id / permanence in the message."""
    if not error or error.get("groupName") == "OK" or error.get("id") == 0:
        return None, None
    code = str(error.get("name") or error.get("id"))
    details = f"group {error.get('groupName')}, id {error.get('id')}"
    if isinstance(error.get("permanent"), bool):
        details += ", permanent" if error["permanent"] else ", temporary"
    return code, f"{error.get('description') or code} ({details})"


def _inbound(result: dict[str, Any]) -> InboundSms | None:
    sender, to, message_id = result.get("from"), result.get("to"), result.get("messageId")
    if not (isinstance(sender, str) and isinstance(to, str) and isinstance(message_id, str)):
        return None
    return InboundSms(
        sender=e164(sender),
        to=e164(to),
        body=str(result.get("text") or ""),
        provider_message_id=message_id,
        received_at=parse_time(result.get("receivedAt")),
    )


def e164(number: str) -> str:
    """``41793026727`` → ``+41793026727``; short codes and alphanumerics stay as given."""
    if number.isdigit() and len(number) > _SHORT_CODE_MAX_DIGITS:
        return "+" + number
    return number


def parse_time(value: object) -> datetime | None:
    """Infobip's ``yyyy-MM-dd'T'HH:mm:ss.SSSZ`` (``2019-11-09T16:00:00.000+0100``)."""
    if not isinstance(value, str):
        return None
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
