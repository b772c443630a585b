"""The hiring plan: fewest hires by hand on a tiny case, and on the demo company the plan provably meets the
goal with the buffer when capacity is re-simulated with the hires added."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from saleslead.evidence import Evidence
from saleslead.roster.capacity import simulate
from saleslead.roster.config import RosterConfig
from saleslead.roster.hiring import HiringWindow, SegmentInputs, plan_hires, plan_segment
from saleslead.roster.measures import measure_roster
from saleslead.roster.plan import RosterPlanRequest, build_roster_plan
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


def window(first: int, last: int, earliest: int, buffer: float, config: RosterConfig = QUIET) -> HiringWindow:
    return HiringWindow(first, first, last, earliest, buffer, config)


def test_fewest_hires_start_as_early_as_they_can() -> None:
    # no roster, 100 per hire-month, 3-month period: a January hire books 300, February 200, March 100.
    # Need 950 × 1.1 = 1045: four hires at least; early enough to ramp: all four in January (1,200).
    seg = SegmentInputs("SMB", [], FLAT, 100.0, flat_season(), 950.0)
    got = plan_segment(seg, window(JAN, JAN + 2, JAN, 0.1))
    assert got.hires == {JAN: 4}
    assert got.per_hire == {JAN: 300.0, JAN + 1: 200.0, JAN + 2: 100.0}
    assert got.capacity == pytest.approx(1200.0)
    assert got.reachable
    assert got.limit is None
    assert got.ceiling == pytest.approx(10 * 600.0)


def test_the_cap_spills_hires_into_the_next_month() -> None:
    config = QUIET.model_copy(update={"max_hires_per_month": 2})
    seg = SegmentInputs("SMB", [], FLAT, 100.0, flat_season(), 900.0)
    got = plan_segment(seg, window(JAN, JAN + 2, JAN, 0.0, config))
    assert got.hires == {JAN: 2, JAN + 1: 2}  # 600 + 400 ≥ 900; three would reach at most 800
    assert got.capacity == pytest.approx(1000.0)


def brute_force_fewest(per_hire: dict[int, float], need: float, cap: int) -> int:
    months = sorted(per_hire)
    best = None
    for counts in itertools.product(range(cap + 1), repeat=len(months)):
        if sum(c * per_hire[u] for c, u in zip(counts, months, strict=True)) >= need - 1e-9:
            best = sum(counts) if best is None else min(best, sum(counts))
    assert best is not None
    return best


@pytest.mark.parametrize("goal", [150.0, 640.0, 1_001.0, 1_790.0])
def test_fewest_is_exact_against_brute_force(goal: float) -> None:
    config = QUIET.model_copy(update={"max_hires_per_month": 3})
    ramp = FLAT.model_copy(
        update={
            "points": [
                RampPoint(tenure_month=m, factor=f, default=f, observed=None, rep_months=0)
                for m, f in ((1, 0.2), (2, 0.5), (3, 0.8), (4, 1.0))
            ]
        }
    )
    seg = SegmentInputs("SMB", [], ramp, 100.0, flat_season(), goal)
    got = plan_segment(seg, window(JAN, JAN + 5, JAN, 0.0, config))
    assert got.reachable
    assert sum(got.hires.values()) == brute_force_fewest(got.per_hire, goal, 3)
    assert got.capacity >= goal - 1e-6


def test_an_unreachable_goal_hires_the_run_rate_seats_and_names_time() -> None:
    # From December, with a two-month lead time, the first start is March: a March hire books 100 in Q1.
    seg = SegmentInputs("SMB", [12] * 3, FLAT, 100.0, flat_season(), 3_000.0)
    got = plan_segment(seg, window(JAN, JAN + 2, JAN + 2, 0.0))
    assert got.base == pytest.approx(900.0)
    assert got.ceiling == pytest.approx(900.0 + 10 * 100.0)  # the cap's ten hires in the only start month
    assert not got.reachable
    assert got.limit == "time"
    # the run rate: 3,000 ÷ (100 × 3 months) = 10 ramped sellers, 3 on the roster: 7 seats, not the cap's 10
    assert got.run_rate_sellers == pytest.approx(10.0)
    assert got.heads_at_end == pytest.approx(3.0)
    assert got.hires == {JAN + 2: 7}
    assert got.capacity == pytest.approx(900.0 + 700.0)


def test_an_unreachable_goal_bound_by_the_hiring_rate() -> None:
    config = QUIET.model_copy(update={"max_hires_per_month": 2})
    seg = SegmentInputs("SMB", [], FLAT, 100.0, flat_season(), 2_400.0)  # 8 seats; 8 January starts would do
    got = plan_segment(seg, window(JAN, JAN + 2, JAN, 0.0, config))
    assert got.ceiling == pytest.approx(2 * 600.0)
    assert got.limit == "hiring_rate"
    assert got.run_rate_hires == 8
    assert got.hires == {JAN: 2, JAN + 1: 2, JAN + 2: 2}  # the cap everywhere: still fewer than the run rate's 8


def test_no_productivity_is_named_not_planned() -> None:
    seg = SegmentInputs("SMB", [12] * 5, FLAT, 0.0, flat_season(), 1_000.0)
    got = plan_segment(seg, window(JAN, JAN + 2, JAN, 0.1))
    assert (got.hires, got.limit, got.reachable) == ({}, "no_productivity", False)


def test_no_hires_when_the_roster_already_reaches_the_goal() -> None:
    seg = SegmentInputs("SMB", [12, 12], FLAT, 100.0, flat_season(), 500.0)
    got = plan_hires([seg], window(JAN, JAN + 2, JAN, 0.1))["SMB"]
    assert got.hires == {}
    assert got.reachable


def test_demo_plan_meets_goal_with_buffer_on_resimulation(demo_seat: Seat) -> None:
    as_of = demo_seat.today()
    measures = measure_roster(demo_seat.store, as_of, RosterConfig(), demo_seat.settings)
    request = RosterPlanRequest(period="FY2027", goal=30e6, buffer=0.1, as_of=as_of, save=False)
    plan, work = build_roster_plan(request, measures, demo_seat.settings.fiscal_start_month)
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
