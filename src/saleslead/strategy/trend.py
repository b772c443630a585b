"""The trend of a cell's win rate: the last four quarters against the four before, with its significance."""

from __future__ import annotations

import math
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Direction", "Trend", "trend_of"]

Direction = Literal["growing", "flat", "shrinking", "insufficient-evidence"]


class Trend(BaseModel):
    """Win rate by count, decided in the last four quarters vs the four before (two-proportion z-test)."""

    model_config = ConfigDict(frozen=True)

    recent_from: date = Field(description="the last four quarters: decided after this day, up to as_of")
    prior_from: date = Field(description="the four before: decided after this day, up to recent_from")
    recent_deals: int
    recent_won: int
    recent_win_rate: float | None
    prior_deals: int
    prior_won: int
    prior_win_rate: float | None
    change: float | None = Field(description="recent minus prior win rate (percentage points as a fraction)")
    p_value: float | None = Field(description="two-sided p-value of the pooled two-proportion z-test")
    significant: bool
    direction: Direction
    note: str


def trend_of(
    recent_won: int,
    recent_deals: int,
    prior_won: int,
    prior_deals: int,
    *,
    recent_from: date,
    prior_from: date,
    confidence: float,
    min_deals: int,
) -> Trend:
    """Compare the two win rates; significant when the p-value is below 1 − confidence."""
    recent = recent_won / recent_deals if recent_deals else None
    prior = prior_won / prior_deals if prior_deals else None
    base = {
        "recent_from": recent_from,
        "prior_from": prior_from,
        "recent_deals": recent_deals,
        "recent_won": recent_won,
        "recent_win_rate": recent,
        "prior_deals": prior_deals,
        "prior_won": prior_won,
        "prior_win_rate": prior,
    }
    if recent is None or prior is None or recent_deals < min_deals or prior_deals < min_deals:
        return Trend(
            **base,
            change=None,
            p_value=None,
            significant=False,
            direction="insufficient-evidence",
            note=(
                f"Trend not judged: {prior_deals} deals decided in the four quarters before and {recent_deals} "
                f"in the last four (the rules need {min_deals} in each)."
            ),
        )
    pooled = (recent_won + prior_won) / (recent_deals + prior_deals)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / recent_deals + 1 / prior_deals))
    change = recent - prior
    from scipy import stats  # ~1 s to load: only when a trend is judged

    p_value = float(2 * stats.norm.sf(abs(change) / spread)) if spread > 0 else 1.0
    significant = p_value < 1 - confidence
    direction: Direction = ("growing" if change > 0 else "shrinking") if significant else "flat"
    said = {
        "growing": "significantly growing",
        "shrinking": "significantly shrinking",
        "flat": "not a significant change",
    }[direction]
    return Trend(
        **base,
        change=change,
        p_value=p_value,
        significant=significant,
        direction=direction,
        note=(
            f"Win rate went from {prior:.0%} ({prior_won} of {prior_deals}, the four quarters before) to "
            f"{recent:.0%} ({recent_won} of {recent_deals}, the last four), p = {p_value:.2f}: {said}."
        ),
    )
