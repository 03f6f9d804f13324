"""Tests for lynsms.kit.segments.

The expected values are worked out by hand from the rules in research ``conventions.md``
§4 (160/153 septets, 70/67 UTF-16 units, escape pairs, surrogate pairs and grapheme
clusters never split). Vectors taken from public suites name their source test.
"""

from __future__ import annotations

import dataclasses
import unicodedata

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from lynsms.kit.segments import Segmentation, _fill, is_gsm7, non_gsm_characters, segment

# --- The GSM 03.38 default alphabet, written out by position (3GPP TS 23.038) -----------
# Independent of the module: one string per row of 16 positions; "\x1b" marks ESC
# (0x1B), which is not a character. Greek capitals are spelled as code points.
ROWS = [
    "@£$¥èéùìòÇ\nØø\rÅå",  # 0x00
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\x1bÆæßÉ",  # 0x10
    " !\"#¤%&'()*+,-./",  # 0x20
    "0123456789:;<=>?",  # 0x30
    "¡ABCDEFGHIJKLMNO",  # 0x40
    "PQRSTUVWXYZÄÖÑÜ§",  # 0x50
    "¿abcdefghijklmno",  # 0x60
    "pqrstuvwxyzäöñüà",  # 0x70
]
POSITIONS = "".join(ROWS)
BASIC = frozenset(POSITIONS) - {"\x1b"}
EXTENSION_BY_CODE = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
EXTENSION = frozenset(EXTENSION_BY_CODE.values())
GSM = BASIC | EXTENSION


def char_id(char: str) -> str:
    return f"U+{ord(char):04X}"


def septets(text: str) -> int:
    return sum(2 if char in EXTENSION else 1 for char in text)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def check(result: Segmentation, body: str, encoding: str, segments: int, units: int) -> None:
    assert (result.encoding, result.segments, result.units) == (encoding, segments, units)
    assert result.characters == len(body)
    assert len(result.parts) == segments
    assert "".join(result.parts) == body


class TestTables:
    def test_basic_table_has_127_characters_and_esc_at_0x1b(self) -> None:
        assert len(POSITIONS) == 128
        assert POSITIONS[0x1B] == "\x1b"
        assert len(BASIC) == 127

    def test_position_0x09_is_capital_c_cedilla(self) -> None:
        assert POSITIONS[0x09] == "\u00c7"
        assert is_gsm7("\u00c7")
        assert not is_gsm7("\u00e7")

    @pytest.mark.parametrize("char", sorted(BASIC), ids=char_id)
    def test_basic_character_costs_one_septet(self, char: str) -> None:
        assert is_gsm7(char)
        assert non_gsm_characters(char) == []
        check(segment(char), char, "GSM-7", 1, 1)
        check(segment(char * 160), char * 160, "GSM-7", 1, 160)
        result = segment(char * 161)
        check(result, char * 161, "GSM-7", 2, 161)
        assert result.parts == (char * 153, char * 8)

    @pytest.mark.parametrize("char", sorted(EXTENSION), ids=char_id)
    def test_extension_character_costs_two_septets(self, char: str) -> None:
        assert is_gsm7(char)
        assert non_gsm_characters(char) == []
        check(segment(char), char, "GSM-7", 1, 2)
        check(segment(char * 80), char * 80, "GSM-7", 1, 160)
        result = segment(char * 81)  # 162 septets: 76 pairs (152) per part, never 76.5
        check(result, char * 81, "GSM-7", 2, 162)
        assert result.parts == (char * 76, char * 5)

    @pytest.mark.parametrize("char", sorted(EXTENSION), ids=char_id)
    def test_extension_character_costs_one_unit_in_ucs2(self, char: str) -> None:
        check(segment("ç" + char), "ç" + char, "UCS-2", 1, 2)

    def test_exactly_the_tables_are_gsm7_across_the_bmp(self) -> None:
        accepted = {chr(cp) for cp in range(0x10000) if is_gsm7(chr(cp))}
        assert accepted == GSM
        assert len(accepted) == 137

    @pytest.mark.parametrize("char", ["😀", "🇮", "\U00010000", "\U0010ffff"], ids=char_id)
    def test_astral_characters_are_not_gsm7(self, char: str) -> None:
        assert not is_gsm7(char)
        check(segment(char), char, "UCS-2", 1, 2)


