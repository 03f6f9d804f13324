"""ClickSend's pushes: delivery receipts and inbound SMS, authenticated by ``?token=``.

ClickSend signs nothing, so the URL registered in its Delivery Report / Inbound
SMS rules carries ``?token=<callback_token>``; a request without the configured
token (or with no token configured) is rejected.

Receipts are pushed as form fields (``message_id``, ``status``, ``status_code``,
``status_text``, ``error_code``, ``error_text``, ``custom_string``, ``timestamp``,
...); inbound rules may choose form or JSON. Both are read. ``status_code`` is
the gateway's state (200 sent/queued, 201 delivered, 300 temporary failure that
ClickSend retries, 301 failed); ``status`` is a word that is not enough alone
(ClickSend's own table says ``Sent`` for code 201).
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from lynsms.providers.base import (
    CallbackRejected,
    CallbackRequest,
    DeliveryReport,
    DeliveryStatus,
    InboundSms,
)

if TYPE_CHECKING:
    from lynsms.providers.clicksend.adapter import ClickSendConfig

STATUS_BY_CODE: dict[str, DeliveryStatus] = {
    "200": "sent",  # queued, scheduled, sent to the network, waiting approval
    "201": "delivered",  # received on the handset
    "300": "sent",  # temporary network error: ClickSend retries, not final
    "301": "undelivered",  # failed (unknown subscriber, absent, spam filter, expired, ...)
}
STATUS_BY_WORD: dict[str, DeliveryStatus] = {
    "queued": "sent",
    "scheduled": "sent",
    "waitapproval": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "failed": "undelivered",
    "undelivered": "undelivered",
    "expired": "undelivered",
    "cancelled": "failed",  # never reached the network
    "cancelledafterreview": "failed",  # refused by ClickSend's content review
}
_NO_ERROR = frozenset({"", "0", "null", "none"})
_SHORT_CODE_MAX = 6


def parse_status_callback(
    config: ClickSendConfig, request: CallbackRequest
) -> list[DeliveryReport]:
    """Authenticate a delivery-receipt push and map each receipt it carries."""
    verify_token(config, request)
    reports = (_report(fields) for fields in _payloads(request))
    return [report for report in reports if report is not None]


def parse_inbound_callback(config: ClickSendConfig, request: CallbackRequest) -> list[InboundSms]:
    """Authenticate an inbound-SMS push and map each message it carries."""
    verify_token(config, request)
    messages = (_inbound(fields) for fields in _payloads(request))
    return [message for message in messages if message is not None]


def verify_token(config: ClickSendConfig, request: CallbackRequest) -> None:
    """Require ``?token=`` equal to ``callback_token`` (constant-time compare).

    With no ``callback_token`` configured every callback is rejected.
    """
    expected = config.callback_token
    if not expected:
        raise CallbackRejected("clicksend callbacks need [providers.clicksend] callback_token")
    given = _query_token(request)
    if given is None or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CallbackRejected("clicksend callback token is missing or wrong")


def delivery_status(status_code: str, status: str) -> DeliveryStatus | None:
    """Our lifecycle status for a receipt: the gateway code wins, the word is the fallback."""
    word = status.strip().lower()
    if word in ("cancelled", "cancelledafterreview"):
        return "failed"
    return STATUS_BY_CODE.get(status_code.strip()) or STATUS_BY_WORD.get(word)


# --- payloads -----------------------------------------------------------------------------
def _query_token(request: CallbackRequest) -> str | None:
    if "token" in request.query:
        return request.query["token"]
    values = parse_qs(urlsplit(request.url).query).get("token")
    return values[0] if values else None


def _payloads(request: CallbackRequest) -> list[dict[str, str]]:
    content_type = request.headers.get("content-type", "")
    if "json" in content_type or request.body.lstrip().startswith((b"{", b"[")):
        return _json_payloads(request.body)
    text = request.body.decode("utf-8", errors="replace")
    return [dict(parse_qsl(text, keep_blank_values=True))]


def _json_payloads(body: bytes) -> list[dict[str, str]]:
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        return []
    items = parsed if isinstance(parsed, list) else [parsed]
    return [_strings(item) for item in items if isinstance(item, dict)]


def _strings(item: dict[str, Any]) -> dict[str, str]:
    return {str(key): "" if value is None else str(value) for key, value in item.items()}


# --- mapping ------------------------------------------------------------------------------
def _report(fields: dict[str, str]) -> DeliveryReport | None:
    message_id = fields.get("message_id") or fields.get("messageid")
    code, word = fields.get("status_code", ""), fields.get("status", "")
    status = delivery_status(code, word)
    if not message_id or status is None:
        return None
    return DeliveryReport(
        provider_message_id=message_id,
        status=status,
        provider_status=word or code,
        error_code=_error_code(fields.get("error_code", "")),
        error_message=fields.get("error_text") or None,
        occurred_at=_timestamp(fields.get("timestamp", "")),
        recipient=_number(fields["to"]) if fields.get("to") else None,
    )


def _inbound(fields: dict[str, str]) -> InboundSms | None:
    message_id = fields.get("message_id") or fields.get("messageid")
    sender, to = fields.get("from", ""), fields.get("to", "")
    if not message_id or not sender or not to:
        return None
    return InboundSms(
        sender=_number(sender),
        to=_number(to),
        body=fields.get("body", fields.get("message", "")),
        provider_message_id=message_id,
        received_at=_timestamp(fields.get("timestamp") or fields.get("timestamp_send", "")),
    )


def _error_code(value: str) -> str | None:
    return None if value.strip().lower() in _NO_ERROR else value.strip()


def _timestamp(value: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _number(value: str) -> str:
    """E.164 with ``+`` for long numbers; short codes and alphanumeric ids as given."""
    value = value.strip()
    if value.isdigit() and len(value) > _SHORT_CODE_MAX:
        return "+" + value
    return value
