"""Coverage two ways, checked against the hand-made org, the demo company and the Maven data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import ibis
import pytest

from saleslead.evidence import wilson
from saleslead.funnel import state_as_of
from saleslead.periods import Period
from saleslead.seat import IngestRequest, Seat, open_seat
from saleslead.targets.desk import CoverageRequest

from .conftest import shared_data
from .funnel_fixture import AS_OF, build


@pytest.fixture
def seat(tmp_path: Path) -> Iterator[Seat]:
    build(tmp_path / "f.duckdb").close()
    with open_seat(tmp_path / "f.duckdb") as opened:
        yield opened


def test_coverage_by_hand(seat: Seat) -> None:
    cov = seat.coverage(CoverageRequest(period="2025-Q2", as_of=AS_OF, segments={"SMB": 1100.0}))
    assert (cov.period, cov.as_of, cov.target_source) == ("2025-Q2", AS_OF, "segments")
    # Q2 so far: G won 100; open pipeline dated in Q2: F 500 (H is dated July)
    assert (cov.target, cov.closed_won, cov.remaining, cov.open_pipeline) == (1100, 100, 1000, 500)
    assert cov.reported_coverage == pytest.approx(0.5)
    # Q1 seen from 10 Jan: open and dated in Q1 were A 100 and B 200; A won 120 → conversion 0.4
    (sample,) = cov.evidence.samples
    assert (sample.period, sample.snapshot, sample.open_value, sample.won_from_open_value) == (
        "2025-Q1",
        date(2025, 1, 10),
        300,
        120,
    )
    # Q1 bookings after 10 Jan: A 120 (from the dated pipeline), C 100 (pulled in), D 80 (created after) → s = 0.6
    assert (sample.bookings_after, sample.outside_pipeline) == (300, 180)
    assert cov.evidence.outside_share.value == pytest.approx(0.6)
    assert cov.required_coverage == pytest.approx((1 - 0.6) / 0.4)  # 1.0×
    assert cov.expected_from_pipeline == pytest.approx(0.4 * 500)
    assert cov.expected_from_new == pytest.approx(200 * 0.6 / 0.4)
    assert cov.expected_bookings == pytest.approx(100 + 200 + 300)
    assert cov.real_coverage == pytest.approx(0.5)
    assert cov.required_pipeline == pytest.approx(1000)
    assert cov.gap == pytest.approx(500)
    assert cov.typical_deal == 100  # median created amount: 40 50 80 100 [100] 100 200 200 500
    assert cov.gap_deals == pytest.approx(5)
    assert cov.bookings_gap == pytest.approx(500)
    # the interval: Wilson at the Kish effective size 300²/(100²+200²) = 1.8 deals — thin, and said so
    ci = wilson(0.4 * 1.8, 1.8, 0.9, 30)
    assert cov.evidence.conversion.low == pytest.approx(ci.low)
    assert cov.required_coverage_high == pytest.approx(0.4 / ci.low)
    assert cov.evidence.thin
    assert cov.evidence.periods_used == ["2025-Q1"]
    (smb,) = cov.segments
    assert smb.segment == "SMB"
    assert smb.real_coverage == pytest.approx(0.5)


def test_target_defaults_to_quota_of_the_period(seat: Seat) -> None:
    cov = seat.coverage(CoverageRequest(period="2025-Q2", as_of=AS_OF))
    assert cov.target_source == "quota"
    assert cov.target == 1100
    assert cov.reported_coverage == pytest.approx(0.5)


def test_coverage_as_of_ignores_later_data(tmp_path: Path, seat: Seat) -> None:
    build(tmp_path / "later.duckdb", later=True).close()
    with open_seat(tmp_path / "later.duckdb") as later:
        request = CoverageRequest(period="2025-Q2", as_of=AS_OF, goal=1100.0)
        assert later.coverage(request) == seat.coverage(request)


def test_demo_coverage_agrees_with_point_in_time_state(demo_seat: Seat) -> None:
    today = demo_seat.today()
    period = Period.quarter_of(today)
    cov = demo_seat.coverage(CoverageRequest(period=period.name, as_of=today))
    state = state_as_of(demo_seat.store, today)
    dated = (state.close_date >= ibis.literal(period.start)) & (state.close_date < ibis.literal(period.end))
    open_amount = state.filter(dated & ~state.is_closed).amount.sum().execute()
    won_amount = state.filter(dated & state.is_won & (state.close_date <= ibis.literal(today))).amount.sum().execute()
    assert cov.open_pipeline == pytest.approx(open_amount)
    assert cov.closed_won == pytest.approx(won_amount)
    assert cov.target_source == "quota"
    assert cov.target > 0
    assert cov.target == pytest.approx(sum(s.target for s in cov.segments))
    assert cov.open_pipeline == pytest.approx(sum(s.open_pipeline for s in cov.segments))
    assert len(cov.evidence.periods_used) == 4
    assert cov.evidence.sample_size > 100
    for line in (cov, *cov.segments):
        if line.remaining > 0 and line.required_coverage is not None and line.real_coverage is not None:
            assert line.reported_coverage == pytest.approx(line.open_pipeline / line.remaining)
            assert (line.real_coverage < 1) == (line.reported_coverage < line.required_coverage)
    data = cov.model_dump(mode="json")
    for field in (
        "period",
        "as_of",
        "target",
        "closed_won",
        "remaining",
        "open_pipeline",
        "reported_coverage",
        "required_coverage",
        "expected_from_pipeline",
        "gap",
        "segments",
        "evidence",
    ):
        assert field in data
    assert set(data["segments"][0]) >= {"target", "reported_coverage", "required_coverage", "gap", "evidence"}


def test_maven_coverage(tmp_path: Path) -> None:
    folder = shared_data("maven-crm")
    with open_seat(tmp_path / "maven.duckdb") as seat:
        seat.ingest(IngestRequest(path=folder, mapping="maven"))
        cov = seat.coverage(CoverageRequest(period="2017-Q4", as_of=date(2017, 11, 1), goal=3_000_000.0))
    assert cov.target_source == "given"
    assert cov.target == pytest.approx(3_000_000)
    assert cov.evidence.periods_used
    assert all(p < "2017-Q4" for p in cov.evidence.periods_used)
    conv = cov.evidence.conversion
    assert conv.value is not None
    assert 0 < conv.value < 1
    assert conv.low is not None
    assert conv.low <= conv.value
    assert cov.target == pytest.approx(sum(s.target for s in cov.segments))
    assert cov.open_pipeline > 0
    assert cov.required_coverage is not None
