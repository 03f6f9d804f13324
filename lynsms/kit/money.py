"""Money is stored as integer units of 1/10,000 of the currency: exact on every database.

``0.0500`` USD is stored as ``500``. The API shows money as a JSON number
rounded to 4 places.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

SCALE = 10_000


def to_units(amount: Decimal | str | int) -> int:
    value = Decimal(str(amount)) * SCALE
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_number(units: int) -> float:
    """For JSON output only: the 4-place decimal as a number (``500`` → ``0.05``)."""
    return round(units / SCALE, 4)
