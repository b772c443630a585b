"""Seasonality of bookings by calendar month, measured per ramped AE so headcount growth does not leak in.

For every complete month of history: ``productivity_m = bookings_m ÷ ramped_equivalents_m`` (AEs employed
the whole month, weighted by their ramp factor). The index of a calendar month is the mean of its
months' productivity over the mean of all months, shrunk toward 1 by ``seasonality_prior_years``:
``(n · index + k) ÷ (n + k)``, then scaled so the twelve indexes average 1.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from pydantic import BaseModel, ConfigDict

from saleslead.evidence import Evidence
from saleslead.roster.config import RosterConfig
from saleslead.roster.productivity import WonLedger, employed_whole_month
from saleslead.roster.ramp import RampProfile
from saleslead.roster.seats import RosterSeat, month_index

__all__ = ["Seasonality", "flat_season", "measure_seasonality"]


class Seasonality(BaseModel):
    """Multiplier of productivity by calendar month (index 0 = January)."""

    model_config = ConfigDict(frozen=True)

    index: list[float]
    years_observed: list[int]
    evidence: Evidence

    def of(self, month: int) -> float:
        """The multiplier of a month index (see :func:`month_index`)."""
        return self.index[month % 12]


def flat_season(note: str = "no seasonality applied") -> Seasonality:
    return Seasonality(
        index=[1.0] * 12, years_observed=[0] * 12, evidence=Evidence(method=note, sample_size=0, thin=True)
    )


def measure_seasonality(
    seats: list[RosterSeat],
    ledger: WonLedger,
    ramps: dict[str, RampProfile],
    config: RosterConfig,
) -> Seasonality:
    if ledger.first_month is None:
        return flat_season("no bookings in the store")
    last = month_index(ledger.as_of) - (0 if (ledger.as_of + timedelta(days=1)).day == 1 else 1)
    values: list[list[float]] = [[] for _ in range(12)]
    aes = [s for s in seats if s.role == "AE" and s.segment in ramps]
    for m in range(ledger.first_month, last + 1):
        equivalents = sum(
            ramps[s.segment].factor(m - month_index(s.start_date) + 1) for s in aes if employed_whole_month(s, m)
        )
        if equivalents <= 0:
            continue
        booked = sum(book.get(m, 0.0) for book in (ledger.by_rep_month.get(s.user_id, {}) for s in aes))
        values[m % 12].append(booked / equivalents)
    months = sum(len(v) for v in values)
    overall = float(np.mean([x for v in values for x in v])) if months else 0.0
    if overall <= 0:
        return flat_season("no ramped AE-months with bookings")
    k = config.seasonality_prior_years
    raw = [(len(v) * (float(np.mean(v)) / overall) + k) / (len(v) + k) if v else 1.0 for v in values]
    scale = float(np.mean(raw))
    return Seasonality(
        index=[r / scale for r in raw],
        years_observed=[len(v) for v in values],
        evidence=Evidence(
            method=(
                "bookings per ramped AE-equivalent by calendar month ÷ the mean month, "
                f"shrunk toward 1 with {k:g} year(s) of weight, normalised to mean 1"
            ),
            sample_size=months,
            thin=min(len(v) for v in values) < 2,
            note=f"{months} complete months of history, {min(len(v) for v in values)}..{max(len(v) for v in values)}"
            " per calendar month",
        ),
    )
