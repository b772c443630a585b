"""Strategy rules and the win-rate trend: each rule fires on hand-made facts, with its numbers in words."""

from __future__ import annotations

from datetime import date

import pytest

from saleslead.strategy.rules import CellFacts, StrategyRules, recommend
from saleslead.strategy.trend import trend_of

RULES = StrategyRules()


def facts(**changes: object) -> CellFacts:
    base: dict[str, object] = {
        "deals": 100,
        "won_amount": 50_000.0,
        "win_rate_low": 0.2,
        "win_rate_high": 0.4,
        "yield_": 0.3,
        "yield_high": 0.36,
        "required_coverage": 1 / 0.3,
        "required_coverage_low": 1 / 0.36,
        "velocity": 1_000.0,
        "shrinking": False,
        "trend_note": "",
        "cohort_note": "",
    }
    base.update(changes)
    return CellFacts(**base)  # type: ignore[arg-type]


def judge(f: CellFacts, rules: StrategyRules = RULES) -> tuple[str, list[str], list[str]]:
    v = recommend(f, rules, min_deals=30, median_yield=0.3, median_velocity=1_000.0)
    return v.recommendation, v.rules_fired, v.reasons


def test_maintain_near_the_median() -> None:
    rec, fired, reasons = judge(facts())
    assert (rec, fired) == ("maintain", [])
    assert (
        reasons[0] == "Near the company on yield 30% (1.00× the median) and velocity $1,000 a day (1.00× the median): "
        "keep it as it is."
    )


def test_pursue_needs_yield_and_velocity() -> None:
    assert judge(facts(yield_=0.36, velocity=1_000.0))[:2] == ("pursue", ["pursue_yield", "pursue_velocity"])
    assert judge(facts(yield_=0.36, velocity=999.0))[0] == "maintain"


def test_deprioritise_rules() -> None:
    rec, fired, reasons = judge(facts(yield_=0.2))  # below 0.75 × 0.3 = 0.225
    assert (rec, fired) == ("deprioritise", ["deprioritise_yield"])
    assert reasons[0] == "Its yield is 20% of pipeline created, 0.67× the median (30%)."
    assert judge(facts(velocity=300.0))[1] == ["deprioritise_velocity"]  # below 0.33 × 1,000
    assert judge(facts(required_coverage=9.0))[1] == ["max_required_coverage"]
    shrinking = facts(shrinking=True, trend_note="Win rate went from 40% to 20%.")
    assert judge(shrinking)[:2] == ("deprioritise", ["shrinking_win_rate"])
    assert judge(shrinking, StrategyRules(shrinking_is_deprioritise=False))[0] == "maintain"


def test_do_not_compete_rules() -> None:
    rec, fired, reasons = judge(facts(required_coverage_low=10.0, yield_high=0.1))
    assert rec == "do-not-compete"
    assert fired == ["max_required_coverage", "do_not_compete_yield"]
    assert (
        reasons[0] == "Even at best it needs 10.0× pipeline per dollar booked, more than the 8.0× the team can create."
    )
    costly = judge(facts(won_amount=900.0), StrategyRules(cost_per_deal=10.0))
    assert costly[:2] == ("do-not-compete", ["cost_per_deal"])
    assert costly[2][0] == "It loses money: 100 deals cost $1,000 to work ($10 each) and booked $900."


def test_thin_cells_are_not_judged() -> None:
    rec, fired, reasons = judge(facts(deals=12, yield_high=0.01, required_coverage_low=100.0))
    assert (rec, fired) == ("insufficient-evidence", ["min_deals"])
    assert reasons == [
        "Only 12 decided deals (the rules need 30); its win rate could be anywhere from 20% to 40%: "
        "not enough to judge."
    ]


def test_trend_by_hand() -> None:
    # 8 of 8 won before, 1 of 8 in the last four quarters: pooled 9/16, spread √(0.5625·0.4375·(1/8+1/8)) = 0.24804,
    # z = −0.875 / 0.24804 = −3.5277, two-sided p = 0.00042.
    t = trend_of(1, 8, 8, 8, recent_from=date(2025, 1, 1), prior_from=date(2024, 1, 1), confidence=0.9, min_deals=8)
    assert t.change == pytest.approx(-0.875)
    assert t.p_value == pytest.approx(0.000419, abs=2e-5)
    assert (t.direction, t.significant) == ("shrinking", True)
    flat = trend_of(
        10, 40, 12, 40, recent_from=date(2025, 1, 1), prior_from=date(2024, 1, 1), confidence=0.9, min_deals=8
    )
    assert flat.direction == "flat"
    assert "p = 0.62: not a significant change" in flat.note  # z = −0.05/0.09922 = −0.504
    thin = trend_of(1, 7, 8, 8, recent_from=date(2025, 1, 1), prior_from=date(2024, 1, 1), confidence=0.9, min_deals=8)
    assert (thin.direction, thin.p_value) == ("insufficient-evidence", None)