# Near-misses: characters that look like GSM-7 but are not (conventions.md §4.1).
NEAR_MISSES = [
    "\u00e7",  # ç small c cedilla: only capital Ç is at 0x09 (Twilio "One grapheme UCS-2")
    "\u0060",  # ` grave accent
    "\u00a0",  # no-break space
    "\u0009",  # tab
    "\u001b",  # ESC itself is not a character
    "\u007f",  # DEL
    "\u2206",  # ∆ increment, not Δ U+0394
    "\u2126",  # Ω ohm sign, not Ω U+03A9
    "\u00b5",  # µ micro sign
    "\u00e1",  # á (Twilio methods.test.js: 'más' → ['á'])
    "\u00ff",  # ÿ
    "\u201c",  # “ smart quote (smart encoding is not applied here)
    "\u2013",  # – en dash
    "\uff3b",  # ［ fullwidth bracket, not the extension [
]


class TestIsGsm7:
    @pytest.mark.parametrize("char", NEAR_MISSES, ids=char_id)
    def test_near_miss_is_not_gsm7(self, char: str) -> None:
        body = "abc" + char + "def"
        assert not is_gsm7(body)
        assert non_gsm_characters(body) == [char]
        check(segment(body), body, "UCS-2", 1, 7)

    def test_euro_is_extension(self) -> None:
        assert is_gsm7("€")
        check(segment("€"), "€", "GSM-7", 1, 2)
        check(segment("€😀"), "€😀", "UCS-2", 1, 3)

    def test_decomposed_umlaut_is_not_gsm7(self) -> None:
        assert is_gsm7("\u00c4")
        assert not is_gsm7("A\u0308")
        assert non_gsm_characters("A\u0308") == ["\u0308"]

    def test_empty_body_is_gsm7(self) -> None:
        assert is_gsm7("")

    def test_whole_charset_is_gsm7(self) -> None:
        # smsutil tests/test_encoding.py TestGSMValidator.test_charset and the
        # TestCoding.test_roundtrip string (basic table without controls + extension)
        assert is_gsm7("".join(sorted(GSM)))
        assert is_gsm7(
            "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
            "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
        )

    @pytest.mark.parametrize("body", ["the quick brown 🍔", "the quick brown こんにちは"])
    def test_mixed_bodies_are_not_gsm7(self, body: str) -> None:
        # smsutil tests/test_encoding.py test_mixed, test_invalid_characters
        assert not is_gsm7(body)


class TestNonGsmCharacters:
    def test_accented_a(self) -> None:
        # Twilio tests/methods.test.js getNonGsmCharacters(): 'más' → ['á']
        assert non_gsm_characters("más") == ["á"]

    def test_distinct_in_order_of_first_appearance(self) -> None:
        # smsutil tests/test_encoding.py count_non_gsm_characters string: | and € are
        # GSM-7 (extension); the tab appears twice but is listed once.
        body = "|最Som€高でした \tText\t🍔!"
        assert non_gsm_characters(body) == ["最", "高", "で", "し", "た", "\t", "🍔"]

    def test_gsm_body_has_none(self) -> None:
        assert non_gsm_characters("Hello {world} €5") == []

    def test_zwj_sequence_lists_its_code_points(self) -> None:
        assert non_gsm_characters("hi 👨‍👩‍👧 👨") == ["👨", "\u200d", "👩", "👧"]


DIGITS_307 = "1234567890" * 30 + "1234567"
TRIPLE_ACCENT = "e\u0301\u0301\u0301"  # 1 grapheme, 4 code points, 4 units
FAMILY = "👨\u200d👩\u200d👧"  # one cluster, 8 UTF-16 units
RAINBOW_FLAG = "🏳\ufe0f\u200d🌈"  # one cluster, 4 code points, 6 UTF-16 units
FLAG_IT = "🇮🇹"  # one cluster, 2 code points, 4 UTF-16 units
MALAYSIA = (
    "Hi I am john, this is my message in MY sms format é, this should generate to 2 "
    "segments and be formatted in UCS-2"
)

