"""Public ids: a prefix, then 25 URL-safe base62 characters that sort by creation time.

Seven characters of milliseconds since the Unix epoch (good until the year
5000) followed by eighteen random characters (about 107 bits), so ids are
unguessable and a list ordered by id is ordered by creation.
"""

from __future__ import annotations

import secrets
import time

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TIME_CHARS = 7
_RANDOM_CHARS = 18
_RANDOM_SPACE = 62**_RANDOM_CHARS


def _base62(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, rem = divmod(value, 62)
        chars.append(ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """``new_id("msg")`` → ``msg_0Ut8kQz…`` (prefix, underscore, 25 characters)."""
    stamp = _base62(time.time_ns() // 1_000_000, _TIME_CHARS)
    return f"{prefix}_{stamp}{_base62(secrets.randbelow(_RANDOM_SPACE), _RANDOM_CHARS)}"


def new_secret(prefix: str, nbytes: int = 24) -> str:
    """A random secret shown once to a user, e.g. ``ds_live_…``."""
    return prefix + secrets.token_urlsafe(nbytes)
