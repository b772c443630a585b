"""Seller capacity by month: expected heads by tenure month, aged forward month by month.

For one segment, start from the AEs on the roster at the end of ``as_of`` (their tenure month then) and,
for each month ``t`` after ``as_of``'s month:

1. everyone ages one tenure month; a head of tenure ``τ`` stays with probability
   ``1 − h − w(τ)``, with ``h = 1 − (1 − attrition_annual)^(1/12)`` and the wash-out hazard
   ``w(τ) = 1 − (1 − washout_rate)^(1/W)`` for ``τ ≤ W`` (0 after);
2. the expected departures of the month, ``D_t``, start as backfills ``backfill_lag_months`` later;
3. the month's planned hires and arriving backfills start at tenure month 1;
4. ``ramped_equivalents_t = Σ_τ heads_t(τ) · ramp(τ)`` and
   ``capacity_t = ramped_equivalents_t × productivity × seasonality(month of t)``.

The model is linear in the hires, so the capacity a plan adds is the sum of the responses of its single
hires — which is what the hiring program uses, and what :func:`simulate` re-checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from saleslead.roster.config import RosterConfig
from saleslead.roster.ramp import RampProfile
from saleslead.roster.seasonality import Seasonality
from saleslead.roster.seats import month_start

__all__ = ["MonthCapacity", "hire_response", "simulate"]


class MonthCapacity(BaseModel):
    """One month of one segment's capacity with every input it was computed from."""

    model_config = ConfigDict(frozen=True)

    month: str  # YYYY-MM
    segment: str
    heads: float  # expected AEs on the payroll in the month
    ramped_equivalents: float
    departures: float  # expected leavers entering the month
    backfills_starting: float
    hires_starting: int
    productivity: float  # per ramped AE-month
    seasonality: float
    monthly_attrition: float
    capacity: float  # expected bookings


def _name(month: int) -> str:
    day = month_start(month)
    return f"{day.year}-{day.month:02d}"


def simulate(
    segment: str,
    tenures: Sequence[int],
    first_month: int,
    last_month: int,
    hires: Mapping[int, int],
    ramp: RampProfile,
    productivity: float,
    season: Seasonality,
    config: RosterConfig,
) -> list[MonthCapacity]:
    """Months ``first_month..last_month`` (indexes); ``tenures`` are the AEs' tenure months in the month
    before ``first_month``; ``hires`` maps a month index to the hires starting then."""
    if last_month < first_month:
        return []
    cap = max(len(ramp.points), config.washout_months) + 1  # the last bucket holds every longer tenure
    heads = np.zeros(cap + 1)  # index = tenure month (0 unused)
    for t in tenures:
        heads[min(max(t, 1), cap)] += 1.0
    h = config.monthly_attrition
    w = config.monthly_washout
    hazard = np.full(cap + 1, h)
    hazard[1 : config.washout_months + 1] += w
    hazard = np.minimum(hazard, 1.0)
    factor = np.asarray([0.0, *(ramp.factor(m) for m in range(1, cap + 1))])
    pending: dict[int, float] = {}
    out: list[MonthCapacity] = []
    for month in range(first_month, last_month + 1):
        leaving = heads * hazard
        departures = float(leaving.sum())
        stay = heads - leaving
        heads = np.zeros(cap + 1)
        heads[2:] = stay[1:cap]
        heads[cap] += stay[cap]
        if config.backfill and departures > 0:
            pending[month + config.backfill_lag_months] = pending.get(month + config.backfill_lag_months, 0.0) + (
                departures
            )
        backfills = pending.pop(month, 0.0)
        hired = int(hires.get(month, 0))
        heads[1] += backfills + hired
        equivalents = float(heads @ factor)
        seasonal = season.of(month)
        out.append(
            MonthCapacity(
                month=_name(month),
                segment=segment,
                heads=float(heads.sum()),
                ramped_equivalents=equivalents,
                departures=departures,
                backfills_starting=backfills,
                hires_starting=hired,
                productivity=productivity,
                seasonality=seasonal,
                monthly_attrition=h,
                capacity=equivalents * productivity * seasonal,
            )
        )
    return out


def hire_response(
    first_month: int,
    last_month: int,
    start: int,
    ramp: RampProfile,
    productivity: float,
    season: Seasonality,
    config: RosterConfig,
) -> np.ndarray:
    """Expected bookings in each month ``first_month..last_month`` added by one hire starting at ``start``
    (with its own attrition and backfill chain)."""
    months = simulate("", [], first_month, last_month, {start: 1}, ramp, productivity, season, config)
    return np.asarray([m.capacity for m in months], dtype=np.float64)
