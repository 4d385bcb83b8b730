"""Prices on an instrument's tick grid, exactly.

Binary floats cannot hold most decimal prices: ``3921.0 + 0.2`` is ``3921.2000000000003``, not
the ``3921.2`` a CSV file or an exchange would write. A :class:`PriceGrid` gives the grid prices
as the floats nearest their decimal values — the same floats ``float("3921.2")`` gives — so that
synthesized quotes, limit prices and fills compare equal to prices read from data and print
without noise.

>>> grid = PriceGrid(0.2)
>>> grid.around(3921.0)
(3920.8, 3921.2)
>>> grid.snap(3921.0 + 0.2)
3921.2
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Final

CACHE_LIMIT: Final = 100_000
"""Distinct prices a grid remembers before it starts over (bounds memory on long runs)."""
ON_GRID_TOLERANCE: Final = 1e-9
"""A price lies on the grid when its tick count is within this fraction of a whole number
(relative to the count, at least 1): float noise, never a real price difference — at 20,000
ticks (IF near 4,000) the window is 0.00002 tick. Limit prices are held to it."""
DATA_TOLERANCE: Final = 1e-3
"""Prices read from data are on the grid within this many ticks, or within single precision's
rounding (2⁻²³ of the tick count) where that is more: data stored as float32 (3921.2 as
3921.199951171875) still quotes exact grid prices around it, while a genuinely off-grid price
(forward-adjusted data) is off by far more."""
_FLOAT32_EPSILON: Final = 2.0**-23


class PriceGrid:
    """The price grid of one instrument: multiples of ``tick``.

    Args:
        tick: the price tick, e.g. ``0.2`` (IF), ``0.02`` (au), ``0.01`` (A-shares).

    A price off the grid, NaN or infinite is left as it is: :meth:`around` then adds and
    subtracts the tick in float arithmetic.
    """

    __slots__ = ("_decimals", "_snapped", "known", "tick")

    def __init__(self, tick: float) -> None:
        if not (math.isfinite(tick) and tick > 0):
            raise ValueError(f"price tick must be a positive number, was {tick!r}")
        self.tick = tick
        exponent = Decimal(repr(tick)).normalize().as_tuple().exponent
        # digits after the decimal point of the tick (0 for 1, 5, 10 ...)
        self._decimals = max(0, -exponent) if isinstance(exponent, int) else 0
        self.known: dict[float, tuple[float, float]] = {}
        """:meth:`around`'s answers so far, by price (hot loops read it before calling)."""
        self._snapped: dict[float, float] = {}  # on_grid()'s answers for prices on the grid

    def ticks(self, price: float) -> int | None:
        """How many ticks ``price`` is, or None if it is off the grid (beyond float noise,
        :data:`ON_GRID_TOLERANCE`) or not finite."""
        return self._whole_ticks(price, ON_GRID_TOLERANCE, ON_GRID_TOLERANCE)

    def data_ticks(self, price: float) -> int | None:
        """:meth:`ticks` for a price read from data: within :data:`DATA_TOLERANCE` ticks."""
        return self._whole_ticks(price, _FLOAT32_EPSILON, DATA_TOLERANCE)

    def _whole_ticks(self, price: float, relative: float, least: float) -> int | None:
        """The tick count of ``price`` if within ``max(least, relative × count)`` of a whole
        number, else None (also when not finite)."""
        if not math.isfinite(price):
            return None
        ticks = price / self.tick
        nearest = round(ticks)
        return nearest if abs(ticks - nearest) <= max(least, relative * abs(ticks)) else None

    def price(self, ticks: int) -> float:
        """The grid price ``ticks × tick``: the float nearest its decimal value."""
        return round(ticks * self.tick, self._decimals)

    def on_grid(self, price: float) -> float | None:
        """The exact grid price of ``price`` if it lies on the grid up to float noise (see
        :meth:`ticks`), else None. Remembered per price: limit prices repeat."""
        found = self._snapped.get(price)
        if found is None:
            ticks = self.ticks(price)
            if ticks is None:
                return None
            found = self.price(ticks)
            if len(self._snapped) >= CACHE_LIMIT:
                self._snapped.clear()
            self._snapped[price] = found
        return found

    def snap(self, price: float) -> float:
        """``price`` moved onto the grid if it lies on it up to float noise, else unchanged."""
        snapped = self.on_grid(price)
        return price if snapped is None else snapped

    def around(self, price: float) -> tuple[float, float]:
        """``(price − tick, price + tick)`` for a price read from data: exact grid prices when
        ``price`` is on the grid (within :data:`DATA_TOLERANCE`)."""
        found = self.known.get(price)
        if found is None:
            ticks = self.data_ticks(price)
            if ticks is None:
                found = (price - self.tick, price + self.tick)
            else:
                found = (self.price(ticks - 1), self.price(ticks + 1))
            if len(self.known) >= CACHE_LIMIT:
                self.known.clear()  # in place: feeds hold this dict
            self.known[price] = found
        return found
