"""Phone numbers: E.164 normalisation, sender-id syntax and the destination country.

Rules (API.md §3, research/conventions.md §5.3): spaces, dashes, dots and
brackets are ignored; a leading ``00`` becomes ``+``; the number must then
start with ``+``, have 7–15 digits and be *possible* for its country code
(libphonenumber ``is_possible_number``; not ``is_valid_number``, so fictional
ranges such as ``+447700900100`` pass). National formats and bare digits are
refused in the native API; the Sinch dialect passes ``bare_digits=True``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata

_ALLOWED = re.compile(r"[+0-9 ()\-.]+")
_STRIP = str.maketrans("", "", " ()-.")
_ALPHANUMERIC_SENDER = re.compile(r"[A-Za-z0-9 ]{1,11}")
_SHORT_CODE = re.compile(r"[0-9]{3,8}")


class InvalidNumber(ValueError):
    """The text is not an E.164 number we accept; ``str(exc)`` says why."""


@lru_cache(maxsize=131_072)
def normalise(raw: str, *, bare_digits: bool = False) -> str:
    """``"+1 (202) 555-0143"`` → ``"+12025550143"``; raises ``InvalidNumber``."""
    text = raw.strip()
    if not text or not _ALLOWED.fullmatch(text):
        raise InvalidNumber(
            "must contain only digits, a leading +, spaces, dashes, dots or brackets"
        )
    digits = _international_digits(text.translate(_STRIP), bare_digits)
    if not digits.isdigit() or not 7 <= len(digits) <= 15:
        raise InvalidNumber("must be an E.164 number of 7 to 15 digits, e.g. +12025550143")
    if _plainly_possible(digits):
        return "+" + digits
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber("has no valid country calling code") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidNumber("is not a possible number for its country code")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _plainly_possible(digits: str) -> bool:
    """The common case without a full parse: a known country code, a national number of a
    possible length, and nothing libphonenumber would strip as a national prefix. Anything
    else goes through ``phonenumbers.parse`` (the answer is the same, only slower)."""
    for size in (1, 2, 3):
        metadata = _metadata(int(digits[:size]))
        if metadata is not None:
            break
    else:
        return False
    national = digits[size:]
    prefix = metadata.national_prefix_for_parsing
    if prefix is not None and _prefix_pattern(prefix).match(national):
        return False
    general = metadata.general_desc
    if general is None:
        return False
    length = len(national)
    return length in general.possible_length or length in general.possible_length_local_only


@lru_cache(maxsize=512)
def _metadata(country_code: int) -> PhoneMetadata | None:
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return None
    if regions[0] == "001":
        return PhoneMetadata.metadata_for_nongeo_region(country_code)
    return PhoneMetadata.metadata_for_region(regions[0])


@lru_cache(maxsize=512)
def _prefix_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(prefix)


def _international_digits(text: str, bare_digits: bool) -> str:
    if text.startswith("+"):
        return text[1:]
    if text.startswith("00"):
        return text[2:]
    if bare_digits and not text.startswith("0"):
        return text
    raise InvalidNumber(
        "must be in international format with a leading + (national formats are refused)"
    )


_NANP_REGIONS: dict[str, str] = {}  # area code -> region, learnt from assigned numbers


@lru_cache(maxsize=131_072)
def country_of(e164: str) -> str:
    """ISO 3166 alpha-2 region of a normalised number; unassigned numbers get their code's main
    region. North American (+1) numbers are resolved by area code once one number of it has been
    (libphonenumber otherwise tries 25 regions' patterns for every number)."""
    if e164.startswith("+1") and e164[2:5] in _NANP_REGIONS:
        return _NANP_REGIONS[e164[2:5]]
    number = phonenumbers.parse(e164, None)
    region = phonenumbers.region_code_for_number(number)
    if region and region != "001":
        if number.country_code == 1:
            _NANP_REGIONS[e164[2:5]] = region
        return region
    main = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return main if main and main != "001" else "ZZ"


def sender_type(sender: str) -> str | None:
    """``alphanumeric``, ``long_code``, ``short_code``, or ``None`` when the sender id is not valid."""
    if _SHORT_CODE.fullmatch(sender):
        return "short_code"
    if sender.startswith("+"):
        try:
            normalise(sender)
        except InvalidNumber:
            return None
        return "long_code"
    if _ALPHANUMERIC_SENDER.fullmatch(sender) and any(ch.isalpha() for ch in sender):
        return "alphanumeric" if sender.strip() == sender and sender else None
    return None
