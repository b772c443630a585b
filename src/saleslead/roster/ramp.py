"""The ramp profile of a segment: productivity by tenure month, as a share of ramped productivity.

Learned from the AEs whose whole ramp the data shows (known start on or after the first booking in the
store) and who ramped (still employed after the segment's default ramp months):

* observed factor of tenure month m: ``Σ bookings in tenure month m ÷ (rep-months observed × P_ref)``,
  where ``P_ref`` is the mean monthly bookings of the segment's ramped AE-months over all history;
* blended with the default ramp (linear, ``min(1, m / ramp_months)``) by weight:
  ``(n_m · observed + k · default) ÷ (n_m + k)`` with ``k = ramp_prior_weight`` rep-months;
* smoothed and made monotone by weighted isotonic regression, clipped to [0, 1]; past the horizon, 1.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from pydantic import BaseModel, ConfigDict

from saleslead.evidence import Evidence
from saleslead.roster.config import RosterConfig
from saleslead.roster.productivity import WonLedger, employed_whole_month
from saleslead.roster.seats import RosterSeat, month_index, month_start

__all__ = ["RampPoint", "RampProfile", "default_ramp", "learn_ramp"]


class RampPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenure_month: int
    factor: float  # used by capacity
    default: float
    observed: float | None
    rep_months: int


class RampProfile(BaseModel):
    """Share of ramped productivity by tenure month (the start month is tenure month 1)."""

    model_config = ConfigDict(frozen=True)

    segment: str
    points: list[RampPoint]
    reference_per_rep_month: float
    reps: int
    ramped_at_month: int  # first tenure month whose factor is at least 0.95
    source: str  # learned | default
    evidence: Evidence

    def factor(self, tenure_month: int) -> float:
        if tenure_month < 1:
            return 0.0
        if tenure_month > len(self.points):
            return 1.0
        return self.points[tenure_month - 1].factor

    def factors(self, months: int) -> np.ndarray:
        """Factors of tenure months 1..months as an array."""
        return np.asarray([self.factor(m) for m in range(1, months + 1)], dtype=np.float64)

    def shifted(self, months: float) -> RampProfile:
        """The same curve stretched so full ramp comes ``months`` later (negative: sooner) — a what-if.

        ``factor'(m) = factor(m · R ÷ (R + months))`` with ``R`` the month the curve reaches 0.95,
        interpolated linearly between tenure months (factor 0 at month 0).
        """
        horizon = len(self.points)
        reach = max(self.ramped_at_month, 1)
        if reach + months <= 0:
            raise ValueError("a ramp cannot be shortened below one month")
        scale = reach / (reach + months)
        grid = np.arange(0, horizon + 1, dtype=np.float64)
        curve = np.asarray([0.0, *(p.factor for p in self.points)])
        new = [
            p.model_copy(update={"factor": float(np.interp(p.tenure_month * scale, grid, curve, right=1.0))})
            for p in self.points
        ]
        factors = [p.factor for p in new]
        return self.model_copy(update={"points": new, "ramped_at_month": _ramped_at(factors)})


def default_ramp(segment: str, config: RosterConfig) -> list[float]:
    months = config.ramp_months_for(segment)
    return [min(1.0, m / months) for m in range(1, config.ramp_horizon + 1)]


def _ramped_at(factors: list[float]) -> int:
    for i, f in enumerate(factors):
        if f >= 0.95:
            return i + 1
    return len(factors) + 1


def learn_ramp(
    seats: list[RosterSeat], ledger: WonLedger, segment: str, config: RosterConfig, min_sample: int
) -> RampProfile:
    horizon = config.ramp_horizon
    prior = default_ramp(segment, config)
    ramp_months = config.ramp_months_for(segment)
    last_complete = month_index(ledger.as_of) - (0 if (ledger.as_of + timedelta(days=1)).day == 1 else 1)
    aes = [s for s in seats if s.role == "AE" and s.segment == segment]
    # reference: mean monthly bookings of ramped, whole AE-months over all history
    ref_total, ref_months = 0.0, 0
    for seat in aes:
        book = ledger.by_rep_month.get(seat.user_id, {})
        first = max(month_index(seat.start_date) + ramp_months, ledger.first_month or 0)
        for m in range(first, last_complete + 1):
            if employed_whole_month(seat, m):
                ref_total += book.get(m, 0.0)
                ref_months += 1
    reference = ref_total / ref_months if ref_months else 0.0
    sums = np.zeros(horizon)
    counts = np.zeros(horizon, dtype=np.int64)
    reps = 0
    for seat in aes:
        start = month_index(seat.start_date)
        if seat.start_inferred or ledger.first_month is None or start < ledger.first_month:
            continue
        ramped = seat.end_date is None or month_index(seat.end_date) > start + ramp_months
        if not ramped or start + ramp_months > last_complete:
            continue
        reps += 1
        book = ledger.by_rep_month.get(seat.user_id, {})
        for t in range(horizon):
            m = start + t
            if m > last_complete:
                break
            if seat.end_date is not None and seat.end_date < month_start(m + 1) - timedelta(days=1):
                break
            sums[t] += book.get(m, 0.0)
            counts[t] += 1
    observed = [
        float(sums[t] / (counts[t] * reference)) if counts[t] and reference > 0 else None for t in range(horizon)
    ]
    k = config.ramp_prior_weight
    blend = np.asarray(
        [
            (counts[t] * o + k * prior[t]) / (counts[t] + k) if o is not None and counts[t] + k > 0 else prior[t]
            for t, o in enumerate(observed)
        ]
    )
    weights = counts.astype(np.float64) + max(k, 1e-6)
    from sklearn.isotonic import IsotonicRegression  # loaded when a ramp is learned, not with every command

    iso = IsotonicRegression(increasing=True, y_min=0.0, y_max=1.0)
    fitted = [float(x) for x in iso.fit_transform(np.arange(1, horizon + 1), blend, sample_weight=weights)]
    rep_months = int(counts.sum())
    learned = rep_months > 0 and reference > 0
    factors = fitted if learned else prior
    points = [
        RampPoint(
            tenure_month=t + 1, factor=factors[t], default=prior[t], observed=observed[t], rep_months=int(counts[t])
        )
        for t in range(horizon)
    ]
    method = (
        f"bookings by tenure month of {reps} AEs who ramped ÷ ramped productivity {reference:,.0f}/month, "
        f"blended with a {ramp_months}-month linear default (weight {k:g} rep-months), isotonic"
        if learned
        else f"default: linear over {ramp_months} months (no AE with a known, fully observed ramp)"
    )
    return RampProfile(
        segment=segment,
        points=points,
        reference_per_rep_month=reference,
        reps=reps,
        ramped_at_month=_ramped_at(factors),
        source="learned" if learned else "default",
        evidence=Evidence(
            method=method,
            sample_size=rep_months,
            thin=reps < min_sample,
            note=f"{reps} AEs, {rep_months} tenure-months observed; reference from {ref_months} ramped AE-months",
        ),
    )
