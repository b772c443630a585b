"""The hiring plan: fewest hires by hand on a tiny case, and on the demo company the plan provably meets the
goal with the buffer when capacity is re-simulated with the hires added."""

from __future__ import annotations

from datetime import date

import pytest

from saleslead.evidence import Evidence
from saleslead.roster.capacity import simulate
from saleslead.roster.config import RosterConfig
from saleslead.roster.hiring import SegmentInputs, plan_hires
from saleslead.roster.measures import measure_roster
from saleslead.roster.plan import RosterPlanRequest, build_plan
from saleslead.roster.ramp import RampPoint, RampProfile
from saleslead.roster.seasonality import flat_season
from saleslead.roster.seats import month_index
from saleslead.seat import Seat

JAN = 2027 * 12
FLAT = RampProfile(
    segment="SMB", points=[RampPoint(tenure_month=1, factor=1.0, default=1.0, observed=None, rep_months=0)],
    reference_per_rep_month=0.0, reps=0, ramped_at_month=1, source="default",
    evidence=Evidence(method="hand", sample_size=0, thin=True),
)  # fmt: skip
QUIET = RosterConfig(attrition_annual=0.0, washout_rate=0.0, washout_months=0, backfill=False)


def test_fewest_hires_by_hand() -> None:
    # no roster, 100 per hire-month, 3-month period: a January hire books 300, February 200, March 100.
    # Need 950 × 1.1 = 1045: four hires at least; the latest four that reach it are 3 in January + 1 in February.
    seg = SegmentInputs("SMB", [], FLAT, 100.0, flat_season(), 950.0)
    solution = plan_hires([seg], JAN, JAN, JAN + 2, JAN, 0.1, QUIET)
    assert solution.hires["SMB"] == {JAN: 3, JAN + 1: 1}
    assert sum(m.capacity for m in solution.months["SMB"]) == pytest.approx(1100.0)
    assert solution.shortfall["SMB"] == 0.0


def test_lead_time_and_a_goal_out_of_reach() -> None:
    config = QUIET.model_copy(update={"max_hires_per_month": 1})
    seg = SegmentInputs("SMB", [], FLAT, 100.0, flat_season(), 1000.0)
    solution = plan_hires([seg], JAN, JAN, JAN + 2, JAN + 1, 0.0, config)  # earliest start: February
    assert solution.hires["SMB"] == {JAN + 1: 1, JAN + 2: 1}
    assert solution.shortfall["SMB"] == pytest.approx(1 - 300 / 1000)


def test_no_hires_when_the_roster_already_reaches_the_goal() -> None:
    seg = SegmentInputs("SMB", [12, 12], FLAT, 100.0, flat_season(), 500.0)
    solution = plan_hires([seg], JAN, JAN, JAN + 2, JAN, 0.1, QUIET)
    assert solution.hires["SMB"] == {}
    assert solution.outcome is None


def test_demo_plan_meets_goal_with_buffer_on_resimulation(demo_seat: Seat) -> None:
    as_of = demo_seat.today()
    measures = measure_roster(demo_seat.store, as_of, RosterConfig(), demo_seat.settings)
    request = RosterPlanRequest(period="FY2027", goal=30e6, buffer=0.1, as_of=as_of, save=False)
    plan, work = build_plan(request, measures, demo_seat.settings.fiscal_start_month)
    assert plan.total_hires > 0
    first = month_index(as_of) + 1
    period_first, period_last = month_index(date(2027, 1, 1)), month_index(date(2027, 12, 1))
    for seg in plan.segments:
        hires = work.hires[seg.segment]
        tenures = [s.tenure_months for s in measures.active(seg.segment, "AE")]
        m = measures.segments[seg.segment]
        again = simulate(
            seg.segment, tenures, first, period_last, hires, work.ramps[seg.segment], m.productivity.per_rep_month,
            measures.season, work.config,
        )  # fmt: skip
        capacity = sum(x.capacity for x in again[period_first - first :])
        assert capacity == pytest.approx(seg.capacity)
        assert capacity >= seg.goal * 1.1 - 1e-6
        assert min(hires, default=period_last) >= month_index(as_of) + work.config.hiring_lead_time_months + 1
        if hires:  # fewest: without the latest hire the goal is missed
            fewer = dict(hires)
            latest = max(fewer)
            fewer[latest] -= 1
            short = simulate(
                seg.segment, tenures, first, period_last, fewer, work.ramps[seg.segment],
                m.productivity.per_rep_month, measures.season, work.config,
            )  # fmt: skip
            assert sum(x.capacity for x in short[period_first - first :]) < seg.goal * 1.1
