"""The simulated clock: current time and step number, injected into whatever needs "now".

Engine code never reads the wall clock. The merger's step sets ``now_ns``; every
``wait_update()`` increments ``step``, which is how ``is_changing`` tells what changed in the
last update.
"""

from __future__ import annotations

from datetime import datetime

from .times import to_datetime


class SimClock:
    """Simulated time (int ns) and the number of the current update step."""

    __slots__ = ("now_ns", "step")

    def __init__(self, now_ns: int) -> None:
        self.now_ns = now_ns
        self.step = 0

    @property
    def now(self) -> datetime:
        """Current simulated time, timezone-aware, Asia/Shanghai."""
        return to_datetime(self.now_ns)
