"""How each demo opportunity lives: its stage path, outcome, amount and close-date changes, activities.

Vectorised over all deals. A deal walks the open stages in order; in each it dwells a lognormal time
and then either advances or is lost. The chance to advance falls once the dwell overstays the stage's
typical time (stale deals lose), depends on the channel early on, and at the end on the deal type, the
rep's skill and ramp, the fiscal quarter and a common per-quarter shock that correlates outcomes within
a quarter. Won deals are pulled toward quarter end. Reps set an optimistic close date and push it when it
passes; optimistic reps call Commit early. Every change becomes one history row carrying the full state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from saleslead.demo.deals import Created
from saleslead.demo.knobs import (
    CHANNEL_QUALIFY,
    LOST_LINGER,
    LOST_LINGER_SHARE,
    PRODUCT_AMOUNT,
    PRODUCT_SHARE,
    QUARTER_END_PULL,
    QUARTER_SHOCK_SD,
    QUARTER_WIN_FACTOR,
    SEGMENTS,
    STAGE_FORECAST,
    TASK_SUBJECTS,
    TYPE_AMOUNT,
    TYPE_WIN,
)
from saleslead.demo.people import Roster

__all__ = ["History", "Lifecycle", "live", "quarter_id", "quarter_start_day"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
DAY = 86_400
WON, LOST = 5, 6
_N_OPEN = 5
_MAX_PUSHES = 24
_SHOCK_QUARTERS = 120
# event kinds, in the order they are applied when two share a timestamp
_CREATE, _STAGE, _AMOUNT, _CATEGORY, _PUSH, _CLOSE = range(6)


def quarter_id(days: IntArray, fiscal_start_month: int) -> IntArray:
    """Fiscal quarters since 1970 (``% 4`` is the fiscal quarter, 0 = Q1)."""
    if days.size == 0:
        return np.zeros(days.shape, dtype=np.int64)
    first = int(days.min())
    span = np.arange(first, int(days.max()) + 1).astype("datetime64[D]")
    months = span.astype("datetime64[M]").astype(np.int64)
    table = (months - (fiscal_start_month - 1)) // 3
    return np.asarray(table[days - first], dtype=np.int64)


def quarter_start_day(qid: IntArray, fiscal_start_month: int) -> IntArray:
    if qid.size == 0:
        return np.zeros(qid.shape, dtype=np.int64)
    first = int(qid.min())
    months = (np.arange(first, int(qid.max()) + 1) * 3 + fiscal_start_month - 1).astype("datetime64[M]")
    return np.asarray(months.astype("datetime64[D]").astype(np.int64)[qid - first], dtype=np.int64)


def _month_end(days: IntArray) -> IntArray:
    first = int(days.min())
    span = np.arange(first, int(days.max()) + 1).astype("datetime64[D]")
    ends = (span.astype("datetime64[M]") + 1).astype("datetime64[D]").astype(np.int64) - 1
    return np.asarray(ends[days - first], dtype=np.int64)


@dataclass(frozen=True)
class History:
    """One row per change, sorted by deal then time; every row is the deal's full state after it."""

    deal: IntArray
    at_s: IntArray
    stage: IntArray
    amount: FloatArray
    close_day: IntArray
    category: IntArray


@dataclass(frozen=True)
class Lifecycle:
    product: IntArray
    closed_s: IntArray  # when the deal closes (may lie after the snapshot)
    won: npt.NDArray[np.bool_]
    history: History
    task_deal: IntArray  # sorted by deal then day
    task_day: IntArray
    task_subject: IntArray


def _ffill(values: npt.NDArray[np.generic], is_set: npt.NDArray[np.bool_]) -> npt.NDArray[np.generic]:
    source = np.where(is_set, np.arange(len(values)), 0)
    np.maximum.accumulate(source, out=source)
    return values[source]


