"""The roster as of a date on a hand-made company: seats, productivity (median of rep means), attainment
against quota, ramp evidence — checked by hand; and leakage: the answer as of D ignores later data."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from saleslead.ingest.canonical import QUOTAS
from saleslead.role.staffing import brief_roster
from saleslead.roster.config import RosterConfig
from saleslead.roster.desk import RosterPlanRequest, RosterShowRequest
from saleslead.roster.plan_text import reach_label
from saleslead.seat import Seat
from saleslead.store import Store

from .builders import export, table

USERS = [
    {"user_id": "m1", "name": "Mia", "title": "Sales Manager", "role": "Manager", "segment": "SMB",
     "start_date": date(2023, 1, 1), "is_active": True},
    {"user_id": "r1", "name": "Ray", "title": "Account Executive", "role": "AE", "segment": "SMB",
     "manager_id": "m1", "start_date": date(2024, 1, 1), "is_active": True},
    {"user_id": "r2", "name": "Rio", "title": "Account Executive", "role": "AE", "segment": "SMB",
     "manager_id": "m1", "start_date": date(2024, 1, 1), "is_active": True},
    {"user_id": "r3", "name": "Rex", "title": "Account Executive", "role": None, "segment": "SMB",
     "manager_id": "m1", "start_date": date(2024, 1, 1), "is_active": True},
    {"user_id": "s1", "name": "Sam", "title": "Sales Development Rep", "role": "SDR", "segment": "SMB",
     "start_date": date(2024, 6, 1), "is_active": True},
    {"user_id": "r4", "name": "Late", "title": "Account Executive", "role": "AE", "segment": "SMB",
     "start_date": date(2025, 11, 1), "is_active": True},
]  # fmt: skip


def _deals() -> list[tuple[str, str, date, float]]:
    deals = [(f"r1-{m}", "r1", date(2025, m, 15), 10_000.0) for m in range(1, 13)]
    deals += [(f"r2-{m}", "r2", date(2025, m, 15), 10_000.0) for m in range(1, 13, 2)]
    deals.append(("r3-6", "r3", date(2025, 6, 15), 30_000.0))
    return deals


def _export(until: date | None = None) -> Any:
    deals = [d for d in _deals() if until is None or d[2] <= until]
    opps = [
        {"opportunity_id": i, "name": i, "account_id": "acc", "owner_id": o, "segment": "SMB", "stage": "Won",
         "created_at": datetime.combine(d - timedelta(days=20), datetime.min.time()), "amount": a, "close_date": d,
         "is_closed": True, "is_won": True}
        for i, o, d, a in deals
    ]  # fmt: skip
    history = [
        {"opportunity_id": i, "changed_at": datetime.combine(d, datetime.min.time()) + timedelta(hours=12),
         "stage": "Won", "amount": a, "close_date": d}
        for i, _, d, a in deals
    ]  # fmt: skip
    users = [u for u in USERS if until is None or u["start_date"] <= until]
    quotas = [
        {"owner_id": u, "start_date": date(2025, q, 1), "amount": 30_000.0}
        for u in ("r1", "r2", "r3")
        for q in (1, 4, 7, 10)
    ]
    snapshot = datetime(2026, 1, 15, 23) if until is None else datetime.combine(until, datetime.min.time())
    made = export(snapshot, opps, history, users=users)
    return dataclasses.replace(
        made, quotas=table(QUOTAS, [q for q in quotas if until is None or q["start_date"] <= until])
    )


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Seat]:
    from saleslead.seat import Seat as SeatClass
    from saleslead.settings import Settings

    store = Store.open(tmp_path / "small.duckdb")
    store.ingest(_export())
    with SeatClass(store, Settings(), "default", clock=lambda: date(2026, 1, 15)) as seat:
        yield seat


def test_seats_productivity_and_attainment_by_hand(small: Seat) -> None:
    view = small.roster_show(RosterShowRequest())
    roles = {s.user_id: s.role for s in view.seats}
    assert roles == {"m1": "manager", "r1": "AE", "r2": "AE", "r3": "AE", "s1": "SDR", "r4": "AE"}
    (smb,) = view.segments
    assert smb.headcount.aes == 4
    assert smb.headcount.sdrs == 1
    p = smb.productivity
    # window 2025-Q1..Q4; rep means 120k/12, 60k/12, 30k/12; r4 is not ramped (tenure month 3)
    assert p.window == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert (p.reps, p.rep_months) == (3, 36)
    assert p.median == pytest.approx(5_000.0)
    assert p.mean == pytest.approx(17_500.0 / 3)
    assert p.per_rep_month == p.median
    assert p.evidence.thin
    a = smb.attainment
    # r1 1,1,1,1; r2 2/3,1/3,2/3,1/3; r3 0,1,0,0 -> mean 7/12, 5 of 12 at or above quota
    assert a.rep_quarters == 12
    assert a.mean == pytest.approx(7 / 12)
    assert a.overall == pytest.approx((120_000 + 60_000 + 30_000) / (12 * 30_000))  # Σ bookings ÷ Σ quota
    assert a.at_or_above_quota.successes == 5
    assert smb.full_quarterly_quota == 30_000.0
    assert smb.ramp.source == "default"  # no AE's whole ramp is in the data
    assert smb.ramp.factor(1) == pytest.approx(1 / 3)


def test_mean_statistic_is_configurable(small: Seat) -> None:
    view = small.roster_show(RosterShowRequest(config=RosterConfig(productivity_statistic="mean")))
    assert view.segments[0].productivity.per_rep_month == pytest.approx(17_500.0 / 3)


def test_answer_as_of_d_ignores_later_data(small: Seat, tmp_path: Path) -> None:
    day = date(2025, 10, 20)
    cut = Store.open(tmp_path / "cut.duckdb")
    cut.ingest(_export(until=day))
    from saleslead.seat import Seat as SeatClass
    from saleslead.settings import Settings

    full = small.roster_show(RosterShowRequest(as_of=day)).model_dump(mode="json")
    with SeatClass(cut, Settings(), "default", clock=lambda: day) as cut_seat:
        assert full == cut_seat.roster_show(RosterShowRequest(as_of=day)).model_dump(mode="json")
    assert full["segments"][0]["productivity"]["window"] == ["2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3"]


def test_demo_roster_says_what_it_rests_on(demo_seat: Seat) -> None:
    view = demo_seat.roster_show()
    assert {s.segment for s in view.segments} == {"SMB", "Mid-Market", "Enterprise"}
    for s in view.segments:
        assert s.headcount.aes > 0
        assert s.productivity.per_rep_month > 0
        assert s.productivity.evidence.sample_size == s.productivity.rep_months
        assert s.ramp.source == "learned"
        factors = [p.factor for p in s.ramp.points]
        assert factors == sorted(factors)  # monotone
        assert 0 < factors[0] < 1
        assert s.ramp.evidence.sample_size == sum(p.rep_months for p in s.ramp.points)
    assert sum(view.seasonality.index) == pytest.approx(12.0)


def test_no_productivity_is_called_unknown_not_zero(small: Seat) -> None:
    # as of mid-February 2025 the window is 2024-Q1..Q4, when the AEs were on the payroll but booked nothing
    day = date(2025, 2, 15)
    plan = small.roster_plan(RosterPlanRequest(period="2025-Q2", as_of=day, save=False))
    (smb,) = plan.segments
    assert smb.productivity.per_rep_month == 0.0
    assert (smb.reach_limit, smb.binding_constraint, smb.total_hires) == ("no_productivity", "unknown", 0)
    assert "productivity unknown" in plan.verdict
    assert reach_label(smb) == "unknown (no productivity measured)"
    outcome = brief_roster(small.fleet_desk.mandates, small.fleet_desk._week(day, writes=False))
    [flag] = outcome.flags
    assert flag.kind == "capacity-short"
    assert "unknown" in flag.message
    assert "2024-Q1..2024-Q4" in flag.message
    assert "$0" not in flag.message
    assert "carries" not in flag.message
