"""Message SIDs: ``SM`` + 32 hex digits standing for a message id, and back.

A message id is ``msg_`` + 25 base62 characters: 7 of creation time, then 18 random.
Its first 21 characters (the time and 14 random ones, about 83 random bits) make a
base62 number below 2**128 (62**21 < 2**128): the SID is that number in hex. So every
message has its SID, whichever API sent it, with nothing stored, and a SID names an id
prefix that the primary key finds with a range scan (``bounds``). SIDs sort like ids: by
creation. Two ids sharing their first 21 characters (the same millisecond and the same
83 random bits) would share a SID; lookups take the oldest.
"""

from __future__ import annotations

import re

from lynsms.kit.ids import ALPHABET

PREFIX = "SM"
ID_PREFIX = "msg_"
ENCODED_CHARS = 21  # of the 25 after ``msg_``
_LIMIT = 62**ENCODED_CHARS
_DIGITS = {char: value for value, char in enumerate(ALPHABET)}
_SID = re.compile(r"^SM[0-9a-fA-F]{32}$")


def sid_of(message_id: str) -> str:
    """``msg_0Ut8kQz…`` → ``SM`` + 32 lower-case hex digits."""
    value = 0
    for char in message_id.removeprefix(ID_PREFIX)[:ENCODED_CHARS]:
        value = value * 62 + _DIGITS[char]
    return f"{PREFIX}{value:032x}"


def id_prefix(sid: str) -> str | None:
    """The id prefix (``msg_`` + 21 characters) a SID stands for; None if it is no SID of ours."""
    if not _SID.match(sid):
        return None
    value = int(sid[len(PREFIX) :], 16)
    if value >= _LIMIT:
        return None
    chars = []
    for _ in range(ENCODED_CHARS):
        value, digit = divmod(value, 62)
        chars.append(ALPHABET[digit])
    return ID_PREFIX + "".join(reversed(chars))


def bounds(prefix: str) -> tuple[str, str]:
    """The smallest and largest ids that start with ``prefix`` (ids compare byte-wise)."""
    rest = 25 - (len(prefix) - len(ID_PREFIX))
    return prefix, prefix + ALPHABET[-1] * rest