def live(
    rng: np.random.Generator, created: Created, roster: Roster, start_day: int, fiscal_start_month: int
) -> Lifecycle:
    n = len(created.created_s)
    seg = created.segment
    median = np.asarray([p.stage_days for p in SEGMENTS], dtype=np.float64)[seg]  # (n, 5)
    advance = np.asarray([p.advance for p in SEGMENTS], dtype=np.float64)[seg]
    sigma = np.asarray([p.dwell_sigma for p in SEGMENTS])[seg]
    decay = np.asarray([p.stale_decay for p in SEGMENTS])[seg]
    dwell = median * np.exp(sigma[:, None] * rng.standard_normal((n, _N_OPEN)))
    overstay = np.maximum(dwell / median - 1.0, 0.0)
    chance = advance * np.exp(-decay[:, None] * overstay)
    chance[:, :2] *= np.asarray(CHANNEL_QUALIFY)[created.channel][:, None]

    skill = np.exp(0.12 * rng.standard_normal(len(roster)))
    optimism = rng.beta(2.0, 4.0, size=len(roster))
    owner_day = created.created_s // DAY
    ramp = roster.ramp(created.owner, owner_day)
    first_q = int(quarter_id(np.asarray([start_day]), fiscal_start_month)[0])
    shock_z = rng.standard_normal(_SHOCK_QUARTERS)

    dwell_s = np.maximum((dwell * DAY).astype(np.int64), 3600)
    exit_s = created.created_s[:, None] + np.cumsum(dwell_s, axis=1)
    entry_s = np.concatenate([created.created_s[:, None], exit_s[:, :-1]], axis=1)
    exit_q = quarter_id(exit_s // DAY, fiscal_start_month)
    z = shock_z[np.clip(exit_q - first_q, 0, _SHOCK_QUARTERS - 1)]
    chance[:, 3] *= np.exp(0.5 * QUARTER_SHOCK_SD * z[:, 3])
    chance[:, 4] *= (
        np.exp(QUARTER_SHOCK_SD * z[:, 4])
        * np.asarray(QUARTER_WIN_FACTOR)[exit_q[:, 4] % 4]
        * np.asarray(TYPE_WIN)[created.motion]
        * skill[created.owner]
        * (0.6 + 0.4 * ramp)
    )
    passed = rng.random((n, _N_OPEN)) < np.minimum(chance, 0.97)
    reached = np.cumprod(np.concatenate([np.ones((n, 1), dtype=bool), passed[:, :-1]], axis=1), axis=1)
    reached = reached.astype(bool)
    last = reached.sum(axis=1) - 1  # last open stage entered
    won = passed[:, 4] & reached[:, 4]
    rows = np.arange(n)
    decided_s = exit_s[rows, last]
    # many lost deals linger open, pushed and silent, before someone marks them lost
    linger = ~won & (rng.random(n) < LOST_LINGER_SHARE)
    linger_days = LOST_LINGER * median.sum(axis=1) * np.exp(0.7 * rng.standard_normal(n))
    closed_s = decided_s + np.where(linger, (linger_days * DAY).astype(np.int64), 0)

    # quarter-end pull: winners often sign in the last ten days of their quarter
    close_q = quarter_id(closed_s // DAY, fiscal_start_month)
    q_end = quarter_start_day(close_q + 1, fiscal_start_month)
    pull = won & (closed_s < (q_end - 10) * DAY) & (rng.random(n) < np.asarray(QUARTER_END_PULL)[close_q % 4])
    pulled_s = (q_end - 10 + rng.integers(0, 10, size=n)) * DAY + rng.integers(0, DAY, size=n)
    closed_s = np.where(pull, np.maximum(pulled_s // 60 * 60, closed_s), closed_s)

    product = rng.choice(len(PRODUCT_SHARE), size=n, p=PRODUCT_SHARE).astype(np.int64)
    amount0 = np.asarray([p.amount_median for p in SEGMENTS])[seg] * np.exp(
        np.asarray([p.amount_sigma for p in SEGMENTS])[seg] * rng.standard_normal(n)
    )
    amount0 = amount0 * np.asarray(TYPE_AMOUNT)[created.motion] * np.asarray(PRODUCT_AMOUNT)[product]
    amount0 = np.maximum(np.round(amount0, -2), 500.0)
    scope = reached[:, 2] & (rng.random(n) < 0.3)
    amount1 = np.where(scope, np.round(amount0 * np.exp(0.03 + 0.25 * rng.standard_normal(n)), -2), amount0)
    size_shock = np.exp(0.5 * QUARTER_SHOCK_SD * z[:, 4])
    haggle = np.exp(-0.06 + 0.06 * rng.standard_normal(n)) * size_shock
    amount2 = np.maximum(np.round(amount1 * haggle, -2), 500.0)

    # the rep's first close date: optimistic, often snapped to month end
    created_day = created.created_s // DAY
    estimate = median.sum(axis=1) * rng.uniform(0.55, 1.0, size=n)
    close0 = created_day + np.maximum(np.round(estimate), 7).astype(np.int64)
    snap = rng.random(n) < 0.5
    close0 = np.where(snap, _month_end(close0), close0) if n else close0
    push_days = np.asarray([p.push_days for p in SEGMENTS], dtype=np.int64)[seg]
    # reps push a passed close date within days; on a deal that is quietly dying, weeks later
    lag_days = np.where(linger, 0.9 * push_days, np.minimum(10.0, push_days / 3.0)) * rng.random(n)
    lag_s = (lag_days * DAY).astype(np.int64) + rng.integers(0, DAY // 2, size=n)
    first_push_s = close0 * DAY + lag_s
    pushes = np.ceil((closed_s - first_push_s) / (push_days * DAY)).astype(np.int64)
    pushes = np.clip(pushes, 0, _MAX_PUSHES)

    commit_early = reached[:, 3] & (rng.random(n) < optimism[created.owner])
    best_early = reached[:, 2] & (rng.random(n) < 0.6 * optimism[created.owner])
    frac = rng.uniform(0.15, 0.85, size=(n, 4))

    parts: list[tuple[IntArray, IntArray, int, IntArray, FloatArray, IntArray, IntArray]] = []
    none_i = np.full(n, -1, dtype=np.int64)
    none_f = np.full(n, np.nan)

    def add(mask: npt.NDArray[np.bool_], at_s: IntArray, kind: int, stage: IntArray = none_i,
            amount: FloatArray = none_f, close: IntArray = none_i, category: IntArray = none_i) -> None:  # fmt: skip
        parts.append((rows[mask], at_s[mask], kind, stage[mask], amount[mask], close[mask], category[mask]))

    every = np.ones(n, dtype=bool)
    add(every, created.created_s, _CREATE, np.zeros(n, np.int64), amount0, close0, np.zeros(n, np.int64))
    for j in range(1, _N_OPEN):
        add(reached[:, j], entry_s[:, j], _STAGE, np.full(n, j), category=np.full(n, STAGE_FORECAST[j]))
    add(scope, entry_s[:, 2] + (dwell_s[:, 2] * frac[:, 0]).astype(np.int64), _AMOUNT, amount=amount1)
    add(reached[:, 4], entry_s[:, 4] + (dwell_s[:, 4] * frac[:, 1]).astype(np.int64), _AMOUNT, amount=amount2)
    add(best_early, entry_s[:, 2] + (dwell_s[:, 2] * frac[:, 2]).astype(np.int64), _CATEGORY,
        category=np.full(n, 1))  # fmt: skip
    add(commit_early, entry_s[:, 3] + (dwell_s[:, 3] * frac[:, 3]).astype(np.int64), _CATEGORY,
        category=np.full(n, 2))  # fmt: skip
    final = np.where(won, WON, LOST)
    add(every, closed_s, _CLOSE, final, close=closed_s // DAY, category=np.asarray(STAGE_FORECAST)[final])

    push_deal = np.repeat(rows, pushes)
    k = np.arange(len(push_deal)) - np.repeat(np.cumsum(pushes) - pushes, pushes)
    push_at = first_push_s[push_deal] + k * push_days[push_deal] * DAY
    push_to = close0[push_deal] + (k + 1) * push_days[push_deal]
    keep = push_at < closed_s[push_deal]
    m = len(push_deal)
    parts.append((push_deal[keep], push_at[keep], _PUSH, np.full(m, -1)[keep], np.full(m, np.nan)[keep],
                  push_to[keep], np.full(m, -1)[keep]))  # fmt: skip

    deal = np.concatenate([p[0] for p in parts])
    at_s = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int8) for p in parts])
    # one sort key: deal, then time, then kind (deal < 2**29, times within 2**31 s of the first)
    offset = at_s - int(created.created_s[0]) if n else at_s
    order = np.argsort((deal << 34) | (offset << 3) | kind.astype(np.int64), kind="stable")
    deal, at_s = deal[order], at_s[order]
    stage = np.concatenate([p[3] for p in parts])[order]
    amount = np.concatenate([p[4] for p in parts])[order]
    close = np.concatenate([p[5] for p in parts])[order]
    category = np.concatenate([p[6] for p in parts])[order]
    history = History(
        deal,
        at_s,
        np.asarray(_ffill(stage, stage >= 0), dtype=np.int64),
        np.asarray(_ffill(amount, ~np.isnan(amount)), dtype=np.float64),
        np.asarray(_ffill(close, close >= 0), dtype=np.int64),
        np.asarray(_ffill(category, category >= 0), dtype=np.int64),
    )

    task_deal, task_day, task_subject = _tasks(rng, created, np.where(won, closed_s, decided_s), seg)
    return Lifecycle(product, closed_s, won, history, task_deal, task_day, task_subject)


def _tasks(
    rng: np.random.Generator, created: Created, decided_s: IntArray, seg: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Logged activities while a deal is worked; none after its fate is decided (lost deals go quiet)."""
    start = created.created_s // DAY
    span = np.maximum(decided_s // DAY - start, 0)
    rate = np.asarray([p.tasks_per_week for p in SEGMENTS])[seg]
    count = np.minimum(rng.poisson(rate * (span + 1) / 7.0 + 0.5), 40).astype(np.int64)
    deal = np.repeat(np.arange(len(start)), count)
    day = start[deal] + (rng.random(len(deal)) * (span[deal] + 1)).astype(np.int64)
    subject = rng.integers(0, len(TASK_SUBJECTS), size=len(deal)).astype(np.int64)
    first = int(start.min()) if len(start) else 0
    key = np.sort((deal << 20) | (day - first))
    return key >> 20, (key & ((1 << 20) - 1)) + first, subject
