"""Targets: goal → per-segment plan, creation back-solved by hand, saved as versioned records; the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from saleslead.cli.app import app
from saleslead.errors import InputError, NotFoundError
from saleslead.funnel import creation_yield
from saleslead.periods import Period
from saleslead.seat import Seat, open_seat
from saleslead.targets.creation import back_solve_creation
from saleslead.targets.desk import TargetsRequest, TargetsShowRequest

from .funnel_fixture import AS_OF, build


@pytest.fixture
def seat(tmp_path: Path) -> Iterator[Seat]:
    build(tmp_path / "f.duckdb").close()
    with open_seat(tmp_path / "f.duckdb") as opened:
        yield opened


def test_creation_back_solve_by_hand(seat: Seat) -> None:
    (measured,) = creation_yield(seat.store, AS_OF, horizon_weeks=12)
    period = Period.parse("2025-Q2")
    plan = back_solve_creation(measured, period, AS_OF, target=1100, remaining=1000, expected_from_pipeline=200)
    y = measured.cumulative
    # steady: 1100 a quarter of 13 weeks at the measured yield Y∞
    assert plan.steady_per_week == pytest.approx(1100 / (13 * y[-1]))
    # catch-up: 800 still needed from new pipeline; 11 whole weeks from 11 Apr to 30 Jun; week k lands Y(11-k)
    reach = sum(y[w - 1] for w in range(1, 12))
    assert plan.needed_from_new == 800
    assert plan.catch_up_per_week == pytest.approx(800 / reach)
    assert plan.deals_per_week == pytest.approx(plan.steady_per_week / 100)  # typical deal 100
    first = plan.weekly[0]
    assert first.week_start == date(2025, 4, 11)
    assert first.required == pytest.approx(plan.steady_per_week + plan.catch_up_per_week)
    assert plan.weekly[-1].catch_up == 0.0
    assert plan.weekly[-1].week_start < date(2025, 10, 1)


def test_set_targets_saves_versions(seat: Seat) -> None:
    plan = seat.set_targets(TargetsRequest(period="2025-Q2", segments={"SMB": 1100.0}, as_of=AS_OF, author="vp-sales"))
    assert (plan.version, plan.author, plan.goal, plan.goal_source) == (1, "vp-sales", 1100, "segments")
    (smb,) = plan.segments
    assert (smb.target, smb.closed_won, smb.required_bookings) == (1100, 100, 1000)
    assert smb.pipeline_required_now == pytest.approx(1000)  # required coverage 1.0× of 1000
    assert [s.stage for s in smb.stage_expectations] == ["Qualify", "Propose"]
    assert plan.inputs["targets"] == {"SMB": 1100.0}
    again = seat.set_targets(TargetsRequest(period="2025-Q2", goal=1500.0, as_of=AS_OF, author="cro"))
    assert again.version == 2
    assert again.goal_source == "given"
    assert again.segments[0].target == pytest.approx(1500)  # split by quota share: all SMB
    shown = seat.targets(TargetsShowRequest(period="2025-Q2"))
    assert [(p.version, p.author) for p in shown.plans] == [(1, "vp-sales"), (2, "cro")]
    assert [p.plan.goal for p in seat.targets().plans] == [1500]


def test_bad_targets_are_refused(seat: Seat) -> None:
    with pytest.raises(InputError):
        seat.set_targets(TargetsRequest(period="2025-Q2", goal=1000.0, segments={"SMB": 900.0}, as_of=AS_OF))
    with pytest.raises(InputError):
        seat.set_targets(TargetsRequest(period="2025-Q5", goal=1000.0, as_of=AS_OF))
    with pytest.raises(NotFoundError):
        seat.targets(TargetsShowRequest(period="2024-Q1"))


def test_cli_targets_and_coverage(tmp_path: Path) -> None:
    build(tmp_path / "f.duckdb").close()
    store = ["--store", str(tmp_path / "f.duckdb")]
    runner = CliRunner()
    out = runner.invoke(
        app,
        ["targets", "set", "--period", "2025-Q2", "--segment", "SMB=1100", "--as-of", "2025-04-10", "--json", *store],
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["segments"][0]["target"] == 1100
    out = runner.invoke(app, ["coverage", "--period", "2025-Q2", "--as-of", "2025-04-10", "--json", *store])
    data = json.loads(out.stdout)
    assert data["target_source"] == "plan v1"
    assert data["reported_coverage"] == pytest.approx(0.5)
    assert data["real_coverage"] == pytest.approx(0.5)
    out = runner.invoke(app, ["targets", "show", "--json", *store])
    assert json.loads(out.stdout)["plans"][0]["version"] == 1
    bad = runner.invoke(app, ["targets", "set", "--period", "2025-Q2", "--segment", "SMB", "--json", *store])
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["error"]["type"] == "InputError"
