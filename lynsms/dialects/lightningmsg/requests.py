"""LightningMSG request bodies: form-encoded or JSON, parsed into plain parameters and
validated into what the native send path takes.

A form-encoded ``send_multiple`` may carry ``messages`` as a JSON string (API.md §11)
or in PHP's bracket notation (``messages[0][mobile]=…``, what ``http_build_query``
writes). One invalid item refuses the whole request (API.md §12).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

from lynsms.dialects.lightningmsg.errors import (
    INVALID_NUMBER,
    INVALID_SCHEDULE_DATE,
    MESSAGE_TOO_LONG,
    LightningError,
    wrong_parameters,
)
from lynsms.kit.phones import InvalidNumber, normalise
from lynsms.messages.service import MAX_BODY, MAX_RECIPIENTS

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
CONTENT_TYPES = frozenset({FORM, JSON})
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
DEFAULT_LIMIT = 100
MAX_LIMIT = 100
_BRACKETS = re.compile(r"^([A-Za-z_]+)\[(\d+)\]\[([A-Za-z_]+)\]$")


def parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    """The request's parameters; an unreadable body is 0001."""
    if not raw.strip():
        return {}
    kind = content_type.split(";")[0].strip().lower()
    if kind == JSON or kind.endswith("+json"):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise wrong_parameters("The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise wrong_parameters("The request body must be a JSON object.")
        return data
    try:
        pairs = parse_qsl(raw.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        raise wrong_parameters("The request body is not UTF-8.") from None
    params: dict[str, Any] = {}
    lists: dict[str, dict[int, dict[str, str]]] = {}
    for name, value in pairs:
        match = _BRACKETS.match(name)
        if match is None:
            params[name] = value
        else:
            field, index, key = match.groups()
            lists.setdefault(field, {}).setdefault(int(index), {})[key] = value
    for field, items in lists.items():
        params[field] = [items[index] for index in sorted(items)]
    return params


@dataclass(frozen=True, slots=True)
class Item:
    """One message to send: the recipient as written, its E.164 form, body and schedule."""

    mobile: str
    to: str
    message: str
    send_at: str | None  # ISO-8601 UTC, for the native send path


def send_item(params: dict[str, Any], now: datetime) -> Item:
    """``send``: ``mobile``, ``message`` and the optional ``send_date``."""
    return _item(params, now)


def send_items(params: dict[str, Any], now: datetime) -> list[Item]:
    """``send_multiple``: ``messages``, a list of objects (or a JSON string of one)."""
    raw = params.get("messages")
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise wrong_parameters("'messages' is not a JSON array.") from None
    if not isinstance(raw, list) or not raw:
        raise wrong_parameters("'messages' must be a non-empty array of message objects.")
    if len(raw) > MAX_RECIPIENTS:
        raise wrong_parameters(f"At most {MAX_RECIPIENTS} messages per request.")
    if not all(isinstance(item, dict) for item in raw):
        raise wrong_parameters("Each of 'messages' must be an object.")
    return [_item(item, now) for item in raw]


def _item(params: dict[str, Any], now: datetime) -> Item:
    mobile, message = params.get("mobile"), params.get("message")
    if not isinstance(mobile, str) or not mobile.strip():
        raise wrong_parameters("Wrong parameters: 'mobile' is required.")
    if not isinstance(message, str) or message == "":
        raise wrong_parameters("Wrong parameters: 'message' is required.")
    try:
        to = normalise(mobile)
    except InvalidNumber as exc:
        raise LightningError(INVALID_NUMBER, f"'{mobile}' {exc}.") from exc
    if len(message) > MAX_BODY:
        raise LightningError(
            MESSAGE_TOO_LONG,
            f"The message has {len(message)} characters; the limit is {MAX_BODY}.",
        )
    return Item(mobile=mobile, to=to, message=message, send_at=_send_at(params, now))


def _send_at(params: dict[str, Any], now: datetime) -> str | None:
    raw = params.get("send_date")
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise LightningError(INVALID_SCHEDULE_DATE, "'send_date' must be YYYY-MM-DD HH:MM:SS.")
    try:
        when = datetime.strptime(raw.strip(), DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise LightningError(
            INVALID_SCHEDULE_DATE, f"'{raw}' is not a date as YYYY-MM-DD HH:MM:SS."
        ) from None
    if when <= now:
        raise LightningError(INVALID_SCHEDULE_DATE, f"The schedule date {raw} is in the past.")
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def window(params: dict[str, Any]) -> tuple[int, int]:
    """``get_sent_messages``: ``(limit_from, limit)``; defaults 0 and 100, limit at most 100."""
    offset = _integer(params, "limit_from", 0)
    limit = _integer(params, "limit", DEFAULT_LIMIT)
    if offset < 0 or not 0 < limit <= MAX_LIMIT:
        raise wrong_parameters(f"'limit_from' must be 0 or more and 'limit' 1 to {MAX_LIMIT}.")
    return offset, limit


def _integer(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise wrong_parameters(f"'{name}' must be an integer.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise wrong_parameters(f"'{name}' must be an integer.")
