"""What a Sinch client sends: the batch JSON of ``POST /batches`` (and its dry run) and the
list queries. Checked here is what Sinch itself checks before creating a batch (JSON
shape, types, MSISDN and timestamp formats, ``delivery_report``, ``callback_url``);
the sender, body length and schedule are the send service's to judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson

from lynsms.dialects.sinch import errors as e
from lynsms.dialects.sinch.errors import bad_request, invalid_format
from lynsms.kit.clock import parse_timestamp
from lynsms.kit.phones import InvalidNumber, normalise

MAX_RECIPIENTS = 1000
MAX_CALLBACK_URL = 2048
MAX_CLIENT_REFERENCE = 2048
DEFAULT_EXPIRY = timedelta(days=3)  # Sinch: expire_at defaults to (and is at most) 3 days
DELIVERY_REPORTS = ("none", "summary", "full", "per_recipient", "per_recipient_final")
KNOWN_FIELDS = frozenset(
    {
        "to", "from", "body", "type", "delivery_report", "send_at", "expire_at",
        "callback_url", "client_reference", "parameters", "flash_message",
        "feedback_enabled", "max_number_of_message_parts", "truncate_concat",
        "from_ton", "from_npi", "strict_validation", "udh",
    }
)  # fmt: skip
DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 100
_SEPARATORS = re.compile(r"[\s\-().]")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.\-]+)\}")


@dataclass(frozen=True, slots=True)
class Batch:
    """A validated batch: ``to`` as E.164 (deduplicated, in order), ``bodies`` per recipient."""

    to: list[str]
    sender: str
    body: str
    bodies: dict[str, str]
    delivery_report: str
    callback_url: str | None
    client_reference: str | None
    send_at: datetime | None
    expire_at: datetime | None
    parameters: dict[str, dict[str, str]] | None = field(default=None)  # as given (echoed)


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_request(e.INVALID_JSON, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad_request(e.INVALID_JSON, "The request body must be a JSON object.")
    return data


def msisdn(raw: str) -> str:
    """Sinch's number rule: with or without ``+`` or ``00``, separators ignored → E.164."""
    digits = _SEPARATORS.sub("", raw)
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    if not digits.isascii() or not digits.isdigit():
        raise InvalidNumber("is not a valid MSISDN")
    return normalise("+" + digits)


def bare(e164: str) -> str:
    """How Sinch returns a number: without ``+`` (short codes and names as they are)."""
    return e164.removeprefix("+")


def batch(data: dict[str, Any]) -> Batch:
    """The batch a ``POST /batches`` (or ``/batches/dry_run``) body stands for."""
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise bad_request(e.INVALID_JSON, f"Unrecognized field '{unknown[0]}'.")
    kind = data.get("type", "mt_text")
    if kind != "mt_text":
        raise invalid_format("type", kind, "is not supported (only mt_text)")
    to = _recipients(data.get("to"))
    sender = _sender(data.get("from"))
    body = data.get("body")
    if body is None:
        raise bad_request(e.CONSTRAINT, "Missing required parameter 'body'.")
    if not isinstance(body, str):
        raise bad_request(e.INVALID_JSON, "Parameter 'body' must be a string.")
    report = data.get("delivery_report", "none")
    if report not in DELIVERY_REPORTS:
        raise invalid_format(
            "delivery_report", report, f"is not one of {', '.join(DELIVERY_REPORTS)}"
        )
    callback = _string(data, "callback_url", MAX_CALLBACK_URL)
    if callback is not None and not _is_url(callback):
        raise invalid_format("callback_url", callback, "is not an absolute http(s) URL")
    reference = _string(data, "client_reference", MAX_CLIENT_REFERENCE)
    send_at = _time(data, "send_at")
    expire_at = _time(data, "expire_at")
    if expire_at is not None and send_at is not None and expire_at <= send_at:
        raise bad_request(e.CONSTRAINT, "Parameter 'expire_at' must be after 'send_at'.")
    parameters = _parameters(data.get("parameters"))
    bodies = {number: substitute(body, parameters, number) for number in to}
    given = data.get("parameters")
    return Batch(
        to=to,
        sender=sender,
        body=body,
        bodies=bodies,
        delivery_report=report,
        callback_url=callback,
        client_reference=reference,
        send_at=send_at,
        expire_at=expire_at,
        parameters=given,
    )


