"""Public ids: a prefix, then 25 URL-safe base62 characters that sort by creation time.

Seven characters of milliseconds since the Unix epoch (good until the year
5000) followed by eighteen random characters (about 107 bits), so ids are
unguessable and a list ordered by id is ordered by creation.
"""

from __future__ import annotations

import os
import secrets
import time

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TIME_CHARS = 7
_RANDOM_CHARS = 18
_UNBIASED = 248  # 4 × 62: bytes at or above it are dropped, so every character is uniform


def _base62(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, rem = divmod(value, 62)
        chars.append(ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """``new_id("msg")`` → ``msg_0Ut8kQz…`` (prefix, underscore, 25 characters)."""
    stamp = _base62(time.time_ns() // 1_000_000, _TIME_CHARS)
    return f"{prefix}_{stamp}{_random_chars(_RANDOM_CHARS)}"


def _random_chars(count: int) -> str:
    chars: list[str] = []
    while len(chars) < count:
        chars.extend(ALPHABET[b % 62] for b in os.urandom(count + 8) if b < _UNBIASED)
    return "".join(chars[:count])


def new_secret(prefix: str, nbytes: int = 24) -> str:
    """A random secret shown once to a user, e.g. ``ds_live_…``."""
    return prefix + secrets.token_urlsafe(nbytes)
