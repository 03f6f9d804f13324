"""Sinch callbacks: delivery reports and inbound messages, authenticated first.

Authentication: with ``callback_hmac_secret`` set, Sinch's HMAC headers
(``x-sinch-webhook-signature`` = Base64(HMAC(secret, body + "." + nonce + "." +
timestamp)), plus ``-nonce``, ``-timestamp`` and ``-algorithm``) must verify;
otherwise ``?token=`` must equal ``callback_token``. With neither configured
every callback is rejected.

Delivery reports come as ``recipient_delivery_report_sms`` (``per_recipient``,
what the adapter asks for) or ``delivery_report_sms`` (``summary``/``full``,
the plan's default); inbound messages as ``mo_text`` (``mo_media`` keeps its
text, ``mo_binary`` is ignored). Numbers arrive without ``+``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
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
    from lynsms.providers.sinch.adapter import SinchConfig

SIGNATURE_HEADER = "x-sinch-webhook-signature"
NONCE_HEADER = "x-sinch-webhook-signature-nonce"
TIMESTAMP_HEADER = "x-sinch-webhook-signature-timestamp"
ALGORITHM_HEADER = "x-sinch-webhook-signature-algorithm"
SIGNATURE_TOLERANCE_SECONDS = 300  # how old (or how far ahead) a signature timestamp may be

_ALGORITHMS: dict[str, Callable[[], Any]] = {
    "hmacsha256": hashlib.sha256,
    "hmacsha384": hashlib.sha384,
    "hmacsha512": hashlib.sha512,
}

# Sinch's status words (Title case on the wire) mapped to our lifecycle.
STATUS_MAP: dict[str, DeliveryStatus] = {
    "queued": "sent",  # accepted by Sinch, waiting for the plan's rate
    "dispatched": "sent",  # handed to the operator's SMSC
    "unknown": "sent",  # at the SMSC, no (readable) receipt: final, but not known to have failed
    "delivered": "delivered",
    "aborted": "failed",  # stopped before reaching the SMSC
    "cancelled": "failed",  # cancelled by us before reaching the SMSC
    "expired": "failed",  # expired before reaching the SMSC
    "rejected": "undelivered",  # the operator's SMSC refused it
    "failed": "undelivered",  # the operator could not deliver it
    "deleted": "undelivered",  # deleted by the remote SMSC (invalid or opted-out number)
}

_NON_ERROR_CODES = frozenset({0, 400, 401})  # delivered, queued, dispatched

# Sinch's own delivery-report codes (0x400 range); other codes are the operator's SMPP codes.
CODE_NAMES: dict[int, str] = {
    402: "Message unroutable",
    403: "Internal error",
    404: "Temporary delivery failure",
    405: "Unmatched parameter",
    406: "Internal expiry",
    407: "Cancelled",
    408: "Internal reject",
    410: "Unmatched default originator",
    411: "Exceeded parts limit",
    412: "Unprovisioned region",
    413: "Blocked account",
}


def parse_status_callback(config: SinchConfig, request: CallbackRequest) -> list[DeliveryReport]:
    """Authenticate, then read a recipient or batch delivery report (other types: ``[]``)."""
    authenticate(config, request)
    payload = _load(request.body)
    kind = payload.get("type")
    if kind in ("recipient_delivery_report_sms", "recipient_delivery_report_mms"):
        report = _recipient_report(payload)
        return [report] if report else []
    if kind in ("delivery_report_sms", "delivery_report_mms"):
        return _batch_reports(payload)
    return []


def parse_inbound_callback(config: SinchConfig, request: CallbackRequest) -> list[InboundSms]:
    """Authenticate, then read an ``mo_text`` (or the text of an ``mo_media``)."""
    authenticate(config, request)
    payload = _load(request.body)
    kind = payload.get("type")
    if kind == "mo_text":
        return [_inbound(payload, _text(payload, "body"))]
    if kind == "mo_media":
        media = payload.get("body")
        message = media.get("message") if isinstance(media, dict) else None
        return [_inbound(payload, message if isinstance(message, str) else "")]
    return []


# --- authentication ---------------------------------------------------------------------
def authenticate(config: SinchConfig, request: CallbackRequest) -> None:
    """Raise ``CallbackRejected`` unless the request carries what the config asks for."""
    if config.callback_hmac_secret:
        verify_signature(config.callback_hmac_secret, request)
    elif config.callback_token:
        _verify_token(config.callback_token, request)
    else:
        raise CallbackRejected("no Sinch callback authentication is configured")


def sign(
    secret: str, body: bytes, nonce: str, timestamp: str, algorithm: str = "HmacSHA256"
) -> str:
    """Sinch's callback signature: Base64(HMAC(secret, body + "." + nonce + "." + timestamp))."""
    digest = _ALGORITHMS[algorithm.lower()]
    signed = body + b"." + nonce.encode() + b"." + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), signed, digest).digest()).decode()