def _recipients(to: Any) -> list[str]:
    if to is None:
        raise bad_request(e.CONSTRAINT, "Missing required parameter 'to'.")
    if not isinstance(to, list) or not all(isinstance(entry, str) for entry in to):
        raise bad_request(e.INVALID_JSON, "Parameter 'to' must be an array of strings.")
    if not 1 <= len(to) <= MAX_RECIPIENTS:
        raise bad_request(
            e.CONSTRAINT, f"Parameter 'to' must have between 1 and {MAX_RECIPIENTS} elements."
        )
    numbers: list[str] = []
    for index, entry in enumerate(to):
        try:
            numbers.append(msisdn(entry))
        except InvalidNumber:
            raise invalid_format(f"to[{index}]", entry, "is not a valid MSISDN") from None
    return list(dict.fromkeys(numbers))


def _sender(sender: Any) -> str:
    if sender is None:
        raise bad_request(e.CONSTRAINT, "Missing required parameter 'from'.")
    if not isinstance(sender, str):
        raise bad_request(e.INVALID_JSON, "Parameter 'from' must be a string.")
    digits = _SEPARATORS.sub("", sender).removeprefix("+")
    digits = digits[2:] if digits.startswith("00") else digits
    if digits.isascii() and digits.isdigit() and len(digits) > 8:  # a long number
        try:
            return normalise("+" + digits)
        except InvalidNumber:
            raise invalid_format("from", sender, "is not a valid sender") from None
    return sender


def _string(data: dict[str, Any], name: str, limit: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(e.INVALID_JSON, f"Parameter '{name}' must be a string.")
    if len(value) > limit:
        raise bad_request(e.CONSTRAINT, f"Parameter '{name}' exceeds {limit} characters.")
    return value


def _is_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _time(data: dict[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(e.INVALID_JSON, f"Parameter '{name}' must be a string.")
    try:
        return parse_timestamp(value)
    except ValueError:
        raise invalid_format(name, value, "is not an ISO-8601 timestamp") from None


def _parameters(raw: Any) -> dict[str, dict[str, str]] | None:
    """``{"name": {"<msisdn>": "value", "default": "value"}}``, numbers made E.164."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise bad_request(e.INVALID_JSON, "Parameter 'parameters' must be an object.")
    parameters: dict[str, dict[str, str]] = {}
    for name, values in raw.items():
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise bad_request(
                e.INVALID_JSON, f"Parameter 'parameters.{name}' must map numbers to strings."
            )
        mapped: dict[str, str] = {}
        for key, value in values.items():
            if key == "default":
                mapped[key] = value
                continue
            try:
                mapped[msisdn(key)] = value
            except InvalidNumber:
                raise invalid_format(f"parameters.{name}", key, "is not a valid MSISDN") from None
        parameters[name] = mapped
    return parameters


def substitute(body: str, parameters: dict[str, dict[str, str]] | None, number: str) -> str:
    """``${name}`` replaced by the recipient's value, else the ``default``; a placeholder
    with neither stays as written (as Sinch leaves it)."""
    if not parameters:
        return body

    def value(match: re.Match[str]) -> str:
        values = parameters.get(match.group(1))
        if values is None:
            return match.group(0)
        return values.get(number, values.get("default", match.group(0)))

    return _PLACEHOLDER.sub(value, body)


def page(params: dict[str, str]) -> tuple[int, int]:
    """Sinch's ``page`` (from 0) and ``page_size`` (1–100, default 30)."""
    number = _int(params, "page", 0)
    size = _int(params, "page_size", DEFAULT_PAGE_SIZE)
    if number < 0:
        raise invalid_format("page", number, "must be 0 or more")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise invalid_format("page_size", size, f"must be between 1 and {MAX_PAGE_SIZE}")
    return number, size


def _int(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_format(name, raw, "is not an integer") from None


def flag(params: dict[str, str], name: str) -> bool:
    raw = (params.get(name) or "false").lower()
    if raw not in ("true", "false"):
        raise invalid_format(name, raw, "is not true or false")
    return raw == "true"


def bounded(params: dict[str, str], name: str, default: int, highest: int) -> int:
    value = _int(params, name, default)
    if not 1 <= value <= highest:
        raise invalid_format(name, value, f"must be between 1 and {highest}")
    return value


def query_time(params: dict[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        return parse_timestamp(raw)
    except ValueError:
        raise invalid_format(name, raw, "is not an ISO-8601 timestamp") from None


def listed(params: dict[str, str], name: str) -> list[str]:
    """A comma-separated (or repeated) query parameter."""
    raw = params.get(name) or ""
    return [item.strip() for item in raw.split(",") if item.strip()]


def numbers(params: dict[str, str], name: str) -> list[str]:
    """A comma-separated list of MSISDNs, as E.164 (names and short codes as given)."""
    result = []
    for item in listed(params, name):
        try:
            result.append(msisdn(item))
        except InvalidNumber:
            result.append(item)
    return result
