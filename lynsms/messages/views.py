"""The message object of the API (API.md §3), from a stored row."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping

from lynsms.kit.clock import isoformat
from lynsms.kit.money import to_number


def message_to_dict(row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    """``cost`` is the money reserved for the message: its price less the segments prepaid
    packages covered (0 when they covered all); a refund gives back that and those SMS."""
    return {
        "id": row["id"],
        "object": "message",
        "direction": row["direction"],
        "mode": row["mode"],
        "to": row["to_number"],
        "from": row["from_number"],
        "body": row["body"],
        "reference": row["reference"],
        "type": row.get("type") or "sms",
        "media_urls": media_urls_of(row),
        "status": row["status"],
        "encoding": row["encoding"],
        "segments": row["segments"],
        "cost": to_number(row["cost_units"]),
        "currency": row["currency"],
        "provider": row["provider"],
        "provider_message_id": row["provider_message_id"],
        "route_id": row["route_id"],
        "attempts": row["attempts"],
        "error": _error(row),
        "created_at": isoformat(row["created_at"]),
        "send_at": isoformat(row["send_at"]),
        "sent_at": isoformat(row["sent_at"]),
        "delivered_at": isoformat(row["delivered_at"]),
        "expire_at": isoformat(row["expire_at"]),
    }


def media_urls_of(row: Mapping[str, Any] | RowMapping) -> list[str]:
    """An MMS's media URLs (stored as a JSON list); [] for an SMS."""
    stored = row.get("media_urls")
    return list(json.loads(stored)) if stored else []


def _error(row: Mapping[str, Any] | RowMapping) -> dict[str, str] | None:
    if row["error_code"] is None:
        return None
    return {"code": row["error_code"], "message": row["error_message"] or ""}


def bulk_item(row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "to": row["to_number"],
        "status": row["status"],
        "cost": to_number(row["cost_units"]),
        "error": _error(row),
    }
