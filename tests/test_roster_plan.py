"""The roster plan on the demo company: binding constraint (seller capacity vs pipeline), SDR math and the
quota check by their formulas, versions and scenarios, the diff, the finance table, and the CLI's JSON."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from saleslead.cli.app import app
from saleslead.errors import InputError
from saleslead.format import money
from saleslead.roster.desk import RosterDiffRequest, RosterFinanceRequest, RosterPlanRequest, RosterScenarioRequest
from saleslead.roster.plan_text import reach_label
from saleslead.roster.scenarios import PLAN_KIND
from saleslead.seat import Seat
from saleslead.store.shelf import Shelf

from .conftest import DEMO_TODAY, copy_demo

GOAL = 30e6


def test_binding_constraint_follows_the_creation_requirement(demo_seat: Seat) -> None:
    plenty = {s: 1.0 for s in ("SMB", "Mid-Market", "Enterprise")}
    seller = demo_seat.roster_plan(RosterPlanRequest(period="FY2027", goal=GOAL, pipeline_creation_per_week=plenty))
    assert seller.binding_constraint == "seller_capacity"
    assert seller.total_hires > 0
    assert all(s.pipeline.source == "request" for s in seller.segments)
    huge = {s: 1e9 for s in ("SMB", "Mid-Market", "Enterprise")}
    piped = demo_seat.roster_plan(RosterPlanRequest(period="FY2027", goal=GOAL, pipeline_creation_per_week=huge))
    assert piped.binding_constraint == "pipeline"
    assert "the fix is creation" in piped.verdict
    for s in piped.segments:
        p = s.pipeline
        assert p.pipeline_gap_per_week == pytest.approx(1e9 - p.expected_creation_per_week)
        sdr = s.sdr
        assert sdr.sdr_pipeline_per_week == pytest.approx(1e9 * sdr.sdr_share + p.pipeline_gap_per_week)
        assert sdr.opportunities_per_week == pytest.approx(sdr.sdr_pipeline_per_week / sdr.average_sdr_amount)
        assert sdr.meetings_per_week == pytest.approx(sdr.opportunities_per_week / 0.5)
        assert sdr.sdr_hires is not None
        assert sdr.sdr_hires > 0


def test_plan_carries_its_inputs_and_quota_check(demo_seat: Seat) -> None:
    plan = demo_seat.roster_plan(RosterPlanRequest(period="FY2027", goal=GOAL, buffer=0.1))
    assert plan.goal == pytest.approx(GOAL)
    assert sum(s.goal for s in plan.segments) == pytest.approx(GOAL)
    assert len(plan.months) == 12 * len(plan.segments)
    for s in plan.segments:
        months = [m for m in plan.months if m.segment == s.segment]
        assert sum(m.capacity for m in months) == pytest.approx(s.capacity)
        assert sum(m.goal for m in months) == pytest.approx(s.goal_with_buffer)
        for m in months:
            i = m.inputs
            assert i.capacity == pytest.approx(i.ramped_equivalents * i.productivity * i.seasonality)
        assert s.capacity >= s.goal_with_buffer - 1e-6
        q = s.quota
        assert q.expected_from_quota == pytest.approx(q.period_quota * q.expected_attainment)
        assert q.consistent == (q.expected_from_quota >= q.goal)
        assert s.sdr.band.low < s.sdr.band.high
        assert s.sdr.band_verdict in {"SDR-heavy", "within", "SDR-light"}
    assert (plan.key, plan.version) == ("FY2027/base", 1)


def test_scenarios_versions_and_diff(demo_seat: Seat) -> None:
    request = RosterPlanRequest(period="FY2027", goal=GOAL)
    result = demo_seat.roster_scenarios(RosterScenarioRequest(plan=request))
    lines = {x.scenario: x for x in result.lines}
    assert lines["best"].total_hires <= lines["base"].total_hires <= lines["worst"].total_hires
    assert lines["best"].win_rate_delta_pts == 5.0
    assert lines["worst"].attrition_delta == pytest.approx(0.05)
    again = demo_seat.roster_plan(request.model_copy(update={"ramp_delta_months": 2.0}))
    assert again.version == 2
    diff = demo_seat.roster_diff(RosterDiffRequest(key_a="FY2027/base"))
    assert (diff.a.version, diff.b.version) == (1, 2)
    assert diff.total_hires == (lines["base"].total_hires, again.total_hires)
    assert sum(h.delta for h in diff.hires) == again.total_hires - lines["base"].total_hires
    best_worst = demo_seat.roster_diff(RosterDiffRequest(key_a="FY2027/best", key_b="FY2027/worst"))
    assert best_worst.changed


def test_finance_table_adds_up_to_the_plan(demo_seat: Seat) -> None:
    from saleslead.roster.config import RosterConfig

    config = RosterConfig(cost_per_seat_month={"AE": 15_000.0})
    plan = demo_seat.roster_plan(RosterPlanRequest(period="2027-Q2", goal=8e6, config=config))
    table = demo_seat.roster_finance(RosterFinanceRequest(key=plan.key))
    assert table.plan_version == plan.version
    assert table.total_expected_bookings == pytest.approx(sum(s.capacity for s in plan.segments))
    heads = sum(m.inputs.heads for m in plan.months)
    assert table.total_cost == pytest.approx(15_000.0 * heads)
    for s in plan.segments:
        assert sum(r.quota for r in table.rows if r.segment == s.segment) == pytest.approx(s.quota.period_quota)
    hires = [r for r in table.rows if r.status == "planned hire"]
    assert len({r.seat_id for r in hires}) == plan.total_hires
    csv = table.to_csv().splitlines()
    assert csv[0] == ",".join(table.columns)
    assert len(csv) == len(table.rows) + 1


def test_a_period_before_the_as_of_month_is_refused(demo_seat: Seat) -> None:
    with pytest.raises(InputError):
        demo_seat.roster_plan(RosterPlanRequest(period="2026-Q4", goal=GOAL))
    with pytest.raises(InputError, match="segment"):
        demo_seat.roster_plan(RosterPlanRequest(period="FY2027", goal_by_segment={"Public Sector": 1e6}))


def test_cli_plan_json_and_export(demo_store_file: Path, demo_shelf: Shelf, tmp_path: Path) -> None:
    store = str(copy_demo(demo_store_file, demo_shelf, tmp_path / "cli.duckdb"))
    runner = CliRunner()
    args = ["roster", "plan", "--period", "FY2027", "--goal", "30000000", "--as-of", "2026-11-24", "--store", store]
    out = runner.invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["binding_constraint"] in {"seller_capacity", "pipeline", "none"}
    assert payload["key"] == "FY2027/base"
    target = tmp_path / "finance.csv"
    out = runner.invoke(app, ["roster", "export-finance", "FY2027/base", "--store", store, "--out", str(target)])
    assert out.exit_code == 0, out.output
    assert target.read_text().startswith("month,quarter,seat_id")
    bad = runner.invoke(app, ["roster", "plan", "--period", "2026-Q3", "--store", store, "--json"])
    assert bad.exit_code == 2
    assert json.loads(bad.output)["error"]["type"] == "InputError"
    assert not math.isnan(payload["goal"])


def test_plan_reads_the_targets_desks_goal_and_creation(demo_seat: Seat) -> None:
    from saleslead.targets.desk import TargetsRequest

    targets = demo_seat.set_targets(TargetsRequest(period="2027-Q1", goal=8e6))
    plan = demo_seat.roster_plan(RosterPlanRequest(period="2027-Q1", buffer=0.1))
    assert plan.goal_source == f"the targets plan v{targets.version} of 2027-Q1"
    by_segment = {s.segment: s for s in targets.segments}
    for s in plan.segments:
        assert s.goal == pytest.approx(by_segment[s.segment].target)
        steady = by_segment[s.segment].creation.steady_per_week
        assert steady is not None
        assert s.pipeline.required_creation_per_week == pytest.approx(steady * 1.1)
        assert s.pipeline.source.startswith("targets plan v")


def test_hires_start_early_enough_to_ramp(demo_seat: Seat) -> None:
    # approved mid-September with a two-month lead time, hires can start in December — before the quarter
    plan = demo_seat.roster_plan(RosterPlanRequest(period="2027-Q1", as_of=date(2026, 9, 15), buffer=0.0, save=False))
    assert plan.total_hires > 0
    for s in plan.segments:
        assert s.hiring.earliest_start == "2026-12"
        yields = {y.month: y.bookings for y in s.hiring.yield_by_start}
        assert list(yields) == ["2026-12", "2027-01", "2027-02", "2027-03"]
        used = {h.month for h in s.hires}
        if not used:
            continue
        # the fewest hires take the months whose hires book the most in the period: the earliest ones
        assert min(yields[m] for m in used) >= max((v for m, v in yields.items() if m not in used), default=0.0)
        assert "2027-03" not in used
        assert s.reachable


def test_an_unreachable_goal_says_what_is_reachable_and_what_binds(demo_seat: Seat) -> None:
    plan = demo_seat.roster_plan(RosterPlanRequest(period="2027-Q1", goal=20e6, save=False))
    cap = plan.assumptions.max_hires_per_month
    for s in plan.segments:
        assert not s.reachable
        assert s.reach_limit in {"time", "hiring_rate"}
        starts = len(s.hiring.yield_by_start)
        # the seats the goal's run rate needs, not the cap in every month
        assert s.total_hires == min(s.hiring.run_rate_hires, cap * starts)
        assert s.hiring.run_rate_sellers is not None
        assert s.hiring.run_rate_hires == math.ceil(s.hiring.run_rate_sellers - s.hiring.heads_at_period_end - 1e-9)
        assert s.capacity <= s.most_reachable + 1e-6
        most = s.base_capacity + cap * sum(y.bookings for y in s.hiring.yield_by_start)
        assert s.most_reachable == pytest.approx(most)
        assert s.shortfall == pytest.approx(s.goal_with_buffer - s.capacity)
        assert s.capacity_vs_goal == pytest.approx(s.capacity / s.goal)
        assert reach_label(s) == f"{money(s.capacity)} ({s.capacity / s.goal:.0%} of goal; out of reach)"
        assert f"at most {money(s.most_reachable)} ({s.most_reachable / s.goal:.0%} of the" in plan.verdict
    assert any(s.total_hires < cap * len(s.hiring.yield_by_start) for s in plan.segments)
    assert "binds: time" in plan.verdict or "binds: the hiring rate" in plan.verdict


def test_sdr_seats_stay_within_what_the_aes_can_work(demo_seat: Seat) -> None:
    huge = {s: 1e9 for s in ("SMB", "Mid-Market", "Enterprise")}
    plan = demo_seat.roster_plan(RosterPlanRequest(period="FY2027", goal=GOAL, pipeline_creation_per_week=huge))
    for s in plan.segments:
        sdr = s.sdr
        assert sdr.binds == "ae_per_sdr_band"
        assert sdr.max_sdrs_in_band is not None
        assert sdr.seats_needed is not None
        assert sdr.sdr_hires == max(0, math.floor(sdr.max_sdrs_in_band - sdr.sdr_heads_at_period_end + 1e-9))
        assert sdr.sdr_hires is not None
        assert sdr.sdr_hires < sdr.seats_needed
        assert sdr.uncovered_per_week > 0
        assert "AEs can work at most" in sdr.binds_note
    default = demo_seat.roster_plan(RosterPlanRequest(period="2027-Q1", save=False))
    for s in default.segments:
        sdr = s.sdr
        assert sdr.binds in {"none", "pipeline_need", "ae_per_sdr_band"}
        assert sdr.sdr_hires is not None
        assert sdr.max_sdrs_in_band is not None
        assert sdr.sdr_heads_at_period_end + sdr.sdr_hires <= max(sdr.max_sdrs_in_band, sdr.sdr_heads_at_period_end) + 1
        if sdr.binds == "pipeline_need":
            assert sdr.sdr_hires == sdr.seats_needed
            assert sdr.ramped_sdrs_needed is not None
            assert sdr.sdr_heads_at_period_end + sdr.sdr_hires >= sdr.ramped_sdrs_needed


def test_as_of_past_the_data_measures_up_to_the_last_snapshot(demo_seat: Seat) -> None:
    later = date(2027, 12, 20)
    plan = demo_seat.roster_plan(RosterPlanRequest(period="2028-Q2", goal=GOAL / 4, as_of=later, save=False))
    assert plan.as_of == later
    assert plan.data_through == DEMO_TODAY  # the demo's snapshot, not a year of quarters nobody booked in
    now = demo_seat.roster_show().segments
    for s, shown in zip(plan.segments, now, strict=True):
        assert s.productivity.per_rep_month == pytest.approx(shown.productivity.per_rep_month)
        assert s.productivity.per_rep_month > 0
        assert s.base_capacity > 0
        assert s.reach_limit is None


def test_a_plan_stored_in_an_earlier_shape_is_refused_by_name(demo_seat: Seat) -> None:
    plan = demo_seat.roster_plan(RosterPlanRequest(period="2027-Q2", goal=8e6, save=False))
    old = plan.model_dump(mode="json")
    old.pop("data_through")
    for s in old["segments"]:
        s.pop("hiring")
        s["shortfall_share"] = 0.0
    demo_seat.records.put(PLAN_KIND, "old/base", old, author="earlier")
    with pytest.raises(InputError, match="stored by an earlier version"):
        demo_seat.roster_finance(RosterFinanceRequest(key="old/base"))


def test_the_plan_fits_100_columns_with_no_number_cut(
    demo_store_file: Path, demo_shelf: Shelf, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saleslead.cli import output

    store = str(copy_demo(demo_store_file, demo_shelf, tmp_path / "narrow.duckdb"))
    args = ["roster", "plan", "--period", "2027-Q1", "--as-of", "2026-11-24", "--store", store, "--no-save"]
    payload = json.loads(CliRunner().invoke(app, [*args, "--json"]).output)
    monkeypatch.setattr(output.console, "_width", 100)
    text = CliRunner().invoke(app, args).output
    assert "…" not in text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    for s in payload["segments"]:
        row = next(line for line in lines if line.strip().startswith(s["segment"]) and "$" in line)
        for value in (
            money(s["goal"]),
            money(s["capacity"]),
            money(s["most_reachable"]),
            f"{s['capacity_vs_goal']:.0%}",
        ):
            assert value in row, (s["segment"], value)
        assert row.rstrip().endswith(f" {s['sdr']['sdr_hires']}")
