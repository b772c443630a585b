"""Pipeline created per week and the created→won life table, worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from saleslead.funnel import creation_yield, pipeline_created
from saleslead.seat import Seat
from saleslead.store import Store

from .funnel_fixture import AS_OF, build


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with build(tmp_path / "f.duckdb") as built:
        yield built


def test_life_table_by_hand(store: Store) -> None:
    (y,) = creation_yield(store, AS_OF, horizon_weeks=12, lookback_weeks=52)
    # value at risk per lag: everyone (1370) at lag 0; F, G (1 week old) drop at lag 1 (770); H (2 weeks) at
    # lag 2 (570); D (9 weeks) at lag 9 (490). Won at lag: G 0 (100), E 2 (50), D 4 (80), A 9 (120), C 10 (100).
    assert y.weekly[0] == pytest.approx(100 / 1370)
    assert y.weekly[1] == 0.0
    assert y.weekly[2] == pytest.approx(50 / 570)
    assert y.weekly[4] == pytest.approx(80 / 570)
    assert y.weekly[9] == pytest.approx(120 / 490)
    assert y.weekly[10] == pytest.approx(100 / 490)
    total = 100 / 1370 + 130 / 570 + 220 / 490
    assert y.value_yield.value == pytest.approx(total)
    assert y.cumulative[-1] == pytest.approx(total)
    assert (y.median_lag_weeks, y.p80_lag_weeks) == (9, 10)
    assert y.at_risk_deals[:3] == [9, 7, 6]
    assert (y.created_deals, y.won_deals) == (9, 5)
    assert y.typical_deal == 100.0


def test_pipeline_created_per_week(store: Store) -> None:
    weeks = pipeline_created(store, date(2025, 3, 20), AS_OF)
    assert [(w.week_start, w.deals, w.value) for w in weeks] == [
        (date(2025, 3, 20), 1, 200.0),  # H, 25 Mar
        (date(2025, 3, 27), 2, 600.0),  # F 1 Apr 500, G 2 Apr 100
        (date(2025, 4, 3), 0, 0.0),
        (date(2025, 4, 10), 0, 0.0),  # the week that starts on the as-of day (one day of it seen)
    ]


def test_later_data_changes_nothing(tmp_path: Path, store: Store) -> None:
    with build(tmp_path / "later.duckdb", later=True) as later:
        assert creation_yield(store, AS_OF, horizon_weeks=12) == creation_yield(later, AS_OF, horizon_weeks=12)
        assert pipeline_created(store, date(2025, 1, 1), AS_OF) == pipeline_created(later, date(2025, 1, 1), AS_OF)


def test_demo_yield_by_segment(demo_seat: Seat) -> None:
    yields = {y.group["segment"]: y for y in creation_yield(demo_seat.store, demo_seat.today(), ["segment"])}
    assert set(yields) == {"SMB", "Mid-Market", "Enterprise"}
    for y in yields.values():
        assert 0 < (y.value_yield.value or 0) < 1
        assert all(b >= a for a, b in zip(y.cumulative, y.cumulative[1:], strict=False))
    # bigger deals take longer to land
    assert (yields["Enterprise"].median_lag_weeks or 0) > (yields["SMB"].median_lag_weeks or 0)
