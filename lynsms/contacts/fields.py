"""The rules of a contact's fields, shared by the JSON API and the CSV import.

Each check returns the clean value or raises ``ValueError`` saying what is wrong
(pydantic turns it into a 422 ``validation_error``; the import into a row's error).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

MAX_NAME = 200
MAX_EMAIL = 254
MAX_TAG = 64
MAX_TAGS = 100
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_TEXT = 1000
TAG_SEPARATOR = ";"  # between the tags of one CSV cell
# Attribute keys are usable as template variables (API.md §12: a campaign looks them up).
ATTRIBUTE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,63}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")

AttributeValue = str | int | float | bool


def name(value: str) -> str:
    if len(value) > MAX_NAME:
        raise ValueError(f"name is over {MAX_NAME} characters")
    return value


def email(value: str) -> str:
    if len(value) > MAX_EMAIL or not _EMAIL.fullmatch(value):
        raise ValueError(f"'{value[:60]}' is not an email address")
    return value


def tags(values: Iterable[str]) -> list[str]:
    """Trimmed, without empties and duplicates, in the order given."""
    clean = list(dict.fromkeys(tag.strip() for tag in values if tag.strip()))
    for tag in clean:
        if len(tag) > MAX_TAG or TAG_SEPARATOR in tag:
            raise ValueError(f"tag '{tag[:70]}' is over {MAX_TAG} characters or contains ';'")
    if len(clean) > MAX_TAGS:
        raise ValueError(f"{len(clean)} tags; at most {MAX_TAGS}")
    return clean


def attribute_key(key: str) -> str:
    if not ATTRIBUTE_KEY.fullmatch(key):
        raise ValueError(
            f"attribute '{key[:70]}' must match [A-Za-z_][A-Za-z0-9_.]* (at most 64 characters)"
        )
    return key


def attribute_value(key: str, value: Any) -> AttributeValue:
    if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_TEXT:
        raise ValueError(f"attribute '{key}' is over {MAX_ATTRIBUTE_TEXT} characters")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"attribute '{key}' is not a finite number")
    if not isinstance(value, str | int | float | bool):
        raise ValueError(f"attribute '{key}' must be a string, a number or a boolean")
    return value


def attributes(values: dict[str, Any]) -> dict[str, Any]:
    """Keys and values checked; ``None`` values are kept (a PATCH removes those keys)."""
    if len(values) > MAX_ATTRIBUTES:
        raise ValueError(f"{len(values)} attributes; at most {MAX_ATTRIBUTES}")
    return {
        attribute_key(key): None if value is None else attribute_value(key, value)
        for key, value in values.items()
    }


def merged(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``current`` with ``changes`` applied: a ``None`` removes its key."""
    result = {**current, **changes}
    result = {key: value for key, value in result.items() if value is not None}
    if len(result) > MAX_ATTRIBUTES:
        raise ValueError(f"{len(result)} attributes; at most {MAX_ATTRIBUTES}")
    return result
