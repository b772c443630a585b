"""One goal and one attainment per segment, wherever they are shown: the roster plan without a goal takes the
period's target (the same the weekly briefing staffs against and the dashboard plans), a total goal is split
in the same proportions, and the CLI, the web page and the plan's quota check show one attainment."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from saleslead.cli import output
from saleslead.cli.app import app
from saleslead.format import money
from saleslead.role.staffing import brief_roster
from saleslead.role.week import Week
from saleslead.roster.desk import RosterPlanRequest
from saleslead.roster.goals import period_goal
from saleslead.roster.plan_text import reach_label
from saleslead.seat import Seat
from saleslead.store.shelf import Shelf
from saleslead.targets.coverage import quota_targets
from saleslead.targets.desk import TargetsRequest
from saleslead.web import create_app

from .conftest import DEMO_TODAY, copy_demo


def _week(seat: Seat) -> Week:
    return seat.fleet_desk._week(DEMO_TODAY, writes=False)


def test_plan_defaults_to_the_periods_target_the_briefing_uses(demo_seat: Seat) -> None:
    q1, q4 = demo_seat.period("2027-Q1"), demo_seat.period("2026-Q4")
    assert quota_targets(demo_seat.store, q1) == {}  # no 2027-Q1 quota in the demo: Q4's is carried forward
    carried = quota_targets(demo_seat.store, q4)
    plan = demo_seat.roster_plan(RosterPlanRequest(period="2027-Q1", save=False))
    assert plan.goal_source == "Σ quota of 2026-Q4 carried forward: none set for 2027-Q1 yet"
    assert {s.segment: s.goal for s in plan.segments} == pytest.approx(carried)
    resolved = period_goal(demo_seat.store, demo_seat.records, q1)
    assert resolved is not None
    assert resolved.by_segment == pytest.approx(carried)
    two_out = period_goal(demo_seat.store, demo_seat.records, demo_seat.period("2027-Q2"))
    assert two_out is not None  # the latest target, carried forward over the quarter without one
    assert two_out.source == "Σ quota of 2026-Q4 carried forward: none set for 2027-Q2 yet"
    assert two_out.by_segment == pytest.approx(carried)

    outcome = brief_roster(demo_seat.fleet_desk.mandates, _week(demo_seat))  # the weekly briefing's staffing section
    data = outcome.section.data
    assert data["period"] == "2027-Q1"
    assert data["goal_source"] == plan.goal_source
    assert {s["segment"]: s["goal"] for s in data["segments"]} == pytest.approx(carried)
    table = outcome.section.text.split("| segment |")[1]
    for segment, goal in carried.items():
        assert f"| {segment} | ${goal / 1e6:.2f}M |" in table
    for s in plan.segments:  # the planned capacity labelled as a share of the goal, not of the gap
        assert f"| {reach_label(s)} |" in table
        assert reach_label(s).startswith(f"{money(s.capacity)} ({s.capacity / s.goal:.0%} of goal")
    for flag in outcome.flags:
        s = next(x for x in plan.segments if flag.key.endswith(x.segment))
        if not s.reachable:
            assert f"at most {money(s.most_reachable)} is reachable ({s.most_reachable / s.goal:.0%} of the goal)" in (
                flag.message
            )


def test_a_total_goal_is_split_like_the_periods_target(demo_seat: Seat) -> None:
    carried = quota_targets(demo_seat.store, demo_seat.period("2026-Q4"))
    whole = sum(carried.values())
    plan = demo_seat.roster_plan(RosterPlanRequest(period="2027-Q1", goal=2 * whole, save=False))
    assert plan.goal_source.startswith("given, split like Σ quota of 2026-Q4")
    assert {s.segment: s.goal for s in plan.segments} == pytest.approx({k: 2 * v for k, v in carried.items()})


def test_a_saved_targets_plan_wins_and_is_carried_forward(demo_seat: Seat) -> None:
    saved = demo_seat.set_targets(TargetsRequest(period="2027-Q1", goal=9e6))
    plan = demo_seat.roster_plan(RosterPlanRequest(period="2027-Q1", save=False))
    assert plan.goal_source == f"the targets plan v{saved.version} of 2027-Q1"
    assert {s.segment: s.goal for s in plan.segments} == pytest.approx({s.segment: s.target for s in saved.segments})
    later = demo_seat.roster_plan(RosterPlanRequest(period="2027-Q2", save=False))
    assert (
        later.goal_source == f"the targets plan v{saved.version} of 2027-Q1 carried forward: none set for 2027-Q2 yet"
    )
    assert later.goal == pytest.approx(9e6)


def test_readme_plan_command_runs_without_a_goal(demo_store_file: Path, demo_shelf: Shelf, tmp_path: Path) -> None:
    store = copy_demo(demo_store_file, demo_shelf, tmp_path / "cli.duckdb")
    args = ["roster", "plan", "--period", "2027-Q1", "--as-of", DEMO_TODAY.isoformat(), "--store", str(store)]
    out = CliRunner().invoke(app, [*args, "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["request"]["goal"] is None
    assert payload["goal"] == pytest.approx(sum(s["goal"] for s in payload["segments"]))
    assert payload["goal"] > 0
    assert payload["goal_source"].startswith("Σ quota of 2026-Q4")
    refused = CliRunner().invoke(app, ["roster", "plan", "--period", "2026-Q3", "--store", str(store), "--json"])
    assert refused.exit_code == 2
    assert json.loads(refused.output)["error"]["type"] == "InputError"


def test_one_attainment_per_segment_in_cli_web_and_quota_check(
    demo_store_file: Path, demo_shelf: Shelf, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output.console, "_width", 200)  # one table row per segment
    store = copy_demo(demo_store_file, demo_shelf, tmp_path / "att.duckdb")
    runner = CliRunner()
    shown = runner.invoke(app, ["roster", "show", "--as-of", DEMO_TODAY.isoformat(), "--store", str(store), "--json"])
    assert shown.exit_code == 0, shown.output
    view = json.loads(shown.output)
    text = runner.invoke(app, ["roster", "show", "--as-of", DEMO_TODAY.isoformat(), "--store", str(store)]).output
    web = TestClient(
        create_app(store, token="t", clock=lambda: DEMO_TODAY), base_url="http://127.0.0.1", client=("127.0.0.1", 50123)
    )
    page = web.get("/roster", headers={"accept": "text/html"}).text
    plan = web.get("/api/roster/plan", params={"period": "2027-Q1"}).json()
    quota = {s["segment"]: s["quota"]["expected_attainment"] for s in plan["segments"]}
    for s in view["segments"]:
        a = s["attainment"]
        assert a["overall"] is not None
        label = f"{a['overall']:.0%}"
        row = next(line for line in text.splitlines() if s["segment"] in line and "$" in line)
        assert label in row
        cells = re.search(rf"<tr><td>{s['segment']}</td>(.*?)</tr>", page, re.S)
        assert cells is not None
        assert f">{label} <" in cells.group(1), s["segment"]
        assert quota[s["segment"]] == pytest.approx(a["overall"])


def test_the_dashboard_plans_the_periods_target_when_no_goal_is_typed(
    demo_store_file: Path, demo_shelf: Shelf, tmp_path: Path
) -> None:
    store = copy_demo(demo_store_file, demo_shelf, tmp_path / "web.duckdb")
    web = TestClient(
        create_app(store, token="t", clock=lambda: DEMO_TODAY), base_url="http://127.0.0.1", client=("127.0.0.1", 50123)
    )
    api = web.get("/api/roster/plan", params={"period": "2027-Q1"}).json()
    assert api["goal_source"] == "Σ quota of 2026-Q4 carried forward: none set for 2027-Q1 yet"
    page = web.get("/roster", params={"period": "2027-Q1", "goal": ""}, headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "plan for 2027-Q1" in page.text
    assert "Σ quota of 2026-Q4 carried forward" in page.text
    assert 'name="goal" value="' not in page.text.split('id="save-plan-form"')[1].split("</form>")[0]
    for s in api["segments"]:
        assert f"{s['capacity_vs_goal']:.0%} of goal" in page.text
    bad = web.get("/roster", params={"period": "2027-Q1", "goal": "lots"}, headers={"accept": "application/json"})
    assert bad.status_code == 422
