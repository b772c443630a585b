"""Settings per store and engagement: a February fiscal year is honoured by every mandate and every face."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import anyio
from mcp import Client

from saleslead.config import ConfigSetRequest
from saleslead.forecast.schemas import ForecastRequest
from saleslead.mcp_server import build_server
from saleslead.periods import Period
from saleslead.roster.plan import RosterPlanRequest
from saleslead.seat import Seat, open_seat
from saleslead.targets.desk import CoverageRequest, TargetsRequest
from saleslead.web import create_app

FEB = date(2026, 11, 1), date(2027, 2, 1)  # the fourth quarter of the fiscal year starting 1 Feb 2026


def test_a_february_fiscal_year_through_every_mandate(demo_seat: Seat) -> None:
    calendar = demo_seat.coverage(CoverageRequest(period="2026-Q4", goal=1_000_000))  # Oct 1 .. as of Nov 24
    demo_seat.config_set(ConfigSetRequest(key="fiscal_start_month", value="2"))
    assert demo_seat.forecast_desk.settings.fiscal_start_month == 2

    forecast = demo_seat.forecast(ForecastRequest(scenarios=200))
    assert forecast.period == "2027-Q4"
    quarter = Period.parse(forecast.period, 2)
    assert (quarter.start, quarter.end) == FEB

    coverage = demo_seat.coverage(CoverageRequest(period="2027-Q4", goal=1_000_000))
    assert coverage.period == "2027-Q4"
    # the same day, the quarter began on Nov 1 rather than Oct 1: October's wins are not in it
    assert 0 < coverage.closed_won < calendar.closed_won

    plan = demo_seat.set_targets(TargetsRequest(period="2027-Q4", goal=1_000_000))
    assert plan.period == "2027-Q4"
    assert plan.total.closed_won == coverage.closed_won

    # hires are planned for a quarter not begun: the next, Feb .. Apr 2027 (the calendar's Q1 is Jan .. Mar)
    roster = demo_seat.roster_plan(RosterPlanRequest(period="2028-Q1", goal=1_000_000, save=False))
    assert roster.period == "2028-Q1"
    months = sorted({m.month for m in roster.months})
    assert months
    assert months[-1].startswith("2027-04"), months


def test_stored_settings_reach_every_face(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with open_seat(path) as seat:
        view = seat.config_set(ConfigSetRequest(key="guard.stretch", value="0.25"))
        assert view.version == 1
        seat.config_set(ConfigSetRequest(key="fiscal_start_month", value="2"))
    with open_seat(path) as seat:  # the CLI, the cadence: open_seat reads the stored settings
        assert (seat.settings.fiscal_start_month, seat.settings.guard.stretch) == (2, 0.25)
        assert seat.period(as_of=date(2026, 1, 15)).name == "2026-Q4"
        assert seat.config_show().version == 2
    with open_seat(path, engagement="other") as seat:  # per engagement
        assert seat.settings.fiscal_start_month == 1
    app = create_app(path, token="t" * 32)
    assert app.state.config.settings.fiscal_start_month == 2

    async def shown() -> object:
        async with Client(build_server(path)) as client:
            return await client.call_tool("config_show", {})

    result = anyio.run(shown)
    assert result.structured_content["settings"]["fiscal_start_month"] == 2  # type: ignore[attr-defined]
