"""The one place that reads the time, and the one timestamp format of the API."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


_FORMATTED: dict[datetime, str] = {}  # recent results: a bulk's messages share timestamps
_FORMATTED_KEPT = 4096


def isoformat(value: datetime | None) -> str | None:
    """``2026-05-12T11:34:21.123+00:00``: UTC, offset always written, milliseconds at most."""
    if value is None:
        return None
    text = _FORMATTED.get(value)
    if text is None:
        if len(_FORMATTED) >= _FORMATTED_KEPT:
            _FORMATTED.clear()
        text = _FORMATTED[value] = _format(value)
    return text


def _format(value: datetime) -> str:
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")


def parse_timestamp(raw: str) -> datetime:
    """ISO-8601 with any offset; without an offset it is UTC (seed 004). Raises ValueError."""
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already (seed 004)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