# (body, encoding, segments, units, expected parts or None)
GSM_VECTORS = [
    pytest.param("", "GSM-7", 1, 0, ("",), id="empty"),
    pytest.param("1" * 153, "GSM-7", 1, 153, None, id="153-digits"),
    pytest.param("1" * 154, "GSM-7", 1, 154, None, id="154-digits"),
    # Twilio index.test.js "GSM-7 in one segment" / "GSM-7 in two segments"
    pytest.param("1234567890" * 16, "GSM-7", 1, 160, None, id="160-digits"),
    pytest.param(
        "1234567890" * 16 + "1",
        "GSM-7",
        2,
        161,
        (("1234567890" * 16)[:153], "45678901"),
        id="161-digits",
    ),
    pytest.param("1" * 306, "GSM-7", 2, 306, ("1" * 153, "1" * 153), id="306-digits"),
    # Twilio index.test.js "GSM-7 in three segments" and segments.test.js
    # "Check last segment has only 1 character": the third part is exactly "7".
    pytest.param(
        DIGITS_307, "GSM-7", 3, 307, (DIGITS_307[:153], DIGITS_307[153:306], "7"), id="307"
    ),
    # Twilio index.test.js "GSM-7 with escape characters in one/two segments"
    pytest.param("{" + "1" * 158, "GSM-7", 1, 160, None, id="escape-160"),
    pytest.param("{" + "1" * 159, "GSM-7", 2, 161, ("{" + "1" * 151, "1" * 8), id="escape-161"),
    # The escape pair does not fit in the 153rd septet: it opens part 2.
    pytest.param(
        "1" * 152 + "{" + "1" * 152,
        "GSM-7",
        3,
        306,
        ("1" * 152, "{" + "1" * 151, "1"),
        id="escape-at-boundary",
    ),
    # smsutil tests/test_util.py TestGsmSplit
    pytest.param("1" * 160, "GSM-7", 1, 160, ("1" * 160,), id="smsutil-one_part"),
    pytest.param(
        "1" * 160 + "2" * 10, "GSM-7", 2, 170, ("1" * 153, "1" * 7 + "2" * 10), id="smsutil-two"
    ),
    pytest.param(
        "1" * 145 + "{" * 15,
        "GSM-7",
        2,
        175,
        ("1" * 145 + "{" * 4, "{" * 11),
        id="smsutil-basic_and_ext",
    ),
    pytest.param(
        "1" * 152 + "{" + "1" * 12,
        "GSM-7",
        2,
        166,
        ("1" * 152, "{" + "1" * 12),
        id="smsutil-basic_and_ext2",
    ),
    # Twilio "Line break styles tests": CR and LF are two characters each costing 1.
    pytest.param("\r\n", "GSM-7", 1, 2, ("\r\n",), id="crlf"),
    pytest.param("\rabcde\r\n123", "GSM-7", 1, 11, None, id="twilio-crlf"),
    pytest.param("\nabcde\n\n123\n", "GSM-7", 1, 12, None, id="twilio-lf"),
    # As in Twilio's calculator (which splits "\r\n" graphemes), CR LF may be cut.
    pytest.param(
        "a" * 152 + "\r\n" + "a" * 10,
        "GSM-7",
        2,
        164,
        ("a" * 152 + "\r", "\n" + "a" * 10),
        id="crlf-at-boundary",
    ),
    # Twilio TestDataMalaysia body: UCS-2 only under the MY table; é is in the default one.
    pytest.param(MALAYSIA, "GSM-7", 1, 113, None, id="twilio-malaysia-default-table"),
]

