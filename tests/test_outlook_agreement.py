"""One outlook, every face: the numbers of one (period, as-of) agree across forecast, coverage, defend, the
weekly briefing, the web API and MCP — equal, or apart by a labelled component (the same-point cross-check).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from mcp import Client

from saleslead.forecast.schemas import ForecastRequest
from saleslead.mcp_server import build_server
from saleslead.role.desk import RunRequest
from saleslead.seat import Seat
from saleslead.store.shelf import Shelf
from saleslead.targets.desk import CoverageRequest, DefendRequest
from saleslead.web import create_app

from .conftest import DEMO_TODAY, DEMO_WEEK

pytestmark = DEMO_WEEK  # the week's models: fitted once with the cadence files

PERIOD = "2026-Q4"
SINCE = date(2026, 11, 17)


def _line_agrees(line: Any, part: Any) -> None:
    """A coverage line reads its segment's (or the total's) outlook: same booked, expectations, range."""
    assert line.source == "outlook"
    assert line.closed_won == part.closed_won
    assert line.open_pipeline == part.open_in_period
    assert line.expected_from_pipeline == part.expected_in_period
    assert line.expected_from_new == part.expected_new
    assert line.expected_from_pipeline + line.expected_from_pull_ins == pytest.approx(part.expected_open, abs=1e-6)
    assert line.expected_bookings == part.mean
    assert (line.bookings_p10, line.bookings_p50, line.bookings_p90) == (part.p10, part.p50, part.p90)
    if line.remaining > 0:
        assert line.real_coverage == pytest.approx((part.mean - part.closed_won) / line.remaining)
        assert line.real_coverage_high == pytest.approx((part.p90 - part.closed_won) / line.remaining)
        # reported below required exactly when the outlook leaves the target unmet
        if line.required_coverage is not None:
            assert (line.real_coverage < 1) == (line.reported_coverage < line.required_coverage)
    # the same-point conversion stays beside it, labelled, with its difference
    check = line.same_point
    assert check is not None
    if check.expected_bookings is not None:
        assert check.difference == pytest.approx(part.mean - check.expected_bookings)


@pytest.mark.slow
def test_one_outlook_every_face(demo_seat: Seat) -> None:
    forecast = demo_seat.forecast(ForecastRequest(period=PERIOD, as_of=DEMO_TODAY, since=SINCE))
    coverage = demo_seat.coverage(CoverageRequest(period=PERIOD, as_of=DEMO_TODAY))
    _line_agrees(coverage, forecast.total)
    parts = {s.segment: s for s in forecast.segments}
    assert {line.segment for line in coverage.segments} <= set(parts)
    for line in coverage.segments:
        _line_agrees(line, parts[line.segment])

    defense = demo_seat.defend_targets(DefendRequest(period=PERIOD, as_of=DEMO_TODAY, weeks=2))
    assert defense.coverage == coverage
    latest = [w for w in defense.weekly if w.as_of == DEMO_TODAY and w.segment == coverage.segment]
    assert [w.real_coverage for w in latest] == [coverage.real_coverage]

    # the bridge of the forecast ends at the forecast, and its components add up
    bridge = forecast.bridge
    assert bridge is not None
    assert bridge.reconciles
    assert bridge.total.end.p50 == forecast.total.p50
    assert bridge.total.end.mean == forecast.total.mean
    earlier = demo_seat.forecast(ForecastRequest(period=PERIOD, as_of=SINCE))
    assert bridge.total.start.p50 == earlier.total.p50
    assert sum(s.p50 for s in bridge.total.steps) == pytest.approx(forecast.total.p50 - earlier.total.p50, abs=0.005)

    # the weekly briefing's call reads the same outlook and bridges from the week before
    briefing = demo_seat.run(RunRequest(as_of=DEMO_TODAY))
    call = briefing.call
    assert call is not None
    assert call.call == forecast.total.p50  # the seat's call is the outlook's P50
    assert (call.low, call.high) == (forecast.total.p10, forecast.total.p90)
    assert (call.booked, call.expected_open, call.expected_new) == (
        forecast.total.closed_won, forecast.total.expected_open, forecast.total.expected_new,
    )  # fmt: skip
    assert call.bridge_since == SINCE
    assert call.bridge_from == earlier.total.p50
    assert sum(x.p50 for x in call.bridge) == pytest.approx(forecast.total.p50 - earlier.total.p50, abs=0.005)
    targets = next(s for s in briefing.sections if s.id in ("coverage", "targets") and "coverage" in s.data)
    assert targets.data["coverage"]["expected_bookings"] == forecast.total.mean
    path = demo_seat.store.location
    demo_seat.close()

    # MCP's JSON is the same result (each tool call opens the store and closes it)
    server = build_server(path, clock=lambda: DEMO_TODAY)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with Client(server) as client:
            f = await client.call_tool("forecast", {"period": PERIOD, "as_of": str(DEMO_TODAY)})
            c = await client.call_tool("coverage", {"period": PERIOD, "as_of": str(DEMO_TODAY)})
            return f.structured_content, c.structured_content

    mcp_forecast, mcp_coverage = anyio.run(scenario)
    assert "total" in mcp_forecast, mcp_forecast
    assert mcp_forecast["total"] == forecast.total.model_dump(mode="json")
    assert mcp_coverage["expected_bookings"] == forecast.total.mean
    assert mcp_coverage["bookings_p50"] == forecast.total.p50

    # and so is the web API's
    app = create_app(path, token="t", clock=lambda: DEMO_TODAY)
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50123)) as client:
        web_forecast = client.get("/api/forecast", params={"period": PERIOD, "as_of": str(DEMO_TODAY)}).json()
        web_coverage = client.get("/api/coverage", params={"period": PERIOD, "as_of": str(DEMO_TODAY)}).json()
    assert web_forecast["total"] == forecast.total.model_dump(mode="json")
    assert web_coverage["expected_bookings"] == forecast.total.mean
    assert web_coverage == coverage.model_dump(mode="json")


@pytest.mark.slow
def test_a_bridge_keeps_for_its_start_the_fits_of_that_day(demo_seat: Seat) -> None:
    """A bridge's earlier forecast is cut from the later deal book, and its model and calibration are kept as of
    its start, where the forecast of that day (and the targets' weekly coverage) finds them: they must be the
    fits made on the book as of that day. Both seats fit from nothing (answers in memory only)."""
    bridged, fresh = Seat(demo_seat.store, demo_seat.settings), Seat(demo_seat.store, demo_seat.settings)
    for seat in (bridged, fresh):
        seat.context.shelf = Shelf(None)
        seat.clock = demo_seat.clock
    bridged.forecast(ForecastRequest(period=PERIOD, as_of=DEMO_TODAY, since=SINCE, scenarios=1_000))
    hits = bridged.context.answers.hits
    kept = bridged.forecast(ForecastRequest(period=PERIOD, as_of=SINCE, scenarios=1_000))
    assert bridged.context.answers.hits == hits + 2  # the model and the calibration the bridge kept
    assert kept == fresh.forecast(ForecastRequest(period=PERIOD, as_of=SINCE, scenarios=1_000))
