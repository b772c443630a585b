"""Productivity, not quota, is the primitive: what a fully ramped AE books per month, and attainment.

* ``won_by_rep_month``: closed-won bookings (amount of won deals, dated by close date, credited to the
  deal's owner as of ``as_of``) summed by rep and calendar month — from :func:`state_as_of` only.
* Ramped productivity of a segment: over the last ``lookback_quarters`` complete fiscal quarters, each
  AE's *ramped* months (whole month employed, tenure month above the segment's ramp months) give the
  rep's mean monthly bookings; the segment's productivity is the median (or mean) of those rep means.
  The interval is the distribution-free interval of a median (order statistics, binomial).
* Attainment: for every ramped AE-quarter of the window with a quota, bookings ÷ quota. The segment's
  attainment — the one number every face shows — is ``Σ bookings ÷ Σ quota`` over those AE-quarters (what
  the segment booked against what it was asked); the mean, median and percentiles describe the spread.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from pydantic import BaseModel, ConfigDict

from saleslead.evidence import Evidence, Rate, wilson
from saleslead.funnel.state import state_as_of
from saleslead.periods import Period
from saleslead.roster.config import RosterConfig
from saleslead.roster.seats import RosterSeat, month_index, month_start
from saleslead.store import Store

__all__ = [
    "Attainment",
    "Productivity",
    "WonLedger",
    "complete_quarters",
    "employed_whole_month",
    "measure_attainment",
    "measure_productivity",
    "won_ledger",
]


@dataclass(frozen=True)
class WonLedger:
    """Closed-won bookings known at the end of ``as_of``, by owner and calendar month index."""

    as_of: date
    by_rep_month: dict[str, dict[int, float]]
    by_segment_month: dict[str, dict[int, float]]
    first_month: int | None

    def rep_total(self, user_id: str, months: range) -> float:
        book = self.by_rep_month.get(user_id, {})
        return float(sum(book.get(m, 0.0) for m in months))


def won_ledger(store: Store, as_of: date) -> WonLedger:
    s = state_as_of(store, as_of)
    s = s.filter(s.is_won & s.close_date.notnull() & (s.close_date <= as_of))
    rows = s.select("owner_id", "segment", "amount", "close_date").to_pyarrow().to_pylist()
    by_rep: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    by_seg: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    first: int | None = None
    for r in rows:
        m = month_index(r["close_date"])
        first = m if first is None else min(first, m)
        by_rep[r["owner_id"] or ""][m] += float(r["amount"] or 0.0)
        by_seg[r["segment"]][m] += float(r["amount"] or 0.0)
    return WonLedger(
        as_of=as_of,
        by_rep_month={k: dict(v) for k, v in by_rep.items()},
        by_segment_month={k: dict(v) for k, v in by_seg.items()},
        first_month=first,
    )


def complete_quarters(as_of: date, count: int, fiscal_start_month: int) -> list[Period]:
    """The last ``count`` fiscal quarters that ended on or before ``as_of``, oldest first."""
    current = Period.quarter_of(as_of, fiscal_start_month)
    last = current if current.last_day <= as_of else current.shift(-1)
    return [last.shift(-i) for i in range(count - 1, -1, -1)]


def employed_whole_month(seat: RosterSeat, month: int) -> bool:
    """On the payroll from the first to the last day of calendar month ``month``."""
    first, after = month_start(month), month_start(month + 1)
    return seat.start_date <= first and (seat.end_date is None or seat.end_date >= after - timedelta(days=1))


class Productivity(BaseModel):
    """Bookings per fully ramped AE-month of one segment, with how it was measured."""

    model_config = ConfigDict(frozen=True)

    segment: str
    per_rep_month: float  # the statistic used by capacity (median or mean of rep means)
    statistic: str
    median: float
    mean: float
    low: float  # interval of the median
    high: float
    p25: float
    p75: float
    reps: int
    rep_months: int
    window: list[str]  # the quarters measured
    ramped_after_months: int
    evidence: Evidence


class Attainment(BaseModel):
    """Attainment (bookings ÷ quota) of ramped AE-quarters of one segment."""

    model_config = ConfigDict(frozen=True)

    segment: str
    rep_quarters: int
    overall: float | None  # Σ bookings ÷ Σ quota of those AE-quarters: the segment's attainment
    mean: float | None
    median: float | None
    p10: float | None
    p25: float | None
    p75: float | None
    p90: float | None
    at_or_above_quota: Rate
    evidence: Evidence


def _median_interval(values: list[float], confidence: float) -> tuple[float, float]:
    """Distribution-free interval of a median: order statistics k..n-k+1 with Binomial(n, 1/2)."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        return (0.0, 0.0)
    from scipy import stats  # scipy.stats takes ~1 s to load: only when a median interval is asked for

    k = int(stats.binom.ppf((1 - confidence) / 2, n, 0.5))
    lo = max(k - 1, 0)
    hi = min(n - k, n - 1)
    return (xs[lo], xs[max(hi, lo)])