UCS2_VECTORS = [
    # Twilio "One grapheme UCS-2 characters": 70 and 71 × ç
    pytest.param("ç" * 70, "UCS-2", 1, 70, None, id="70-units"),
    pytest.param("ç" * 71, "UCS-2", 2, 71, ("ç" * 67, "ç" * 4), id="71-units"),
    pytest.param("ç" * 134, "UCS-2", 2, 134, ("ç" * 67, "ç" * 67), id="134-units"),
    pytest.param("ç" * 135, "UCS-2", 3, 135, ("ç" * 67, "ç" * 67, "ç"), id="135-units"),
    # Twilio index.test.js "UCS-2 message in one/two/three segments"
    pytest.param("😜" + "1" * 68, "UCS-2", 1, 70, None, id="twilio-ucs2-one"),
    pytest.param("😜" + "1" * 69, "UCS-2", 2, 71, ("😜" + "1" * 65, "1" * 4), id="twilio-two"),
    pytest.param("😜" + "1" * 132, "UCS-2", 2, 134, ("😜" + "1" * 65, "1" * 67), id="134-emoji"),
    # ... and segments.test.js "UCS-2 ... Check last segment has only 1 character": "4"
    pytest.param(
        "😜" + ("2345678901" * 14)[:133],
        "UCS-2",
        3,
        135,
        ("😜" + ("2345678901" * 14)[:65], ("2345678901" * 14)[65:132], "4"),
        id="twilio-ucs2-three",
    ),
    # The surrogate pair does not fit in the 67th unit: it opens part 2.
    pytest.param(
        "a" * 66 + "😀" + "a" * 66,
        "UCS-2",
        3,
        134,
        ("a" * 66, "😀" + "a" * 65, "a"),
        id="emoji-at-boundary",
    ),
    # Twilio "Special tests" (issue #18): ] costs 1 unit in UCS-2
    pytest.param("😀" + "]" * 68, "UCS-2", 1, 70, None, id="twilio-issue18-one"),
    pytest.param("😀" + "]" * 69, "UCS-2", 2, 71, ("😀" + "]" * 65, "]" * 4), id="issue18-two"),
    # A flag (two regional indicators) is never split: 3 parts, not 2.
    pytest.param(
        "a" * 65 + FLAG_IT + "a" * 65,
        "UCS-2",
        3,
        134,
        ("a" * 65, FLAG_IT + "a" * 63, "aa"),
        id="flag-at-boundary",
    ),
    # Twilio "UCS-2 with two bytes extended characters in one/two segments boundary"
    pytest.param(FLAG_IT + "1" * 66, "UCS-2", 1, 70, None, id="twilio-flag-one"),
    pytest.param(FLAG_IT + "1" * 67, "UCS-2", 2, 71, (FLAG_IT + "1" * 63, "1" * 4), id="flag2"),
    # Twilio "UCS-2 with four bytes extended characters in one/two segments boundary"
    pytest.param(RAINBOW_FLAG + "1" * 64, "UCS-2", 1, 70, None, id="twilio-rainbow-one"),
    pytest.param(
        RAINBOW_FLAG + "1" * 65,
        "UCS-2",
        2,
        71,
        (RAINBOW_FLAG + "1" * 61, "1" * 4),
        id="twilio-rainbow-two",
    ),
    # A ZWJ family (8 units) at the boundary moves whole to part 2.
    pytest.param(
        "a" * 63 + FAMILY + "a" * 63,
        "UCS-2",
        3,
        134,
        ("a" * 63, FAMILY + "a" * 59, "a" * 4),
        id="zwj-family-at-boundary",
    ),
    # e + combining acute at the boundary moves whole to part 2.
    pytest.param(
        "a" * 66 + "e\u0301" + "a" * 66,
        "UCS-2",
        3,
        134,
        ("a" * 66, "e\u0301" + "a" * 65, "a"),
        id="combining-at-boundary",
    ),
    # Twilio "Triple accents characters - One/Two Segments test" (issue #17)
    pytest.param(TRIPLE_ACCENT + "a" * 66, "UCS-2", 1, 70, None, id="twilio-triple-accent-1"),
    pytest.param(
        TRIPLE_ACCENT + "a" * 67,
        "UCS-2",
        2,
        71,
        (TRIPLE_ACCENT + "a" * 63, "a" * 4),
        id="twilio-triple-accent-2",
    ),
    # CR LF in UCS-2 is two units that may be cut, as in GSM-7.
    pytest.param(
        "😀" + "a" * 64 + "\r\n" + "a" * 5,
        "UCS-2",
        2,
        73,
        ("😀" + "a" * 64 + "\r", "\n" + "a" * 5),
        id="crlf-at-ucs2-boundary",
    ),
    # smsutil tests/test_util.py test_encode_ucs2: 'ちは' is two UCS-2 units
    pytest.param("ちは", "UCS-2", 1, 2, ("ちは",), id="smsutil-encode_ucs2"),
    # smsutil test_mixed: 16 ASCII + one astral emoji
    pytest.param("the quick brown 🍔", "UCS-2", 1, 18, None, id="smsutil-mixed"),
    # A lone surrogate (possible from JSON "\ud800") counts one unit and does not crash.
    pytest.param("\ud800" + "a" * 70, "UCS-2", 2, 71, ("\ud800" + "a" * 66, "a" * 4), id="lone"),
    # A surrogate pair held as two code points (surrogatepass) is not cut either.
    pytest.param(
        "a" * 66 + "\ud83d\ude00" + "a" * 66,
        "UCS-2",
        3,
        134,
        ("a" * 66, "\ud83d\ude00" + "a" * 65, "a"),
        id="pair-as-code-points",
    ),
]

