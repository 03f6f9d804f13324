"""Public ids: a prefix, then 25 URL-safe base62 characters that sort by creation time.

Seven characters of milliseconds since the Unix epoch (good until the year
5000) followed by eighteen random characters (about 107 bits), so ids are
unguessable and a list ordered by id is ordered by creation.
"""

from __future__ import annotations

import os
import secrets
import threading
import time

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TIME_CHARS = 7
_RANDOM_CHARS = 18
_UNBIASED = 248  # 4 × 62: bytes at or above it are dropped, so every character is uniform
# byte -> its character (b % 62), bytes at or above _UNBIASED deleted: one C call per draw
_TABLE = bytes(ord(ALPHABET[b % 62]) for b in range(_UNBIASED)) + bytes(256 - _UNBIASED)
_DROP = bytes(range(_UNBIASED, 256))
_POOL_BYTES = 4096
_pool = ""  # random characters drawn ahead (one urandom call per ~200 ids)
_pool_lock = threading.Lock()  # the writer thread makes ids too: no two may take the same


def _forget_pool() -> None:
    global _pool
    _pool = ""  # a forked child must not hand out its parent's characters


os.register_at_fork(after_in_child=_forget_pool)


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
    global _pool
    with _pool_lock:
        while len(_pool) < count:
            _pool += os.urandom(_POOL_BYTES).translate(_TABLE, _DROP).decode("ascii")
        chars, _pool = _pool[:count], _pool[count:]
    return chars


def new_secret(prefix: str, nbytes: int = 24) -> str:
    """A random secret shown once to a user, e.g. ``ds_live_…``."""
    return prefix + secrets.token_urlsafe(nbytes)
