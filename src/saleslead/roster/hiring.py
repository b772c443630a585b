"""The hiring plan of one segment: the fewest AE hires, started as early as they can be, whose capacity reaches
the goal with its buffer — or, when no hiring in time reaches it, the most that is reachable and what binds.

For each month ``u`` a hire approved at ``as_of`` can start (``as_of``'s month + lead time + 1 up to the
period's last month), ``a[u]`` is the period bookings one hire starting then adds — its ramp, attrition,
wash-out and backfill chain (:func:`capacity.hire_response`). The model is linear in hires, so:

* ``need = goal × (1 + buffer) − base`` (``base`` the period capacity of the roster as it stands);
* **fewest hires**: any ``k`` hires add at most the ``k`` largest ``a[u]`` (each month at most
  ``max_hires_per_month`` times), so the fewest hires that cover the need are the largest yields taken in
  order until they do — exact, not a heuristic. Yields fall with later starts, so these are the earliest
  months: hires start early enough to ramp (ties go to the earlier month);
* **the most reachable** (``ceiling``): the period capacity with ``max_hires_per_month`` hires in every start
  month. A goal above it is out of reach by hiring in time. The plan then does not hire the maximum
  everywhere: it starts the seats the goal's *run rate* needs — ``⌈goal × (1 + buffer) ÷ (productivity ×
  Σ seasonality of the period) − heads at the period's end⌉``, the ramped sellers the goal needs on average
  less the heads the roster will have — at the earliest months, and names what binds:

  * ``time`` — even those seats, all starting at the earliest month, would not ramp in time (lead time and
    ramp);
  * ``hiring_rate`` — they would, but ``max_hires_per_month`` lets too few start early enough;
  * ``no_productivity`` — nothing ramped AEs booked was measured: capacity cannot be sized.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from saleslead.roster.capacity import MonthCapacity, hire_response, simulate
from saleslead.roster.config import RosterConfig
from saleslead.roster.ramp import RampProfile
from saleslead.roster.seasonality import Seasonality

__all__ = ["HiringWindow", "SegmentHiring", "SegmentInputs", "plan_hires", "plan_segment"]


@dataclass(frozen=True)
class SegmentInputs:
    segment: str
    tenures: list[int]
    ramp: RampProfile
    productivity: float
    season: Seasonality
    goal: float


@dataclass(frozen=True)
class HiringWindow:
    """When hires can start and what they are measured against: one parameter object for every step."""

    first_month: int  # the month after as_of's: where the capacity model starts
    period_first: int
    period_last: int
    earliest_start: int  # the first month a hire approved at as_of can start
    buffer: float
    config: RosterConfig

    @property
    def starts(self) -> range:
        return range(max(self.earliest_start, self.first_month), self.period_last + 1)

    @property
    def in_period(self) -> slice:
        return slice(self.period_first - self.first_month, self.period_last - self.first_month + 1)


@dataclass(frozen=True)
class SegmentHiring:
    segment: str
    hires: dict[int, int]  # month index -> hires starting then
    months: list[MonthCapacity]  # re-simulated with the hires, first_month..period_last
    base_months: list[MonthCapacity]  # without new hires
    per_hire: dict[int, float]  # start month -> period bookings one hire starting then adds
    target: float  # goal × (1 + buffer)
    base: float
    capacity: float
    ceiling: float  # the most the period can reach: the cap's hires in every start month
    reachable: bool
    limit: str | None  # time | hiring_rate | no_productivity, when out of reach
    run_rate_sellers: float | None  # ramped sellers the goal needs on average over the period
    heads_at_end: float  # heads the roster as it stands will have in the period's last month
    run_rate_hires: int  # the seats the run rate needs beyond them


def _fill(per_hire: Mapping[int, float], cap: int, enough: float | None, most: int | None) -> dict[int, int]:
    """Hires by start month, largest yield (then earliest month) first, at most ``cap`` a month, until they add
    ``enough`` or number ``most``."""
    hires: dict[int, int] = {}
    added, count = 0.0, 0
    for u in sorted((u for u, a in per_hire.items() if a > 0), key=lambda u: (-per_hire[u], u)):
        if enough is not None and added >= enough * (1 - 1e-9):
            break
        take = cap if most is None else min(cap, most - count)
        if enough is not None:
            take = min(take, math.ceil((enough - added) / per_hire[u] - 1e-9))
        if take <= 0:
            break
        hires[u] = take
        added += take * per_hire[u]
        count += take
    return dict(sorted(hires.items()))


def _run_rate(
    seg: SegmentInputs, window: HiringWindow, target: float, base: list[MonthCapacity]
) -> tuple[float | None, float]:
    """(ramped sellers the goal needs on average over the period — None without productivity —, heads the
    roster as it stands has in the period's last month)."""
    seasons = sum(seg.season.of(t) for t in range(window.period_first, window.period_last + 1))
    heads = base[window.in_period][-1].heads if base[window.in_period] else 0.0
    if seg.productivity <= 0 or seasons <= 0:
        return None, heads
    return target / (seg.productivity * seasons), heads


def _choose(
    per_hire: Mapping[int, float],
    cap: int,
    base: float,
    target: float,
    ceiling: float,
    run_rate_hires: int,
    run_rate: float | None,
) -> tuple[dict[int, int], str | None]:
    """(hires by start month, what makes the goal out of reach or None)."""
    if run_rate is None:
        return {}, "no_productivity"
    if target <= base:
        return {}, None
    if target <= ceiling * (1 + 1e-12):
        return _fill(per_hire, cap, target - base, None), None
    hires = _fill(per_hire, cap, None, run_rate_hires)
    first = min(per_hire, default=None)
    early = base + run_rate_hires * per_hire[first] if first is not None else base
    return hires, ("hiring_rate" if run_rate_hires > 0 and early >= target else "time")


def plan_segment(seg: SegmentInputs, window: HiringWindow) -> SegmentHiring:
    """The hires of one segment (see the module doc)."""
    config = window.config
    base_months = simulate(
        seg.segment, seg.tenures, window.first_month, window.period_last, {}, seg.ramp, seg.productivity, seg.season,
        config,
    )  # fmt: skip
    base = sum(m.capacity for m in base_months[window.in_period])
    target = seg.goal * (1.0 + window.buffer)
    per_hire = {
        u: float(
            hire_response(window.first_month, window.period_last, u, seg.ramp, seg.productivity, seg.season, config)[
                window.in_period
            ].sum()
        )
        for u in window.starts
    }
    ceiling = base + config.max_hires_per_month * sum(per_hire.values())
    run_rate, heads_at_end = _run_rate(seg, window, target, base_months)
    run_rate_hires = 0 if run_rate is None else max(0, math.ceil(run_rate - heads_at_end - 1e-9))
    hires, limit = _choose(per_hire, config.max_hires_per_month, base, target, ceiling, run_rate_hires, run_rate)
    months = simulate(
        seg.segment, seg.tenures, window.first_month, window.period_last, hires, seg.ramp, seg.productivity,
        seg.season, config,
    )  # fmt: skip
    capacity = sum(m.capacity for m in months[window.in_period])
    return SegmentHiring(
        segment=seg.segment,
        hires=hires,
        months=months,
        base_months=base_months,
        per_hire=per_hire,
        target=target,
        base=base,
        capacity=capacity,
        ceiling=ceiling,
        reachable=limit is None and capacity >= target * (1 - 1e-9),
        limit=limit,
        run_rate_sellers=run_rate,
        heads_at_end=heads_at_end,
        run_rate_hires=run_rate_hires,
    )


def plan_hires(inputs: list[SegmentInputs], window: HiringWindow) -> dict[str, SegmentHiring]:
    """Every segment's hires; segments do not share a constraint, so each is planned on its own."""
    return {seg.segment: plan_segment(seg, window) for seg in inputs}