# Clusters longer than a whole part are cut between code points (never in a pair).
ZWJ_CHAIN = "👩" + "\u200d👩" * 30  # one cluster: 2 + 30 × 3 = 92 units
PATHOLOGICAL_VECTORS = [
    pytest.param(
        "e" + "\u0301" * 100, "UCS-2", 2, 101, ("e" + "\u0301" * 66, "\u0301" * 34), id="marks"
    ),
    pytest.param(
        "a" * 60 + "e" + "\u0301" * 100,
        "UCS-2",
        3,
        161,
        ("a" * 60 + "e" + "\u0301" * 6, "\u0301" * 67, "\u0301" * 27),
        id="marks-after-text",
    ),
    # A cluster of exactly 67 units still fits a part: kept whole, 3 parts.
    pytest.param(
        "a" * 5 + "e" + "\u0301" * 66 + "a" * 5,
        "UCS-2",
        3,
        77,
        ("a" * 5, "e" + "\u0301" * 66, "a" * 5),
        id="cluster-67-units-whole",
    ),
    # One of 68 units does not: cut between code points, 2 parts.
    pytest.param(
        "a" * 5 + "e" + "\u0301" * 67 + "a" * 5,
        "UCS-2",
        2,
        78,
        ("a" * 5 + "e" + "\u0301" * 61, "\u0301" * 6 + "a" * 5),
        id="cluster-68-units-cut",
    ),
    # Greedy over code points 2,1,2,1,…: 2 + 21 × 3 + 1 = 66 units, the next 👩 would be 68.
    pytest.param(
        ZWJ_CHAIN, "UCS-2", 2, 92, (ZWJ_CHAIN[:44], ZWJ_CHAIN[44:]), id="zwj-chain-92-units"
    ),
]


