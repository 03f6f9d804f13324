"""Sinch's objects from our rows: the batch, delivery reports and inbounds (API.md §12).

Our statuses map to Sinch's delivery statuses and codes:

=============================  =================  ======================================
ours                           Sinch status       code
=============================  =================  ======================================
scheduled, queued              Queued             400
sent                           Dispatched         401
delivered                      Delivered          0
undelivered                    Failed             the carrier's numeric code, else 404
failed (rejected, opted out)   Rejected           408
failed (anything else)         Aborted            402
expired                        Expired            406
cancelled                      Cancelled          407
refused at creation            Rejected           408
=============================  =================  ======================================

Timestamps are UTC ISO-8601 with milliseconds and ``Z``; numbers carry no ``+``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping

from lynsms.dialects.sinch.requests import DEFAULT_EXPIRY, bare
from lynsms.messages import status as st

Row = Mapping[str, Any] | RowMapping
_SIMPLE: dict[str, tuple[str, int]] = {
    st.SCHEDULED: ("Queued", 400),
    st.QUEUED: ("Queued", 400),
    st.SENT: ("Dispatched", 401),
    st.DELIVERED: ("Delivered", 0),
    st.EXPIRED: ("Expired", 406),
    st.CANCELLED: ("Cancelled", 407),
}
REJECTED = ("Rejected", 408)
_REJECTING = frozenset({"rejected", "blacklisted", "recipient_opted_out"})
STATUSES = (
    "Queued", "Dispatched", "Aborted", "Cancelled", "Delivered", "Expired", "Failed",
    "Rejected", "Deleted", "Unknown",
)  # fmt: skip
ENCODINGS = {"GSM-7": "GSM", "UCS-2": "UNICODE"}  # recipient reports' words
DRY_RUN_ENCODINGS = {"GSM-7": "text", "UCS-2": "unicode"}  # the dry run's (§12)


def sinch_time(value: datetime | None) -> str | None:
    """``2026-11-25T15:04:05.123Z``."""
    if value is None:
        return None
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def sinch_status(status: str, error_code: str | None) -> tuple[str, int]:
    """Sinch's ``(status, code)`` for a message in our ``status`` with our error code."""
    if status in _SIMPLE:
        return _SIMPLE[status]
    if status == st.UNDELIVERED:
        code = int(error_code) if error_code and error_code.isdigit() else 404
        return "Failed", code
    if status == st.FAILED:
        return REJECTED if error_code in _REJECTING else ("Aborted", 402)
    return "Unknown", 0


def batch_object(batch: Row) -> dict[str, Any]:
    """Sinch's batch (``mt_text``) for a stored batch."""
    start = batch["send_at"] or batch["created_at"]
    reply: dict[str, Any] = {
        "id": batch["id"],
        "to": list(batch["to"]),
        "from": bare(batch["sender"]),
        "canceled": bool(batch["canceled"]),
        "body": batch["body"],
        "type": "mt_text",
        "created_at": sinch_time(batch["created_at"]),
        "modified_at": sinch_time(batch["modified_at"]),
        "delivery_report": batch["delivery_report"],
        "send_at": sinch_time(batch["send_at"]),
        "expire_at": sinch_time(batch["expire_at"] or start + DEFAULT_EXPIRY),
        "callback_url": batch["callback_url"],
        "client_reference": batch["client_reference"],
        "parameters": batch["parameters"],
        "flash_message": False,
        "feedback_enabled": False,
    }
    return {key: value for key, value in reply.items() if value is not None}


def recipient_statuses(batch: Row, messages: Iterable[Row]) -> list[tuple[str, str, int]]:
    """``(recipient, status, code)`` of every recipient of the batch: its messages, then
    those refused at creation."""
    found = [
        (bare(row["to_number"]), *sinch_status(row["status"], row["error_code"]))
        for row in messages
    ]
    return found + [(number, *REJECTED) for number in batch["refused"]]


def delivery_report(
    batch: Row,
    messages: Sequence[Row],
    *,
    full: bool,
    statuses: Iterable[str] = (),
    codes: Iterable[int] = (),
) -> dict[str, Any]:
    """Sinch's ``delivery_report_sms``: counts per ``(status, code)``, recipients if
    ``full``; filtered by ``statuses``/``codes`` when given. A cancelled batch's is empty."""
    wanted_statuses, wanted_codes = set(statuses), set(codes)
    entries = [] if batch["canceled"] else recipient_statuses(batch, messages)
    counts: Counter[tuple[str, int]] = Counter()
    recipients: dict[tuple[str, int], list[str]] = {}
    for number, status, code in entries:
        if wanted_statuses and status not in wanted_statuses:
            continue
        if wanted_codes and code not in wanted_codes:
            continue
        counts[status, code] += 1
        recipients.setdefault((status, code), []).append(number)
    report_statuses = []
    for (status, code), count in sorted(counts.items()):
        entry: dict[str, Any] = {"code": code, "status": status, "count": count}
        if full:
            entry["recipients"] = recipients[status, code]
        report_statuses.append(entry)
    report: dict[str, Any] = {
        "type": "delivery_report_sms",
        "batch_id": batch["id"],
        "total_message_count": len(messages) + len(batch["refused"]),
        "statuses": report_statuses,
    }
    if batch["client_reference"] is not None:
        report["client_reference"] = batch["client_reference"]
    return report


def recipient_report(
    batch: Row, message: Mapping[str, Any], at: datetime | None = None
) -> dict[str, Any]:
    """Sinch's ``recipient_delivery_report_sms`` for one message of the batch (a row, or a
    message as the native API shows it: ``to``/``from``/``error``)."""
    to = message.get("to_number") or message["to"]
    sender = message.get("from_number") or message["from"]
    error = message.get("error")
    error_code = message.get("error_code") if "error_code" in message else (error or {}).get("code")
    status, code = sinch_status(message["status"], error_code)
    updated = at or _updated(message)
    report: dict[str, Any] = {
        "type": "recipient_delivery_report_sms",
        "batch_id": batch["id"],
        "recipient": bare(to),
        "code": code,
        "status": status,
        "at": sinch_time(updated),
        "applied_originator": bare(sender),
        "encoding": ENCODINGS.get(message["encoding"], "GSM"),
        "number_of_message_parts": message["segments"],
    }
    if status not in ("Queued", "Dispatched"):
        report["operator_status_at"] = report["at"]
    if batch["client_reference"] is not None:
        report["client_reference"] = batch["client_reference"]
    return report


def refused_report(batch: Row, number: str) -> dict[str, Any]:
    """The report of a recipient refused at creation (no message was made)."""
    status, code = REJECTED
    report: dict[str, Any] = {
        "type": "recipient_delivery_report_sms",
        "batch_id": batch["id"],
        "recipient": number,
        "code": code,
        "status": status,
        "at": sinch_time(batch["created_at"]),
        "operator_status_at": sinch_time(batch["created_at"]),
        "applied_originator": bare(batch["sender"]),
    }
    if batch["client_reference"] is not None:
        report["client_reference"] = batch["client_reference"]
    return report


def _updated(message: Mapping[str, Any]) -> datetime | None:
    value = message.get("updated_at")
    if isinstance(value, datetime):
        return value
    return None


def inbound_object(row: Row) -> dict[str, Any]:
    """Sinch's ``mo_text`` for an inbound message."""
    return {
        "type": "mo_text",
        "id": row["id"],
        "from": bare(row["from_number"]),
        "to": bare(row["to_number"]),
        "body": row["body"],
        "received_at": sinch_time(row["created_at"]),
    }
