"""Twilio's Message resource and list page, from our message rows (API.md §11, §12).

Statuses keep their names except ``cancelled → canceled`` and ``expired → failed``:
Twilio has no ``expired`` status; a message whose validity ran out is ``failed`` with
Twilio's error 30036 (as Twilio itself reports it). ``price`` is Twilio's negative string,
set at creation; ``error_code`` is Twilio's integer code, shown for final failures only.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import RowMapping

from lynsms.dialects.twilio.sids import sid_of
from lynsms.kit.money import SCALE
from lynsms.messages.views import media_urls_of

API_VERSION = "2010-04-01"
_STATUSES = {"cancelled": "canceled", "expired": "failed"}
_FAILURES = frozenset({"failed", "undelivered", "expired"})
# Providers whose error codes are Twilio's own (the simulator reports Twilio's 3000x codes).
_TWILIO_CODED = frozenset({"twilio", "simulator"})
# Our error families (lynsms.providers.base, lynsms.messages.expiry) → Twilio codes.
_ERROR_CODES = {"rejected": 21211, "blacklisted": 21610, "expired": 30036}
UNKNOWN_ERROR = 30008
Row = Mapping[str, Any] | RowMapping


def account_path(account_id: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_id}"


def message_uri(account_id: str, sid: str) -> str:
    return f"{account_path(account_id)}/Messages/{sid}"


def twilio_status(status: str) -> str:
    return _STATUSES.get(status, status)


def twilio_error(
    status: str, code: str | None, message: str | None, provider: str | None
) -> tuple[int | None, str | None]:
    """``(error_code, error_message)`` of a message in ``status`` with our error ``code``."""
    if status not in _FAILURES or code is None:
        return None, None
    if code.isdigit() and provider in _TWILIO_CODED:
        return int(code), message or None
    return _ERROR_CODES.get(code, UNKNOWN_ERROR), message or None


def rfc2822(value: datetime | None) -> str | None:
    """``Thu, 24 Aug 2023 05:01:45 +0000``."""
    return None if value is None else format_datetime(value.astimezone(UTC))


def price(cost_units: int) -> str:
    """What the message costs, as Twilio writes it: ``-0.0500`` (``0.0000`` when free)."""
    amount = Decimal(cost_units) / SCALE
    return f"{-amount:.4f}" if cost_units else f"{amount:.4f}"


def message_resource(row: Row) -> dict[str, Any]:
    """The Message resource of a stored message (outbound or inbound)."""
    sid = sid_of(row["id"])
    uri = message_uri(row["account_id"], sid)
    inbound = row["direction"] == "inbound"
    error_code, error_message = twilio_error(
        row["status"], row["error_code"], row["error_message"], row["provider"]
    )
    return {
        "account_sid": row["account_id"],
        "api_version": API_VERSION,
        "body": row["body"],
        "date_created": rfc2822(row["created_at"]),
        "date_sent": rfc2822(row["created_at"] if inbound else row["sent_at"]),
        "date_updated": rfc2822(row["updated_at"]),
        "direction": "inbound" if inbound else "outbound-api",
        "error_code": error_code,
        "error_message": error_message,
        "from": row["from_number"],
        "messaging_service_sid": None,
        "num_media": str(len(media_urls_of(row))),
        "num_segments": str(row["segments"]),
        "price": price(row["cost_units"]),
        "price_unit": row["currency"],
        "sid": sid,
        "status": twilio_status(row["status"]),
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": row["to_number"],
        "uri": f"{uri}.json",
    }


def media_resources(row: Row) -> list[dict[str, Any]]:
    """The Media resources of a message: one per media URL it carries (an MMS)."""
    message_sid = sid_of(row["id"])
    uri = message_uri(row["account_id"], message_sid)
    found = []
    for index, url in enumerate(media_urls_of(row)):
        sid = "ME" + hashlib.blake2b(f"{row['id']}/{index}".encode(), digest_size=16).hexdigest()
        content_type = mimetypes.guess_type(urlsplit(url).path)[0] or "application/octet-stream"
        found.append(
            {
                "account_sid": row["account_id"],
                "content_type": content_type,
                "date_created": rfc2822(row["created_at"]),
                "date_updated": rfc2822(row["updated_at"]),
                "parent_sid": message_sid,
                "sid": sid,
                "uri": f"{uri}/Media/{sid}.json",
            }
        )
    return found


def page_resource(
    key: str,
    path: str,
    records: Sequence[dict[str, Any]],
    *,
    query: Mapping[str, str],
    page: int,
    page_size: int,
    token: str | None,
    next_token: str | None,
    previous_token: str | None,
) -> dict[str, Any]:
    """A Twilio list page: ``key`` holds the records, the ``*_uri`` fields page through.

    ``query`` holds the list's filters; the page links add ``PageSize``, ``Page`` and the
    ``PageToken`` that continues from this page's last (or before its first) record.
    """

    def link(number: int, page_token: str | None) -> str:
        params = {**query, "PageSize": str(page_size), "Page": str(number)}
        if page_token is not None:
            params["PageToken"] = page_token
        return f"{path}?{urlencode(params)}"

    start = page * page_size
    return {
        key: list(records),
        "end": start + len(records) - 1 if records else start,
        "first_page_uri": link(0, None),
        "next_page_uri": link(page + 1, next_token) if next_token else None,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": link(page - 1, previous_token) if page > 0 else None,
        "start": start,
        "uri": link(page, token),
    }
