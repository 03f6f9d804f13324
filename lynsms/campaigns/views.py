"""A campaign as the API shows it, with its live stats."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lynsms.kit.clock import isoformat
from lynsms.kit.money import to_number
from lynsms.messages import status as st


def stats(campaign: Mapping[str, Any], counts: Mapping[str, int]) -> dict[str, int]:
    """The audience partitioned (API.md §12); ``counts``: the campaign's messages by status."""
    unexpanded = campaign["recipients"] - campaign["cursor"]
    return {
        "total": campaign["total"],
        "queued": unexpanded + counts.get(st.QUEUED, 0) + counts.get(st.SCHEDULED, 0),
        "sent": counts.get(st.SENT, 0),
        "delivered": counts.get(st.DELIVERED, 0),
        "failed": campaign["failed_at_launch"]
        + sum(counts.get(name, 0) for name in (st.FAILED, st.UNDELIVERED, st.EXPIRED)),
        "skipped_opted_out": campaign["skipped_opted_out"],
        "cancelled": campaign["withdrawn"] + counts.get(st.CANCELLED, 0),
    }


def campaign_to_dict(campaign: Mapping[str, Any], counts: Mapping[str, int]) -> dict[str, Any]:
    return {
        "id": campaign["id"],
        "object": "campaign",
        "name": campaign["name"],
        "from": campaign["from_number"],
        "template_id": campaign["template_id"],
        "body": campaign["body"],
        "variables": campaign["variables"] or {},
        "audience": campaign["audience"],
        "send_at": isoformat(campaign["send_at"]),
        "status": campaign["status"],
        "stats": stats(campaign, counts),
        "cost": to_number(campaign["reserved_units"]),
        "currency": campaign["currency"],
        "created_at": isoformat(campaign["created_at"]),
        "updated_at": isoformat(campaign["updated_at"]),
        "launched_at": isoformat(campaign["launched_at"]),
        "started_at": isoformat(campaign["started_at"]),
        "completed_at": isoformat(campaign["completed_at"]),
        "cancelled_at": isoformat(campaign["cancelled_at"]),
    }
