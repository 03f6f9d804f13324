"""SMS encoding and segmentation: GSM-7 or UCS-2, and how many parts a body needs.

Rules (research ``conventions.md`` §4; Twilio's message-segment-calculator is the
reference):

- **Encoding.** GSM-7 when every character is in the basic table (1 septet) or the
  extension table (2 septets: ESC + code); otherwise UCS-2 for the whole body. No
  transliteration ("smart encoding") happens here.
- **Units.** GSM-7 counts septets. UCS-2 counts UTF-16 code units: an astral
  character (emoji) costs 2, an extension character such as ``]`` costs 1.
- **Parts.** At most 160 septets / 70 units is one part. Above that, parts of 153
  septets / 67 units are filled greedily in order.
- **Never split** an escape pair, a surrogate pair or a grapheme cluster (a flag, a
  ZWJ emoji, a letter and its combining marks). CR LF is two characters that may be
  split, as in Twilio's calculator. A cluster longer than a whole part (over 67 units)
  is split between code points instead, so every body has an answer.
- ``characters`` counts Unicode code points, as the 1,600-character limit does.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate, pairwise
from operator import methodcaller
from typing import Final, Literal

import regex

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE: Final = 160  # septets in a lone part (140 octets)
GSM7_MULTI: Final = 153  # septets in each part of a concatenated message (6-octet header)
UCS2_SINGLE: Final = 70  # UTF-16 code units in a lone part
UCS2_MULTI: Final = 67  # UTF-16 code units in each part of a concatenated message


def _char_class(chars: Iterable[str], negate: bool = False) -> re.Pattern[str]:
    body = "".join(f"\\u{ord(char):04x}" for char in sorted(chars))
    return re.compile(f"[{'^' if negate else ''}{body}]")


_NOT_BASIC: Final = _char_class(GSM7_BASIC, negate=True)
_NON_GSM7: Final = _char_class(GSM7_BASIC | GSM7_EXTENSION, negate=True)
_EXTENSION: Final = _char_class(GSM7_EXTENSION)
# Each GSM-7 character becomes the byte of its cost in septets.
_SEPTET_COSTS: Final = str.maketrans(
    dict.fromkeys(GSM7_BASIC, "\x01") | dict.fromkeys(GSM7_EXTENSION, "\x02")
)
# CR alone first, so CR LF is two items; a high + low surrogate held as two code points
# (from a surrogatepass decode) is kept together like the pair it stands for.
_CLUSTER: Final = regex.compile(r"\r|[\ud800-\udbff][\udc00-\udfff]|\X")
_UTF16: Final = methodcaller("encode", "utf-16-le", "surrogatepass")


@dataclass(frozen=True, slots=True)
class Segmentation:
    """How a body goes over the air: its encoding, size and parts."""

    encoding: Encoding
    segments: int  # number of SMS parts; an empty body is 1 part of 0 units
    characters: int  # Unicode code points (what the 1,600 limit counts)
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2) in total
    parts: tuple[str, ...]  # the body cut into its parts: "".join(parts) == body


def is_gsm7(body: str) -> bool:
    """True when every character is in the GSM-7 basic or extension table."""
    return _NON_GSM7.search(body) is None


def non_gsm_characters(body: str) -> list[str]:
    """The code points that force UCS-2, distinct, in order of first appearance."""
    return list(dict.fromkeys(_NON_GSM7.findall(body)))


def segment(body: str) -> Segmentation:
    """Encoding, size and parts of ``body``; cheap when it fits in one part."""
    septets = _septets(body)
    if septets is not None:
        parts = (body,) if septets <= GSM7_SINGLE else _split_gsm7(body, septets)
        return Segmentation("GSM-7", len(parts), len(body), septets, parts)
    units = len(_UTF16(body)) >> 1
    parts = (body,) if units <= UCS2_SINGLE else _split_ucs2(body, units)
    return Segmentation("UCS-2", len(parts), len(body), units, parts)


def _septets(body: str) -> int | None:
    """Septets of a GSM-7 body, or None when a character is in neither table."""
    if _NOT_BASIC.search(body) is None:  # the common case: one scan
        return len(body)
    if _NON_GSM7.search(body) is not None:
        return None
    return len(body) + len(_EXTENSION.findall(body))


def _split_gsm7(body: str, septets: int) -> tuple[str, ...]:
    if septets == len(body):  # no escape pairs: every character is one septet
        return tuple(body[i : i + GSM7_MULTI] for i in range(0, len(body), GSM7_MULTI))
    cuts = _fill(body.translate(_SEPTET_COSTS).encode("latin-1"), GSM7_MULTI)
    return tuple(body[start:end] for start, end in pairwise(cuts))


def _split_ucs2(body: str, units: int) -> tuple[str, ...]:
    items: list[str] = _CLUSTER.findall(body)
    if max(map(len, items)) > UCS2_MULTI // 2:  # a cluster may be too long for one part
        items = [piece for item in items for piece in _fitting(item)]
    costs = map(len, items) if units == len(body) else _utf16_costs(items)
    cuts = _fill(costs, UCS2_MULTI)
    return tuple("".join(items[start:end]) for start, end in pairwise(cuts))


def _fitting(cluster: str) -> Iterable[str]:
    """The cluster whole, or its code points when it alone exceeds a part."""
    return cluster if len(_UTF16(cluster)) > 2 * UCS2_MULTI else (cluster,)


def _utf16_costs(items: list[str]) -> list[int]:
    """UTF-16 code units of each item; a lone astral character costs 2."""
    return [
        (2 if item > "\uffff" else 1) if len(item) == 1 else len(_UTF16(item)) >> 1
        for item in items
    ]


def _fill(costs: Iterable[int], room: int) -> list[int]:
    """Item offsets where parts start and end when items, in order, fill parts of ``room``.

    Costs are at least 1 and at most ``room``; each part takes at least one item even
    if that were broken, so this always ends.
    """
    totals = list(accumulate(costs, initial=0))
    cuts = [0]
    while cuts[-1] < len(totals) - 1:
        cuts.append(max(cuts[-1] + 1, bisect_right(totals, totals[cuts[-1]] + room) - 1))
    return cuts
