"""Days in stage (Kaplan–Meier, running stays censored), cycle length and velocity, checked by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from saleslead.funnel import cycle_length, kaplan_meier_quantiles, sales_velocity, stage_durations
from saleslead.seat import Seat
from saleslead.store import Store

from .funnel_fixture import AS_OF, build


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with build(tmp_path / "f.duckdb") as built:
        yield built


def test_kaplan_meier_by_hand() -> None:
    # stays of 2, 3 (still running), 4 and 6 days: S(2)=3/4, S(4)=3/4·1/2=3/8, S(6)=0
    days = np.array([2, 3, 4, 6])
    median, p80 = kaplan_meier_quantiles(days, np.array([1, 0, 1, 1]), np.ones(4, dtype=int), (0.5, 0.8))
    assert (median, p80) == (4.0, 6.0)
    # when most stays are still running the quantile is unknown, not guessed
    assert kaplan_meier_quantiles(days, np.array([1, 0, 0, 0]), np.ones(4, dtype=int), (0.5,)) == [None]


def test_days_in_stage_by_hand(store: Store) -> None:
    rows = {r.stage: r for r in stage_durations(store, AS_OF)}
    propose = rows["Propose"]
    # B 1→20 Feb: 19 days; D 11 Feb→1 Mar: 18 days; F since 3 Apr: 7 days so far (censored)
    assert (propose.stays, propose.finished, propose.still_in_stage) == (3, 2, 1)
    assert (propose.median_days, propose.p80_days) == (18.0, 19.0)
    qualify = rows["Qualify"]
    # finished: A 67, B 29, C 74, D 10, E 16, J 10, F 2, G 3; H running (16 days)
    assert (qualify.stays, qualify.finished) == (9, 8)
    assert qualify.median_days == 16.0


def test_cycle_and_velocity_by_hand(store: Store) -> None:
    (cycle,) = cycle_length(store, AS_OF)
    # won: E 16 days, A 67, C 74, D 28, G 3 → median 28; average won (50+120+100+80+100)/5 = 90
    assert cycle.won_deals == 5
    assert cycle.median_days == 28.0
    assert cycle.average_won == pytest.approx(90.0)
    (velocity,) = sales_velocity(store, AS_OF)
    assert velocity.open_deals == 2  # F and H
    win = velocity.win_rate.value
    assert win is not None
    assert velocity.per_day == pytest.approx(2 * win * 90.0 / 28.0)


def test_demo_durations_order_with_segment(demo_seat: Seat) -> None:
    rows = stage_durations(demo_seat.store, demo_seat.today(), ["segment"])
    median = {r.group["segment"]: r.median_days for r in rows if r.stage_order == 0 and r.median_days is not None}
    # the demo's Enterprise deals dwell longer than SMB ones
    assert median["Enterprise"] > median["SMB"]
    for r in rows:
        assert r.stays == r.finished + r.still_in_stage
        if r.median_days is not None and r.p90_days is not None:
            assert r.median_days <= r.p90_days