def measure_productivity(
    seats: list[RosterSeat],
    ledger: WonLedger,
    segment: str,
    config: RosterConfig,
    fiscal_start_month: int,
    confidence: float,
    min_sample: int,
) -> Productivity:
    quarters = complete_quarters(ledger.as_of, config.lookback_quarters, fiscal_start_month)
    months = [m for q in quarters for m in range(month_index(q.start), month_index(q.end))]
    ramp = config.ramp_months_for(segment)
    rep_means: list[float] = []
    rep_months = 0
    for seat in seats:
        if seat.role != "AE" or seat.segment != segment:
            continue
        book = ledger.by_rep_month.get(seat.user_id, {})
        ramped = [m for m in months if employed_whole_month(seat, m) and m - month_index(seat.start_date) + 1 > ramp]
        if not ramped:
            continue
        rep_months += len(ramped)
        rep_means.append(sum(book.get(m, 0.0) for m in ramped) / len(ramped))
    window = [q.name for q in quarters]
    if not rep_means:
        evidence = Evidence(
            method="no ramped AE-months in the window", sample_size=0, thin=True, note="productivity unknown"
        )
        return Productivity(
            segment=segment, per_rep_month=0.0, statistic=config.productivity_statistic, median=0.0, mean=0.0,
            low=0.0, high=0.0, p25=0.0, p75=0.0, reps=0, rep_months=0, window=window,
            ramped_after_months=ramp, evidence=evidence,
        )  # fmt: skip
    arr = np.asarray(rep_means)
    median = float(np.median(arr))
    mean = float(arr.mean())
    low, high = _median_interval(rep_means, confidence)
    value = median if config.productivity_statistic == "median" else mean
    evidence = Evidence(
        method=(
            f"{config.productivity_statistic} over {len(rep_means)} AEs of each AE's mean monthly closed-won "
            f"bookings in ramped months (tenure month > {ramp}) of {window[0]}..{window[-1]}"
        ),
        sample_size=rep_months,
        thin=len(rep_means) < min_sample,
        note=f"{len(rep_means)} AEs, {rep_months} ramped AE-months; median interval by order statistics",
    )
    return Productivity(
        segment=segment,
        per_rep_month=value,
        statistic=config.productivity_statistic,
        median=median,
        mean=mean,
        low=low,
        high=high,
        p25=float(np.percentile(arr, 25)),
        p75=float(np.percentile(arr, 75)),
        reps=len(rep_means),
        rep_months=rep_months,
        window=window,
        ramped_after_months=ramp,
        evidence=evidence,
    )


def measure_attainment(
    seats: list[RosterSeat],
    ledger: WonLedger,
    quotas: dict[tuple[str, date], float],
    segment: str,
    config: RosterConfig,
    fiscal_start_month: int,
    confidence: float,
    min_sample: int,
) -> Attainment:
    """``quotas`` maps (owner, quota start date) to the quarterly quota amount."""
    ramp = config.ramp_months_for(segment)
    by_owner: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for (owner, start), amount in quotas.items():
        by_owner[owner].append((start, amount))
    values: list[float] = []
    booked, asked = 0.0, 0.0
    for q in complete_quarters(ledger.as_of, config.lookback_quarters, fiscal_start_month):
        months = range(month_index(q.start), month_index(q.end))
        for seat in seats:
            if seat.role != "AE" or seat.segment != segment:
                continue
            if not all(employed_whole_month(seat, m) for m in months):
                continue
            if months.start - month_index(seat.start_date) + 1 <= ramp:
                continue
            quota = [a for s, a in by_owner.get(seat.user_id, []) if q.contains(s) and a > 0]
            if not quota:
                continue
            bookings = ledger.rep_total(seat.user_id, months)
            values.append(bookings / quota[0])
            booked += bookings
            asked += quota[0]
    n = len(values)
    rate = wilson(sum(1 for v in values if v >= 1.0), n, confidence, min_sample)
    evidence = Evidence(
        method=(
            "Σ closed-won bookings ÷ Σ quarterly quota of ramped AEs employed the whole quarter "
            "(spread: each AE-quarter's bookings ÷ quota)"
        ),
        sample_size=n,
        thin=n < min_sample,
        note=f"{n} AE-quarters over the last {config.lookback_quarters} complete quarters",
    )
    if not values:
        return Attainment(
            segment=segment, rep_quarters=0, overall=None, mean=None, median=None, p10=None, p25=None, p75=None,
            p90=None, at_or_above_quota=rate, evidence=evidence,
        )  # fmt: skip
    arr = np.asarray(values)

    def pct(p: float) -> float:
        return float(np.percentile(arr, p))

    mean = float(arr.mean())
    return Attainment(
        segment=segment,
        rep_quarters=n,
        overall=booked / asked if asked > 0 else None,
        mean=mean if math.isfinite(mean) else None,
        median=pct(50),
        p10=pct(10),
        p25=pct(25),
        p75=pct(75),
        p90=pct(90),
        at_or_above_quota=rate,
        evidence=evidence,
    )
