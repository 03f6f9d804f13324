from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lynsms.kit.phones import InvalidNumber, country_of, normalise, sender_type


def reference(raw: str) -> str | None:
    """The slow, obviously right answer: libphonenumber's parse + is_possible_number."""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=1500, deadline=None)
@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_fast_path_agrees_with_libphonenumber(raw):
    try:
        ours = normalise.__wrapped__(raw)
    except InvalidNumber:
        ours = None
    assert ours == reference(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+12025550143", "+12025550143"),
        ("+1 (202) 555-0143", "+12025550143"),
        ("0044 7700 900100", "+447700900100"),
        ("+44 (0)7700 900100", "+447700900100"),  # the national 0 in brackets is dropped
        ("+40123456789", "+40123456789"),
        ("+4748640969", "+4748640969"),
        ("+390612345678", "+390612345678"),  # Italy keeps its leading zero
        ("+80012345678", "+80012345678"),  # a non-geographic code
    ],
)
def test_accepted(raw, expected):
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "0712345678",
        "2025550143",
        "+1202555014",
        "+999123456789",
        "tel:+12025550143",
        "+1 202 555 0143 x12",
        "",
        "+",
        "++12025550143",
    ],
)
def test_refused(raw):
    with pytest.raises(InvalidNumber):
        normalise(raw)


def test_bare_digits_only_where_asked():
    assert normalise("12025550143", bare_digits=True) == "+12025550143"
    with pytest.raises(InvalidNumber):
        normalise("012025550143", bare_digits=True)


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("+12025550143", "US"),
        ("+447700900100", "GB"),
        ("+4748640969", "NO"),
        ("+40123456789", "RO"),
        ("+12042345678", "CA"),
        ("+17875550100", "PR"),
        ("+15005550001", "US"),
        ("+80012345678", "ZZ"),
    ],
)
def test_country(number, country):
    assert country_of(number) == country


def test_nanp_area_code_shortcut_agrees_with_libphonenumber():
    for number in ["+12042345678", "+12045550100", "+14165550123", "+18095550123", "+16475550100"]:
        assert country_of.__wrapped__(number) == (
            phonenumbers.region_code_for_number(phonenumbers.parse(number)) or "US"
        )


@pytest.mark.parametrize(
    ("sender", "kind"),
    [
        ("LynSMS", "alphanumeric"),
        ("My Shop", "alphanumeric"),
        ("12345", "short_code"),
        ("+12025550143", "long_code"),
        ("ABCDEFGHIJKL", None),
        ("12", None),
        ("1234567890123", None),
        ("Bad!", None),
        (" Lead", None),
        ("+1", None),
    ],
)
def test_sender_types(sender, kind):
    assert sender_type(sender) == kind
