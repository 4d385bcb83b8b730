"""Money: CNY amounts are kept to the cent, as brokers keep them."""

from __future__ import annotations

import math


def round_money(value: float) -> float:
    """Round CNY to the cent, halves away from zero: 2.675 → 2.68, −1.005 → −1.01.

    The 1e-6 cent guard absorbs binary representation error (2.675 is stored as
    2.67499999…), so an amount rounds as its decimal writing says.
    """
    cents = math.floor(abs(value) * 100.0 + 0.5 + 1e-6)
    return math.copysign(cents / 100.0, value) if cents else 0.0
