"""Stage conversion and win rates on the hand-made fixture (every number worked out by hand) and the demo."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from saleslead.evidence import wilson
from saleslead.funnel import stage_conversion, value_rate
from saleslead.seat import Seat
from saleslead.store import Store

from .funnel_fixture import AS_OF, build


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with build(tmp_path / "f.duckdb") as built:
        yield built


def test_stage_conversion_by_hand(store: Store) -> None:
    result = stage_conversion(store, AS_OF, maturity_days=0, lookback_days=365)
    qualify, propose = result.stages
    assert (qualify.stage, qualify.next_stage, propose.stage, propose.next_stage) == (
        "Qualify",
        "Propose",
        "Propose",
        None,
    )
    # Qualify: all 9 reached; 7 moved on or won, J lost there, H still open there (censored, not a loss)
    assert (qualify.reached, qualify.advanced, qualify.lost, qualify.still_open) == (9, 7, 1, 1)
    assert qualify.conversion.value == pytest.approx(7 / 8)
    assert qualify.conversion == wilson(7, 8, 0.9, 30)
    # win rate from Qualify: A, C, D, E, G won; B and J lost; F and H open
    assert (qualify.won, qualify.win_rate.value) == (5, pytest.approx(5 / 7))
    # Propose: reached by B, D, F and the five won deals; B lost there, F still open
    assert (propose.reached, propose.advanced, propose.lost, propose.still_open) == (7, 5, 1, 1)
    assert propose.conversion.value == pytest.approx(5 / 6)
    assert propose.win_rate.value == pytest.approx(5 / 6)
    # by value (amounts as of 10 Apr): advanced A120+B200+C100+D80+E50+F500+G100 = 1150; J 40 lost
    assert qualify.conversion_value.value == pytest.approx(1150 / 1190)
    sq = 120**2 + 200**2 + 100**2 + 80**2 + 50**2 + 500**2 + 100**2 + 40**2
    assert qualify.conversion_value == value_rate(1150, 1190, sq, 0.9, 30)
    assert result.evidence.sample_size == 9
    assert result.evidence.thin


def test_value_rate_uses_kish_effective_size() -> None:
    rate = value_rate(120, 300, 100**2 + 200**2)
    n_eff = 300**2 / (100**2 + 200**2)  # 1.8 deals' worth of evidence
    plain = wilson(0.4 * n_eff, n_eff)
    assert rate.value == pytest.approx(0.4)
    assert (rate.low, rate.high) == (pytest.approx(plain.low), pytest.approx(plain.high))
    assert rate.thin
    assert rate.method == "wilson-kish"


def test_maturity_excludes_young_cohorts(store: Store) -> None:
    # maturity 30 days: only deals created by 11 Mar count (F, G, H are too young)
    result = stage_conversion(store, AS_OF, maturity_days=30, lookback_days=365)
    qualify = result.stages[0]
    assert qualify.reached == 6
    assert qualify.still_open == 0
    assert result.cohort_end == date(2025, 3, 11)


def test_answer_as_of_ignores_later_data(tmp_path: Path, store: Store) -> None:
    mine = stage_conversion(store, AS_OF, maturity_days=0)
    with build(tmp_path / "later.duckdb", later=True) as later:
        theirs = stage_conversion(later, AS_OF, maturity_days=0)
    assert mine == theirs


def test_demo_conversion_by_segment_is_consistent(demo_seat: Seat) -> None:
    result = stage_conversion(demo_seat.store, demo_seat.today(), ["segment"])
    segments = {s.group["segment"] for s in result.stages}
    assert segments == {"SMB", "Mid-Market", "Enterprise"}
    for s in result.stages:
        assert s.reached == s.advanced + s.lost + s.still_open
        assert s.conversion.low is not None
        assert s.conversion.low <= s.conversion.value <= s.conversion.high
    # the stages are the learned ladder's open stages, in order
    orders = [s.stage_order for s in result.stages if s.group["segment"] == "SMB"]
    assert orders == sorted(orders)
    assert len(orders) == 5
    assert result.maturity_days > 0