def verify_signature(secret: str, request: CallbackRequest, now: float | None = None) -> None:
    headers = {name.lower(): value for name, value in request.headers.items()}
    signature, nonce = headers.get(SIGNATURE_HEADER), headers.get(NONCE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    algorithm = headers.get(ALGORITHM_HEADER, "HmacSHA256")
    if not (signature and nonce and timestamp):
        raise CallbackRejected("Sinch signature headers are missing")
    if algorithm.lower() not in _ALGORITHMS:
        raise CallbackRejected("unsupported Sinch signature algorithm")
    if not _fresh(timestamp, time.time() if now is None else now):
        raise CallbackRejected("Sinch signature timestamp is outside the allowed window")
    expected = sign(secret, request.body, nonce, timestamp, algorithm)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise CallbackRejected("Sinch signature does not match")


def _fresh(timestamp: str, now: float) -> bool:
    try:
        return abs(now - float(timestamp)) <= SIGNATURE_TOLERANCE_SECONDS
    except ValueError:
        return False


def _verify_token(expected: str, request: CallbackRequest) -> None:
    given = request.query.get("token")
    if given is None:
        given = parse_qs(urlsplit(request.url).query).get("token", [""])[0]
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise CallbackRejected("callback token is missing or wrong")


# --- payloads ---------------------------------------------------------------------------
def _load(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        raise CallbackRejected("Sinch callback body is not JSON") from None
    if not isinstance(payload, dict):
        raise CallbackRejected("Sinch callback body is not a JSON object")
    return payload


def _text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str):
        raise CallbackRejected(f"Sinch callback field {key!r} is missing or not a string")
    return value


def _code(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _recipient_report(payload: dict[str, Any]) -> DeliveryReport | None:
    at = payload.get("operator_status_at") or payload.get("at")
    return _report(
        _text(payload, "batch_id"),
        _text(payload, "status"),
        _code(payload.get("code")),
        recipient=e164(payload.get("recipient")),
        occurred_at=parse_time(at),
    )


def _batch_reports(payload: dict[str, Any]) -> list[DeliveryReport]:
    batch_id, statuses = _text(payload, "batch_id"), payload.get("statuses")
    if not isinstance(statuses, list):
        raise CallbackRejected("Sinch batch report has no 'statuses' list")
    reports: list[DeliveryReport | None] = []
    for entry in statuses:
        if not isinstance(entry, dict):
            raise CallbackRejected("Sinch batch report status entry is not an object")
        recipients = entry.get("recipients") or [None]  # summary reports name no recipient
        status, code = _text(entry, "status"), _code(entry.get("code"))
        reports += [_report(batch_id, status, code, recipient=e164(r)) for r in recipients]
    return [report for report in reports if report]


def _report(
    batch_id: str,
    status: str,
    code: int | None,
    *,
    recipient: str | None,
    occurred_at: datetime | None = None,
) -> DeliveryReport | None:
    mapped = STATUS_MAP.get(status.lower())
    if mapped is None:
        return None  # a status word Sinch has not documented: nothing we can act on
    is_error = code is not None and code not in _NON_ERROR_CODES
    return DeliveryReport(
        provider_message_id=batch_id,
        status=mapped,
        provider_status=status,
        error_code=str(code) if is_error else None,
        error_message=CODE_NAMES.get(code) if is_error and code is not None else None,
        occurred_at=occurred_at,
        recipient=recipient,
    )


def _inbound(payload: dict[str, Any], body: str) -> InboundSms:
    return InboundSms(
        sender=e164(_text(payload, "from")) or "",
        to=e164(_text(payload, "to")) or "",
        body=body,
        provider_message_id=_text(payload, "id"),
        received_at=parse_time(payload.get("received_at")),
    )


def e164(number: Any) -> str | None:
    """Sinch's ``15551231234`` as ``+15551231234``; short codes and other ids as given."""
    if not isinstance(number, str) or not number:
        return None
    if number.startswith("+") or not number.isdigit() or len(number) < 7:
        return number
    return "+" + number


def parse_time(value: Any) -> datetime | None:
    """Sinch's ISO-8601 timestamps (``…Z``, or no offset meaning UTC); ``None`` if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