class TestSegment:
    @pytest.mark.parametrize(("body", "encoding", "segments", "units", "parts"), GSM_VECTORS)
    def test_gsm7_vector(self, body: str, encoding: str, segments: int, units: int, parts):
        result = segment(body)
        check(result, body, encoding, segments, units)
        if parts is not None:
            assert result.parts == parts

    @pytest.mark.parametrize(
        ("body", "encoding", "segments", "units", "parts"), UCS2_VECTORS + PATHOLOGICAL_VECTORS
    )
    def test_ucs2_vector(self, body: str, encoding: str, segments: int, units: int, parts):
        result = segment(body)
        check(result, body, encoding, segments, units)
        if parts is not None:
            assert result.parts == parts

    def test_characters_count_code_points(self) -> None:
        # Twilio counts graphemes; the 1,600 limit counts code points (API.md §10).
        assert segment(TRIPLE_ACCENT).characters == 4
        assert segment(FAMILY).characters == 5
        assert segment(FAMILY).units == 8
        assert segment(RAINBOW_FLAG + "1" * 64).characters == 68
        assert segment(FLAG_IT + "1" * 66).characters == 68

    def test_single_part_body_is_returned_unchanged(self) -> None:
        body = "Your code is 123456"
        assert segment(body).parts[0] is body

    def test_result_is_frozen_with_slots(self) -> None:
        result = segment("hi")
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.segments = 2  # type: ignore[misc]
        assert not hasattr(result, "__dict__")

    def test_fill_always_ends_even_if_an_item_exceeds_a_part(self) -> None:
        # Unreachable through segment() (oversize clusters are cut first); a safety net.
        assert _fill([2, 5, 1, 1], 3) == [0, 1, 2, 4]

    def test_longest_body_in_the_limit(self) -> None:
        check(segment("€" * 1600), "€" * 1600, "GSM-7", 22, 3200)  # 76 pairs per part
        check(segment("😀" * 1600), "😀" * 1600, "UCS-2", 49, 3200)  # 33 emoji per part


# --- Reference: slow and obviously correct --------------------------------------------


def is_high(char: str) -> bool:
    return "\ud800" <= char <= "\udbff"


def is_low(char: str) -> bool:
    return "\udc00" <= char <= "\udfff"


def reference_items(body: str, gsm: bool) -> list[str]:
    """The unbreakable items: characters in GSM-7; clusters (CR LF as two) in UCS-2."""
    if gsm:
        return list(body)
    items: list[str] = []
    for match in regex.finditer(r"\X", body):
        cluster = match.group()
        if items and is_high(items[-1]) and is_low(cluster):  # a pair held as 2 code points
            items[-1] += cluster
        elif cluster == "\r\n" or utf16_units(cluster) > 67:
            items.extend(cluster)
        else:
            items.append(cluster)
    return items


def reference_segment(body: str) -> tuple[str, int, tuple[str, ...]]:
    gsm = all(char in GSM for char in body)
    cost, single, multi = (septets, 160, 153) if gsm else (utf16_units, 70, 67)
    total = cost(body)
    if total <= single:
        return ("GSM-7" if gsm else "UCS-2"), total, (body,)
    parts: list[str] = []
    current, load = "", 0  # load == cost(current)
    for item in reference_items(body, gsm):
        if load + cost(item) > multi:
            parts.append(current)
            current, load = "", 0
        current, load = current + item, load + cost(item)
    parts.append(current)
    return ("GSM-7" if gsm else "UCS-2"), total, tuple(parts)


def minimum_parts(body: str) -> int:
    """Fewest parts of unbroken items, by dynamic programming over item boundaries."""
    gsm = all(char in GSM for char in body)
    cost, single, multi = (septets, 160, 153) if gsm else (utf16_units, 70, 67)
    if cost(body) <= single:
        return 1
    items = reference_items(body, gsm)
    best = [0] + [len(items) + 1] * len(items)
    for end in range(1, len(items) + 1):
        load = 0  # cost of items[start:end]
        for start in range(end - 1, -1, -1):
            load += cost(items[start])
            if load > multi:
                break
            best[end] = min(best[end], best[start] + 1)
    return best[-1]


def cluster_bounds(body: str) -> tuple[set[int], list[tuple[int, int]]]:
    """Offsets where a cut is allowed, and the clusters too long for any part."""
    bounds = {0, len(body)}
    oversize = []
    for match in regex.finditer(r"\X", body):
        if not (is_low(match.group()) and is_high(body[match.start() - 1 : match.start()])):
            bounds.add(match.start())
        if match.group() == "\r\n":
            bounds.add(match.start() + 1)
        elif utf16_units(match.group()) > 67:
            oversize.append(match.span())
    return bounds, oversize


# --- Strategies -------------------------------------------------------------------------

