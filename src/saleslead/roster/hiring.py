"""The hiring plan: the fewest AE hires per month and segment whose capacity reaches the goal with a buffer.

An integer program on HiGHS, one block per segment ``s``:

* ``H[s,u]`` — integer hires starting in month ``u``, ``0 ≤ H ≤ max_hires_per_month``, for ``u`` from the
  first month a hire approved at ``as_of`` can start (``as_of``'s month + lead time + 1) to the last
  month of the period;
* ``a[s,u] = Σ_{t in period} response_u(t)`` — the period bookings one hire starting in ``u`` adds
  (ramp, attrition, wash-out, backfill chain: :func:`capacity.hire_response`);
* ``base[s]`` — the period capacity of the roster as it stands;
* ``Σ_u a[s,u] H[s,u] + need[s] · short[s] ≥ need[s] = goal[s] × (1 + buffer) − base[s]``,
  ``0 ≤ short[s] ≤ 1`` — the share of the need that no hiring in time can cover;
* minimise ``Σ H[s,u] · (1 + 0.001 · (last − u)) + 10⁴ · Σ short[s]``: fewest hires first, later (cheaper)
  starts among equal counts, and a shortfall only when the goal is out of reach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from saleslead.roster.capacity import MonthCapacity, hire_response, simulate
from saleslead.roster.config import RosterConfig
from saleslead.roster.ramp import RampProfile
from saleslead.roster.seasonality import Seasonality
from saleslead.roster.solver import MipOutcome, solve_mip

__all__ = ["HiringSolution", "SegmentInputs", "plan_hires"]

_SHORT_PENALTY = 1e4


@dataclass(frozen=True)
class SegmentInputs:
    segment: str
    tenures: list[int]
    ramp: RampProfile
    productivity: float
    season: Seasonality
    goal: float


@dataclass(frozen=True)
class HiringSolution:
    hires: dict[str, dict[int, int]]  # segment -> month index -> hires
    months: dict[str, list[MonthCapacity]]  # re-simulated with the hires, first_month..period_last
    base_months: dict[str, list[MonthCapacity]]  # without new hires
    shortfall: dict[str, float]  # share of the need no hiring in time covers
    outcome: MipOutcome | None


def plan_hires(
    inputs: list[SegmentInputs],
    first_month: int,
    period_first: int,
    period_last: int,
    earliest_start: int,
    buffer: float,
    config: RosterConfig,
    time_limit: float = 30.0,
) -> HiringSolution:
    starts = list(range(max(earliest_start, first_month), period_last + 1))
    in_period = slice(period_first - first_month, period_last - first_month + 1)
    base: dict[str, list[MonthCapacity]] = {}
    columns: list[tuple[int, int]] = []  # (segment position, start month)
    coeff: list[float] = []
    needs: list[float] = []
    for i, seg in enumerate(inputs):
        months = simulate(
            seg.segment, seg.tenures, first_month, period_last, {}, seg.ramp, seg.productivity, seg.season, config
        )
        base[seg.segment] = months
        have = sum(m.capacity for m in months[in_period])
        needs.append(max(0.0, seg.goal * (1.0 + buffer) - have))
        for u in starts:
            response = hire_response(first_month, period_last, u, seg.ramp, seg.productivity, seg.season, config)
            columns.append((i, u))
            coeff.append(float(response[in_period].sum()))
    hires: dict[str, dict[int, int]] = {s.segment: {} for s in inputs}
    shortfall = {s.segment: 0.0 for s in inputs}
    outcome: MipOutcome | None = None
    if any(n > 0 for n in needs):
        n_h, n_s = len(columns), len(inputs)
        rows, cols, vals = [], [], []
        for j, (i, _) in enumerate(columns):
            if coeff[j] > 0:
                rows.append(i)
                cols.append(j)
                vals.append(coeff[j])
        for i in range(n_s):
            rows.append(i)
            cols.append(n_h + i)
            vals.append(max(needs[i], 1e-9))
        matrix = sp.csc_matrix((vals, (rows, cols)), shape=(n_s, n_h + n_s))
        cost = np.asarray(
            [1.0 + 0.001 * (period_last - u) for _, u in columns] + [_SHORT_PENALTY] * n_s, dtype=np.float64
        )
        upper = np.asarray([float(config.max_hires_per_month)] * n_h + [1.0] * n_s)
        integer = np.asarray([True] * n_h + [False] * n_s)
        outcome = solve_mip(
            cost,
            np.zeros(n_h + n_s),
            upper,
            integer,
            matrix,
            np.asarray(needs, dtype=np.float64),
            np.full(n_s, math.inf),
            time_limit=time_limit,
            mip_rel_gap=1e-6,
        )
        for j, (i, u) in enumerate(columns):
            count = round(float(outcome.values[j]))
            if count > 0:
                hires[inputs[i].segment][u] = count
        for i, seg in enumerate(inputs):
            shortfall[seg.segment] = float(outcome.values[n_h + i]) if needs[i] > 0 else 0.0
    planned = {
        s.segment: simulate(
            s.segment, s.tenures, first_month, period_last, hires[s.segment], s.ramp, s.productivity, s.season, config
        )
        for s in inputs
    }
    return HiringSolution(hires=hires, months=planned, base_months=base, shortfall=shortfall, outcome=outcome)
