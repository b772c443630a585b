"""The seat facade: composed of desks over one context, and it opens and closes cleanly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from saleslead.context import Desk
from saleslead.data.desk import DataDesk
from saleslead.forecast.desk import ForecastDesk
from saleslead.role.desk import FleetDesk
from saleslead.roster.desk import RosterDesk
from saleslead.seat import Seat, open_seat
from saleslead.strategy.desk import StrategyDesk
from saleslead.targets.desk import TargetsDesk


def test_the_seat_is_composed_not_inherited(tmp_path: Path) -> None:
    """Each desk is its own object over the one shared context; the seat only delegates to them."""
    assert Seat.__mro__ == (Seat, object)
    desks = (DataDesk, StrategyDesk, TargetsDesk, RosterDesk, ForecastDesk, FleetDesk)
    for desk in desks:
        assert desk.__mro__ == (desk, Desk, object), desk
    with open_seat(tmp_path / "s.duckdb") as seat:
        found = [seat.data_desk, seat.strategy_desk, seat.targets_desk, seat.roster_desk, seat.forecast_desk]
        found.append(seat.fleet_desk)
        assert [type(d) for d in found] == list(desks)
        assert all(d.context is seat.context for d in found)
        assert seat.fleet_desk.data is seat.data_desk
        assert seat.fleet_desk.mandates.forecast is seat.forecast_desk
        assert seat.meeting_desk.forecast is seat.forecast_desk  # the grid shares the forecast's outlook
        assert seat.meeting_desk.context is seat.context
        seat.clock = lambda: date(2026, 3, 1)
        assert seat.forecast_desk.today() == date(2026, 3, 1)  # the clock is shared, not copied


def test_the_forecast_desk_keeps_its_own_outlook(tmp_path: Path) -> None:
    with open_seat(tmp_path / "s.duckdb") as seat:
        assert "_forecast_outlooks" not in vars(seat)
        assert seat.forecast_desk._outlooks == {}


def test_period_follows_the_fiscal_calendar(tmp_path: Path) -> None:
    from saleslead.settings import Settings

    with open_seat(tmp_path / "s.duckdb", settings=Settings(fiscal_start_month=2)) as seat:
        seat.clock = lambda: date(2026, 1, 15)
        assert seat.period().name == "2026-Q4"
        assert seat.period("2026-Q1").start == date(2025, 2, 1)
        assert seat.period(None, date(2025, 2, 1)).name == "2026-Q1"


def test_the_package_root_exports_the_facade() -> None:
    import saleslead

    assert saleslead.Seat is Seat
    assert saleslead.open_seat is open_seat
    assert {"Seat", "open_seat"} <= set(saleslead.__all__)
