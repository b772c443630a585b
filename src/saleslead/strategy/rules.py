"""The rules that turn a scorecard cell into a recommendation: explicit, configurable, each one a sentence.

A cell is judged against the company (the median cell) and against what the team can create:

1. fewer decided deals than ``min_deals``                      → **insufficient-evidence**
2. bookings do not cover the cost of working the deals, or even the optimistic end of the
   required coverage is above ``max_required_coverage``, or even the optimistic end of the
   yield is below ``do_not_compete_yield`` × the median yield     → **do-not-compete**
3. yield below ``deprioritise_yield`` × median, velocity below ``deprioritise_velocity`` × median,
   required coverage (point) above ``max_required_coverage``, or a win rate shrinking
   significantly                                                    → **deprioritise**
4. yield at least ``pursue_yield`` × median and velocity at least ``pursue_velocity`` × median → **pursue**
5. otherwise                                                        → **maintain**

Every rule that fires adds its reason in plain words, with the numbers it rests on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from saleslead.format import amount

__all__ = ["RECOMMENDATIONS", "CellFacts", "Recommendation", "StrategyRules", "Verdict", "recommend"]

Recommendation = Literal["pursue", "maintain", "deprioritise", "do-not-compete", "insufficient-evidence"]
RECOMMENDATIONS: tuple[Recommendation, ...] = (
    "pursue",
    "maintain",
    "deprioritise",
    "do-not-compete",
    "insufficient-evidence",
)


class StrategyRules(BaseModel):
    """Thresholds of the strategy rules (ratios are against the company median cell)."""

    model_config = ConfigDict(frozen=True)

    min_deals: int | None = Field(
        None, ge=1, description="decided deals a cell needs to be judged (default: settings.min_sample)"
    )
    min_cohort: int | None = Field(
        None, ge=1, description="matured created deals a cell needs for a yield (default: settings.min_sample)"
    )
    maturity_days: int | None = Field(
        None, ge=1, description="days a created cohort needs to mature (default: company P90 of won cycle days)"
    )
    pursue_yield: float = Field(1.2, gt=0, description="pursue: yield at least this × median yield …")
    pursue_velocity: float = Field(1.0, gt=0, description="… and velocity at least this × median velocity")
    deprioritise_yield: float = Field(0.75, gt=0, description="deprioritise: yield below this × median yield")
    deprioritise_velocity: float = Field(0.33, gt=0, description="deprioritise: velocity below this × median velocity")
    do_not_compete_yield: float = Field(
        0.5, gt=0, description="do-not-compete: even the yield's upper bound below this × median yield"
    )
    max_required_coverage: float = Field(
        8.0, gt=1, description="the most pipeline per dollar booked the team can create"
    )
    cost_per_deal: float | None = Field(
        None, ge=0, description="cost of working one deal to a decision; bookings below it lose money"
    )
    shrinking_is_deprioritise: bool = Field(
        True, description="a win rate shrinking significantly (last 4 quarters vs 4 before) deprioritises"
    )


@dataclass(frozen=True)
class CellFacts:
    """What the rules read about one cell (None: not known with enough evidence)."""

    deals: int
    won_amount: float
    win_rate_low: float | None
    win_rate_high: float | None
    yield_: float | None
    yield_high: float | None
    required_coverage: float | None
    required_coverage_low: float | None
    velocity: float | None
    shrinking: bool
    trend_note: str
    cohort_note: str


@dataclass(frozen=True)
class Verdict:
    recommendation: Recommendation
    rules_fired: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _ratio(value: float, median: float) -> str:
    return f"{value / median:.2f}× the median" if median > 0 else "no median to compare"


def recommend(
    facts: CellFacts,
    rules: StrategyRules,
    *,
    min_deals: int,
    median_yield: float | None,
    median_velocity: float | None,
) -> Verdict:
    """The recommendation for one cell and every reason that led to it, in plain words.

    The verdicts are tried from the strongest down: too little evidence, do not compete, deprioritise,
    pursue; a cell no rule fires on is maintained.
    """
    if facts.deals < min_deals:
        return _insufficient(facts, min_deals)
    dnc = _do_not_compete(facts, rules, median_yield)
    if dnc:
        return Verdict("do-not-compete", [r for r, _ in dnc], [s for _, s in dnc] + _context(facts))
    low = _deprioritise(facts, rules, median_yield, median_velocity)
    if low:
        return Verdict("deprioritise", [r for r, _ in low], [s for _, s in low] + _context(facts, trend=False))
    pursue = _pursue(facts, rules, median_yield, median_velocity)
    if pursue is not None:
        return pursue
    return Verdict("maintain", [], [_maintain(facts, median_yield, median_velocity), *_context(facts)])


def _insufficient(facts: CellFacts, min_deals: int) -> Verdict:
    """Too few decided deals to judge: the verdict says how few and how wide the win rate could be."""
    between = (
        f"; its win rate could be anywhere from {_pct(facts.win_rate_low)} to {_pct(facts.win_rate_high)}"
        if facts.win_rate_low is not None and facts.win_rate_high is not None
        else ""
    )
    return Verdict(
        "insufficient-evidence",
        ["min_deals"],
        [
            f"Only {facts.deals} decided deal{'' if facts.deals == 1 else 's'} (the rules need {min_deals})"
            f"{between}: not enough to judge."
        ],
    )


def _do_not_compete(facts: CellFacts, rules: StrategyRules, median_yield: float | None) -> list[tuple[str, str]]:
    """The do-not-compete rules that fire on the cell, each with its reason."""
    fired: list[tuple[str, str]] = []
    if rules.cost_per_deal is not None and facts.won_amount < rules.cost_per_deal * facts.deals:
        cost = rules.cost_per_deal * facts.deals
        fired.append(
            (
                "cost_per_deal",
                f"It loses money: {facts.deals} deals cost {amount(cost)} to work "
                f"({amount(rules.cost_per_deal)} each) and booked {amount(facts.won_amount)}.",
            )
        )
    if facts.required_coverage_low is not None and facts.required_coverage_low > rules.max_required_coverage:
        fired.append(
            (
                "max_required_coverage",
                f"Even at best it needs {facts.required_coverage_low:.1f}× pipeline per dollar booked, more than "
                f"the {rules.max_required_coverage:.1f}× the team can create.",
            )
        )
    elif facts.yield_high is not None and facts.yield_high == 0.0:
        fired.append(("max_required_coverage", "Its matured pipeline booked nothing: no coverage is enough."))
    if facts.yield_high is not None and median_yield and facts.yield_high < rules.do_not_compete_yield * median_yield:
        fired.append(
            (
                "do_not_compete_yield",
                f"Even the upper bound of its yield ({_pct(facts.yield_high)} of pipeline created comes back won) "
                f"is below {rules.do_not_compete_yield:.2f}× the median cell's {_pct(median_yield)}.",
            )
        )
    return fired


def _deprioritise(
    facts: CellFacts, rules: StrategyRules, median_yield: float | None, median_velocity: float | None
) -> list[tuple[str, str]]:
    """The deprioritise rules that fire on the cell, each with its reason."""
    fired: list[tuple[str, str]] = []
    if facts.yield_ is not None and median_yield and facts.yield_ < rules.deprioritise_yield * median_yield:
        fired.append(
            (
                "deprioritise_yield",
                f"Its yield is {_pct(facts.yield_)} of pipeline created, {_ratio(facts.yield_, median_yield)} "
                f"({_pct(median_yield)}).",
            )
        )
    if (
        facts.velocity is not None
        and median_velocity
        and facts.velocity < rules.deprioritise_velocity * median_velocity
    ):
        fired.append(
            (
                "deprioritise_velocity",
                f"Its velocity is {amount(facts.velocity)} a day, {_ratio(facts.velocity, median_velocity)} "
                f"({amount(median_velocity)}).",
            )
        )
    if facts.required_coverage is not None and facts.required_coverage > rules.max_required_coverage:
        fired.append(
            (
                "max_required_coverage",
                f"It needs {facts.required_coverage:.1f}× pipeline per dollar booked, more than the "
                f"{rules.max_required_coverage:.1f}× the team can create (though the evidence allows less).",
            )
        )
    if facts.shrinking and rules.shrinking_is_deprioritise:
        fired.append(("shrinking_win_rate", facts.trend_note))
    return fired


def _pursue(
    facts: CellFacts, rules: StrategyRules, median_yield: float | None, median_velocity: float | None
) -> Verdict | None:
    """Pursue a cell whose yield and velocity both clear their bars over the median cell's (else None)."""
    if not (
        facts.yield_ is not None
        and facts.velocity is not None
        and median_yield
        and median_velocity
        and facts.yield_ >= rules.pursue_yield * median_yield
        and facts.velocity >= rules.pursue_velocity * median_velocity
    ):
        return None
    return Verdict(
        "pursue",
        ["pursue_yield", "pursue_velocity"],
        [
            f"Its yield is {_pct(facts.yield_)} of pipeline created, {_ratio(facts.yield_, median_yield)}, "
            f"and its velocity {amount(facts.velocity)} a day, {_ratio(facts.velocity, median_velocity)}.",
            *_context(facts),
        ],
    )


def _maintain(facts: CellFacts, median_yield: float | None, median_velocity: float | None) -> str:
    parts = []
    if facts.yield_ is not None and median_yield:
        parts.append(f"yield {_pct(facts.yield_)} ({_ratio(facts.yield_, median_yield)})")
    if facts.velocity is not None and median_velocity:
        parts.append(f"velocity {amount(facts.velocity)} a day ({_ratio(facts.velocity, median_velocity)})")
    if not parts:
        return "No rule fired: keep it as it is until its yield can be measured."
    return "Near the company on " + " and ".join(parts) + ": keep it as it is."


def _context(facts: CellFacts, *, trend: bool = True) -> list[str]:
    notes = [facts.cohort_note] if facts.cohort_note else []
    if trend and facts.trend_note:
        notes.append(facts.trend_note)
    return notes
