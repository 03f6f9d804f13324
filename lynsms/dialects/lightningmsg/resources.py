"""LightningMSG's response shapes (seed 003): string counters and flags, its statuses.

Statuses (API.md §12): ``scheduled → pending``, ``queued → queued``, ``sent`` and
``delivered → sent`` (``is_sent: "1"``), ``cancelled → cancelled``, failures ``→ failed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lynsms.messages import status as st
from lynsms.models import Package

STATUSES: dict[str, str] = {
    st.SCHEDULED: "pending",
    st.QUEUED: "queued",
    st.SENT: "sent",
    st.DELIVERED: "sent",
    st.CANCELLED: "cancelled",
    st.FAILED: "failed",
    st.UNDELIVERED: "failed",
    st.EXPIRED: "failed",
}
IS_OWN_MOBILE = "0"  # LynSMS sends through providers, never from the customer's own phone
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def status_of(native: str) -> str:
    return STATUSES.get(native, native)


def is_sent(native: str) -> str:
    return "1" if native in (st.SENT, st.DELIVERED) else "0"


def success(**fields: Any) -> dict[str, Any]:
    return {"status": "success", "message": "", **fields}


def counters(total_sms: int, used_sms: int) -> dict[str, str]:
    return {
        "total_sms": str(total_sms),
        "used_sms": str(used_sms),
        "is_own_mobile": IS_OWN_MOBILE,
    }


def sent_item(mobile: str, sms_id: str | None, native_status: str) -> dict[str, Any]:
    """One accepted message in ``send`` / ``send_multiple``: the number as the client wrote it."""
    return {"mobile": mobile, "sms_id": sms_id or "", "status": status_of(native_status)}


def message_item(message: Mapping[str, Any]) -> dict[str, Any]:
    """A message (the native API object) in ``get_status`` / ``get_sent_messages``."""
    return {
        "id": message["id"],
        "message": message["body"] or "",
        "mobile": message["to"],
        "status": status_of(message["status"]),
        "is_sent": is_sent(message["status"]),
    }


def package_item(package: Package) -> dict[str, Any]:
    return {
        "name": package.name,
        "total_sms": str(package.total_sms),
        "used_sms": str(package.used_sms),
        "expire_date": package.expire_at.strftime(DATE_FORMAT),
        "is_own_mobile": IS_OWN_MOBILE,
    }
