"""What a serial's buffer reports as changed, step by step (backtest/frame.py)."""

from __future__ import annotations

from backtest.frame import FIRST_LIVE_ID, KlineFrame, SerialBuffer
from backtest.store import KLINE_COLUMNS


def bar(minute: int) -> tuple[float, ...]:
    return (minute * 60_000_000_000, *([float(minute)] * (len(KLINE_COLUMNS) - 1)))


def test_two_history_extensions_in_a_row_keep_each_steps_changes() -> None:
    buffer = SerialBuffer("IF2003.IF", 60, keep=2)
    buffer.load_history([bar(10), bar(11)], step=1)  # the subscription, delivered in step 1
    buffer.append(bar(12), step=2)  # a bar opens in step 2
    new, held = FIRST_LIVE_ID, FIRST_LIVE_ID - 2  # history takes the ids below FIRST_LIVE_ID

    # step 2: a longer view is asked for; its older rows are delivered in step 3
    buffer.load_history([bar(8), bar(9)], step=3)
    assert buffer.changed(2, new, "datetime") and not buffer.changed(2, held - 1)
    assert buffer.changed(3, held - 1) and buffer.changed(3, held - 2)
    assert not buffer.changed(3, new) and not buffer.changed(3, held)

    # step 3 (the delivery): asked for again, delivered in step 4
    buffer.load_history([bar(7)], step=4)
    assert buffer.changed(3) and buffer.changed(3, held - 2)
    assert not buffer.changed(3, held - 3)  # the newest extension's row: step 4
    assert buffer.changed(4, held - 3) and not buffer.changed(4, held - 1)
    assert [row[1] for row in buffer.rows] == [7.0, 8.0, 9.0, 10.0, 11.0, 12.0]

    # step 5 asks for history that does not exist: the serial changes in step 6, no row does
    buffer.load_history([], step=6)
    assert buffer.changed(6) and not buffer.changed(6, held - 3)
    assert sorted(buffer.history) == [6]  # older delivery steps are forgotten


def test_a_view_reports_a_field_changed_when_prepended_rows_reach_into_it() -> None:
    buffer = SerialBuffer("IF2003.IF", 60, keep=2)
    buffer.load_history([bar(10)], step=1)
    short, long = KlineFrame(buffer, 1), KlineFrame(buffer, 3)

    buffer.load_history([bar(8), bar(9)], step=3)

    assert long.changed(3, "close") and not short.changed(3, "close")
    assert short.changed(3) and long.changed(3)
    assert long.to_numpy("close").tolist() == [8.0, 9.0, 10.0]
