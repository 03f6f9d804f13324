"""What a customer pays per segment (``[prices]``), by destination country."""

from __future__ import annotations

from functools import lru_cache

from lynsms.config import PriceSettings
from lynsms.kit.money import to_units


class PriceList:
    def __init__(self, prices: PriceSettings) -> None:
        self._default = to_units(prices.default)
        self._countries = {code.upper(): to_units(p) for code, p in prices.countries.items()}
        self.mms_units = to_units(prices.mms)
        self.per_segment = lru_cache(maxsize=512)(self._per_segment)

    def _per_segment(self, country: str) -> int:
        return self._countries.get(country, self._default)

    def cost(self, country: str, segments: int) -> int:
        """Units of 1/10,000 of the currency for ``segments`` to ``country``."""
        return self.per_segment(country) * segments
