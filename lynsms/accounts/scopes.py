"""API-key scopes (API.md §2)."""

from __future__ import annotations

ALL = "*"
SCOPES = (
    "messages:send",
    "messages:read",
    "account:read",
    "billing:read",
    "senders:read",
    "senders:write",
    "webhooks:read",
    "webhooks:write",
    "api_keys:read",
    "api_keys:write",
    "contacts:read",
    "contacts:write",
    "templates:read",
    "templates:write",
    "campaigns:read",
    "campaigns:write",
    "media:read",
    "media:write",
)
KNOWN = frozenset((*SCOPES, ALL))


def grants(granted: frozenset[str], required: str) -> bool:
    return ALL in granted or required in granted


def covers(granted: frozenset[str], requested: set[str]) -> bool:
    """Whether a key with ``granted`` may mint a key with ``requested`` (no escalation)."""
    if ALL in granted:
        return True
    return ALL not in requested and requested <= granted
