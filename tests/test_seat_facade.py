"""The seat facade: desks combine without stepping on each other, and the seat opens and closes cleanly."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

from saleslead.context import SeatContext
from saleslead.seat import Seat, open_seat


def test_no_two_desks_define_the_same_name() -> None:
    """A name defined by two desks would silently hide one of them behind the other in the seat's MRO."""
    owners: dict[str, list[str]] = defaultdict(list)
    for desk in Seat.__mro__[1:]:
        if desk in (SeatContext, object):
            continue
        for name in vars(desk):
            if not name.startswith("__"):
                owners[name].append(desk.__name__)
    clashes = {name: desks for name, desks in owners.items() if len(desks) > 1}
    assert clashes == {}


def test_period_follows_the_fiscal_calendar(tmp_path: Path) -> None:
    from saleslead.settings import Settings

    with open_seat(tmp_path / "s.duckdb", settings=Settings(fiscal_start_month=2)) as seat:
        seat.clock = lambda: date(2026, 1, 15)
        assert seat.period().name == "2026-Q4"
        assert seat.period("2026-Q1").start == date(2025, 2, 1)
        assert seat.period(None, date(2025, 2, 1)).name == "2026-Q1"
