"""The progress bar of a running backtest, by simulated trading day.

``Backtest(..., progress=None)`` (the default) shows it where someone is watching: in a Jupyter
kernel (a notebook widget, when ipywidgets is installed; text otherwise) and when standard error
is a terminal; ``progress=True`` always shows it, ``False`` never. It advances once per settled
trading day and shows the simulated date.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Any


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    get_ipython = getattr(shell, "get_ipython", None)
    instance = get_ipython() if callable(get_ipython) else None
    return type(instance).__name__ == "ZMQInteractiveShell"


class DayProgress:
    """A bar over ``total`` trading days; :meth:`advance` after each settled day."""

    def __init__(self, total: int, enabled: bool | None = None, label: str = "backtest") -> None:
        show = enabled if enabled is not None else in_notebook() or sys.stderr.isatty()
        self._bar: Any = None
        if show:
            import tqdm
            import tqdm.auto

            kind = tqdm.auto.tqdm if in_notebook() else tqdm.tqdm  # a widget in notebooks
            self._bar = kind(total=total, desc=label, unit="day", file=sys.stderr, leave=True)

    def advance(self, day: date) -> None:
        """One more trading day settled."""
        if self._bar is not None:
            self._bar.set_postfix_str(day.isoformat(), refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        """Remove the bar's hold on the terminal (the bar stays visible)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
