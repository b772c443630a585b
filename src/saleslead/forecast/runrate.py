"""New pipeline: what will be created after the as-of date and won inside the period, from run-rates.

(Computed here until the shared funnel core's run-rates land; then fold into ``saleslead.funnel``.)

For the as-of day ``D`` at offset ``o = D - period.start`` days, each of the last :data:`QUARTERS`
periods ``Q`` of the same length that ended by ``D`` gives the amount won inside ``Q`` by deals created
after ``Q.start + o`` — the same position in that period. Per segment: the mean over those periods
(the run-rate) and its coefficient of variation, each past period's amount first scaled by the pace
of deal creation: deals created in the 91 days up to ``D`` over those created in the 91 days up to
``Q.start + o`` (per segment), so a growing team is not forecast at last year's size. The amount goes
to owners in proportion to the open pipeline they carry in the segment at ``D``, or — where the past
periods show whole deals to draw from — as whole deals: :func:`creation_shares` splits a segment's count
of new deals over its owners by each one's measured creation in the last :data:`PACE_DAYS` days, pooled
toward an equal split (``SHARE_PRIOR`` deals' worth), and each deal's amount is drawn from ``pool``: the
amounts of the deals created and won inside the past periods (:class:`~saleslead.forecast.simulate.Book`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from saleslead.forecast.panel import DealBook, day_number
from saleslead.periods import Period

__all__ = ["QUARTERS", "SHARE_PRIOR", "NewPipeline", "creation_shares", "new_pipeline_run_rate"]

Floats = npt.NDArray[np.float64]
QUARTERS = 4
PACE_DAYS = 91
SHARE_PRIOR = 4.0  # deals' worth of an equal split each owner's creation share is pooled toward


@dataclass(frozen=True)
class NewPipeline:
    mean: Floats  # per segment
    cv: Floats
    periods: list[str]
    samples: npt.NDArray[np.float64]  # (periods, segments)
    pool: tuple[Floats, ...] = ()  # per segment: amounts of deals created and won inside the past periods


def _created(segment: npt.NDArray[np.int64], created: npt.NDArray[np.int64], day: int, n_seg: int) -> Floats:
    """Deals created in the :data:`PACE_DAYS` days up to ``day``, per segment."""
    recent = (created > day - PACE_DAYS) & (created <= day)
    return np.bincount(segment[recent], minlength=n_seg).astype(np.float64)


def new_pipeline_run_rate(book: DealBook, period: Period, as_of: int) -> NewPipeline:
    """Created-and-won-inside-the-period run-rate by segment, measured on periods finished by ``as_of``."""
    n_seg = len(book.segment_names)
    offset = as_of - day_number(period.start)
    now = book.states_at(as_of)
    created = now.day - now.age_days
    won = now.is_won
    past: list[Period] = []
    step = 1
    while len(past) < QUARTERS and step <= 4 * QUARTERS:
        q = period.shift(-step)
        step += 1
        if day_number(q.end) <= as_of + 1:
            past.append(q)
    samples = np.zeros((len(past), n_seg))
    segment = book.segment[now.deal]
    inside = np.zeros(len(now), dtype=bool)
    pace_now = _created(segment, created, now.day[0] if len(now) else as_of, n_seg)
    for j, q in enumerate(past):
        start, end = day_number(q.start), day_number(q.end)
        mask = won & (now.close_day >= start) & (now.close_day < end) & (created > start + offset)
        booked = np.bincount(segment[mask], weights=now.amount[mask], minlength=n_seg)
        inside |= won & (now.close_day >= start) & (now.close_day < end) & (created >= start)
        pace = _created(segment, created, start + offset, n_seg)
        # scaled by the pace of deal creation now vs then (the team grows or shrinks)
        samples[j] = booked * np.where(pace > 0, pace_now / np.maximum(pace, 1), 1.0)
    if not past:
        return NewPipeline(np.zeros(n_seg), np.zeros(n_seg), [], samples)
    mean = samples.mean(axis=0)
    sd = samples.std(axis=0, ddof=1) if len(past) > 1 else mean * 0.5
    cv = np.where(mean > 0, sd / np.maximum(mean, 1e-9), 0.0)
    pool = tuple(np.asarray(now.amount[inside & (segment == s)], dtype=np.float64) for s in range(n_seg))
    return NewPipeline(mean, cv, [q.name for q in past], samples, pool)


def creation_shares(book: DealBook, as_of: int, owners: npt.NDArray[np.int64], fallback: Floats) -> Floats:
    """(segments, owners): each owner's share of the segment's deal creation in the last :data:`PACE_DAYS`
    days (``owners``: book owner codes), pooled toward an equal split over the owners who created any
    (:data:`SHARE_PRIOR` deals' worth). A segment nobody created deals in keeps ``fallback``'s row."""
    n_seg = len(book.segment_names)
    now = book.states_at(as_of)
    created = now.day - now.age_days
    recent = (created > as_of - PACE_DAYS) & (created <= as_of)
    local = np.full(len(book.owners), -1, dtype=np.int64)
    local[owners] = np.arange(len(owners))
    who = local[now.owner]
    keep = recent & (who >= 0)
    counts = np.zeros((n_seg, len(owners)))
    np.add.at(counts, (book.segment[now.deal[keep]], who[keep]), 1.0)
    active = counts > 0
    equal = np.divide(active, active.sum(axis=1, keepdims=True), out=np.zeros_like(counts),
                      where=active.sum(axis=1, keepdims=True) > 0)  # fmt: skip
    shares = (counts + SHARE_PRIOR * equal) / np.maximum(counts.sum(axis=1, keepdims=True) + SHARE_PRIOR, 1e-9)
    return np.where(counts.sum(axis=1, keepdims=True) > 0, shares, fallback)
