"""Mandate 1 — own the sales strategy: the seat's actions for this package (a desk of the seat)."""

from __future__ import annotations

from saleslead.context import Desk
from saleslead.strategy.check import CheckRequest, StrategyCheck, check
from saleslead.strategy.decisions import DecideRequest, ShowRequest, StrategyDecision, StrategyView, make_decision, show
from saleslead.strategy.scorecard import Scorecard, ScoreRequest, score

__all__ = ["StrategyDesk"]


class StrategyDesk(Desk):
    """Mandate 1 — own the sales strategy: where to compete, where deliberately not to, and holding to it."""

    def strategy_score(self, request: ScoreRequest) -> Scorecard:
        """Score every cell (segment × motion × channel by default) and recommend, as of a date."""
        as_of = request.as_of or self.today()
        return self.answers.answer(
            "strategy-score", as_of, request, Scorecard, lambda: score(self.store, request, self.settings, as_of)
        )

    def strategy_decide(self, request: DecideRequest) -> StrategyDecision:
        """Record the strategy (a new version): the scorecard's recommendations plus the author's overrides."""
        card = self.strategy_score(
            ScoreRequest(
                as_of=request.as_of or self.today(),
                by=request.by,
                lookback_months=request.lookback_months,
                rules=request.rules,
            )
        )
        return make_decision(request, card, self.records)

    def strategy_show(self, request: ShowRequest | None = None) -> StrategyView:
        """The strategy decided (a version, default the latest) and every version."""
        return show(self.records, request or ShowRequest())

    def strategy_check(self, request: CheckRequest) -> StrategyCheck:
        """Flag open pipeline created, and effort spent, in do-not-compete cells since the strategy in force."""
        return check(self.store, self.records, request, request.as_of or self.today())