GSM_ALPHABET = sorted(GSM)
TRICKY = [
    "😀",
    FLAG_IT,
    "🇮",
    FAMILY,
    RAINBOW_FLAG,
    "e\u0301",
    "\u0301",
    "\u200d",
    "\r\n",
    "\r",
    "ç",
    "ち",
    "\u00a0",
    "`",
    "👍🏽",
    "\U0001f9d1\u200d\U0001f4bb",
]
gsm_bodies = st.text(alphabet=st.sampled_from(GSM_ALPHABET), max_size=700)
digit_bodies = st.integers(min_value=0, max_value=1600).map(lambda n: "7" * n)
pieces = st.one_of(
    st.sampled_from(GSM_ALPHABET),
    st.sampled_from(TRICKY),
    st.characters(),
    st.characters(categories=["Cs"]),  # lone surrogates, as JSON may carry
)
mixed_bodies = st.lists(pieces, max_size=300).map("".join)
long_clusters = st.builds(
    lambda prefix, base, marks, suffix: prefix + base + marks + suffix,
    st.text(alphabet=st.sampled_from(["a", "😀", "ç"]), max_size=80),
    st.sampled_from(["e", "👩", "😀"]),
    st.one_of(
        st.one_of(st.sampled_from([65, 66, 67]), st.integers(30, 150)).map(lambda n: "\u0301" * n),
        st.one_of(st.just(22), st.integers(10, 50)).map(lambda n: "\u200d👩" * n),
    ),
    st.text(alphabet=st.sampled_from(["b", "😀", "]"]), max_size=80),
)
any_body = st.one_of(gsm_bodies, digit_bodies, mixed_bodies, long_clusters)


class TestSegmentProperties:
    @given(any_body)
    @settings(max_examples=400, deadline=None)
    def test_matches_the_reference(self, body: str) -> None:
        result = segment(body)
        encoding, units, parts = reference_segment(body)
        assert (result.encoding, result.units, result.parts) == (encoding, units, parts)
        assert result.segments == len(parts)
        assert result.characters == len(body)

    @given(any_body)
    @settings(max_examples=200, deadline=None)
    def test_segments_is_minimal(self, body: str) -> None:
        assert segment(body).segments == minimum_parts(body)

    @given(any_body)
    @settings(max_examples=400, deadline=None)
    def test_parts_rebuild_the_body_and_fit(self, body: str) -> None:
        result = segment(body)
        assert "".join(result.parts) == body
        assert result.segments == len(result.parts) >= 1
        cost = septets if result.encoding == "GSM-7" else utf16_units
        assert result.units == cost(body)
        single, multi = (160, 153) if result.encoding == "GSM-7" else (70, 67)
        assert (result.segments == 1) == (result.units <= single)
        room = single if result.segments == 1 else multi
        assert all(1 <= cost(part) <= room for part in result.parts if body)

    @given(any_body)
    @settings(max_examples=400, deadline=None)
    def test_cuts_only_between_clusters(self, body: str) -> None:
        result = segment(body)
        bounds, oversize = cluster_bounds(body)
        offset = 0
        for part in result.parts[:-1]:
            offset += len(part)
            inside_oversize = any(start < offset < end for start, end in oversize)
            assert offset in bounds or inside_oversize, (offset, body[offset - 2 : offset + 2])
            if not inside_oversize:
                assert not unicodedata.combining(body[offset])
                assert body[offset] != "\u200d"
                assert not (is_high(body[offset - 1]) and is_low(body[offset]))

    @given(mixed_bodies)
    def test_encoding_is_gsm7_iff_every_character_is_in_the_tables(self, body: str) -> None:
        in_tables = set(body) <= GSM
        assert is_gsm7(body) is in_tables
        assert (segment(body).encoding == "GSM-7") is in_tables
        outside = [char for char in body if char not in GSM]
        assert non_gsm_characters(body) == list(dict.fromkeys(outside))

    @given(gsm_bodies)
    def test_gsm_bodies_are_gsm7(self, body: str) -> None:
        result = segment(body)
        assert result.encoding == "GSM-7"
        assert result.units == len(body) + sum(char in EXTENSION for char in body)
