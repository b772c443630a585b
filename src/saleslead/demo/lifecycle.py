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
from datetime import date

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
    TASK_SUBJECTS,
    TYPE_AMOUNT,
    TYPE_WIN,
)
from saleslead.demo.people import Roster
from saleslead.demo.worlds import Shape, stage_ladder

__all__ = ["History", "Lifecycle", "live", "quarter_id", "quarter_start_day"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
DAY = 86_400
_MAX_PUSHES = 24
_SHOCK_QUARTERS = 120
_EPOCH = date(1970, 1, 1)
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
    rng: np.random.Generator,
    created: Created,
    roster: Roster,
    start_day: int,
    fiscal_start_month: int,
    shape: Shape | None = None,
    extra: np.random.Generator | None = None,
) -> Lifecycle:
    """Every deal's life. ``shape`` bends the process (:class:`~saleslead.demo.worlds.Shape`); the draws its
    knobs need come from ``extra``, so the standard shape draws exactly what it always did from ``rng``."""
    shape = shape or Shape()
    extra = extra or np.random.default_rng(0)
    k_open = shape.open_stages
    won_stage, lost_stage = k_open, k_open + 1
    last, prev, mid = k_open - 1, k_open - 2, k_open // 2
    stage_forecast = np.asarray(stage_ladder(k_open)[2])
    n = len(created.created_s)
    seg = created.segment
    profiles = [shape.stage_profile(p.stage_days, p.advance) for p in SEGMENTS]
    median = np.asarray([d for d, _ in profiles], dtype=np.float64)[seg]  # (n, open stages)
    advance = np.asarray([a for _, a in profiles], dtype=np.float64)[seg]
    created_day0 = created.created_s // DAY
    if shape.regime_at is not None and shape.regime_cycle != 1.0:
        after = created_day0 >= (shape.regime_at - _EPOCH).days
        median = median * np.where(after, shape.regime_cycle, 1.0)[:, None]
    sigma = np.asarray([p.dwell_sigma for p in SEGMENTS])[seg]
    decay = np.asarray([p.stale_decay for p in SEGMENTS])[seg]
    dwell = median * np.exp(sigma[:, None] * rng.standard_normal((n, k_open)))
    overstay = np.maximum(dwell / median - 1.0, 0.0)
    chance = advance * np.exp(-decay[:, None] * overstay)
    chance[:, :2] *= np.asarray(CHANNEL_QUALIFY)[created.channel][:, None]

    skill = np.exp(shape.skill_sd * rng.standard_normal(len(roster)))
    optimism = rng.beta(*shape.optimism, size=len(roster))
    owner_day = created.created_s // DAY
    ramp = roster.ramp(created.owner, owner_day)
    first_q = int(quarter_id(np.asarray([start_day]), fiscal_start_month)[0])
    shock_z = rng.standard_normal(_SHOCK_QUARTERS)

    dwell_s = np.maximum((dwell * DAY).astype(np.int64), 3600)
    exit_s = created.created_s[:, None] + np.cumsum(dwell_s, axis=1)
    entry_s = np.concatenate([created.created_s[:, None], exit_s[:, :-1]], axis=1)
    exit_q = quarter_id(exit_s // DAY, fiscal_start_month)
    z = shock_z[np.clip(exit_q - first_q, 0, _SHOCK_QUARTERS - 1)]
    shock_sd = QUARTER_SHOCK_SD if shape.standard else shape.quarter_shock
    chance[:, prev] *= np.exp(0.5 * shock_sd * z[:, prev])
    chance[:, last] *= (
        np.exp(shock_sd * z[:, last])
        * shape.season(QUARTER_WIN_FACTOR)[exit_q[:, last] % 4]
        * np.asarray(TYPE_WIN)[created.motion]
        * skill[created.owner]
        * (0.6 + 0.4 * ramp)
    )
    if not shape.standard:
        chance[:, last] *= _process_drift(shape, exit_s[:, last] // DAY, created_day0, start_day)
    passed = rng.random((n, k_open)) < np.minimum(chance, 0.97)
    reached = np.cumprod(np.concatenate([np.ones((n, 1), dtype=bool), passed[:, :-1]], axis=1), axis=1)
    reached = reached.astype(bool)
    furthest = reached.sum(axis=1) - 1  # last open stage entered
    won = passed[:, last] & reached[:, last]
    rows = np.arange(n)
    decided_s = exit_s[rows, furthest]
    # many lost deals linger open, pushed and silent, before someone marks them lost
    linger = ~won & (rng.random(n) < LOST_LINGER_SHARE)
    linger_days = LOST_LINGER * median.sum(axis=1) * np.exp(0.7 * rng.standard_normal(n))
    closed_s = decided_s + np.where(linger, (linger_days * DAY).astype(np.int64), 0)

    # quarter-end pull: winners often sign in the last ten days of their quarter
    close_q = quarter_id(closed_s // DAY, fiscal_start_month)
    q_end = quarter_start_day(close_q + 1, fiscal_start_month)
    pull_share = np.asarray(QUARTER_END_PULL)
    if not shape.standard:
        pull_share = np.clip(0.3 + shape.seasonality * (pull_share - 0.3), 0.05, 0.9)
    pull = won & (closed_s < (q_end - 10) * DAY) & (rng.random(n) < pull_share[close_q % 4])
    pulled_s = (q_end - 10 + rng.integers(0, 10, size=n)) * DAY + rng.integers(0, DAY, size=n)
    closed_s = np.where(pull, np.maximum(pulled_s // 60 * 60, closed_s), closed_s)

    product = rng.choice(len(PRODUCT_SHARE), size=n, p=PRODUCT_SHARE).astype(np.int64)
    amount0 = np.asarray([p.amount_median for p in SEGMENTS])[seg] * np.exp(
        np.asarray([p.amount_sigma for p in SEGMENTS])[seg] * rng.standard_normal(n)
    )
    amount0 = amount0 * np.asarray(TYPE_AMOUNT)[created.motion] * np.asarray(PRODUCT_AMOUNT)[product]
    amount0 = np.maximum(np.round(amount0, -2), 500.0)
    if shape.whale_share > 0:
        amount0 = np.where(extra.random(n) < shape.whale_share, amount0 * shape.whale_factor, amount0)
    scope = reached[:, mid] & (rng.random(n) < 0.3)
    amount1 = np.where(scope, np.round(amount0 * np.exp(0.03 + 0.25 * rng.standard_normal(n)), -2), amount0)
    size_shock = np.exp(0.5 * shock_sd * z[:, last])
    haggle = np.exp(-0.06 + 0.06 * rng.standard_normal(n)) * size_shock
    amount2 = np.maximum(np.round(amount1 * haggle, -2), 500.0)

    # the rep's first close date: optimistic, often snapped to month end
    created_day = created.created_s // DAY
    estimate = median.sum(axis=1) * rng.uniform(0.55, 1.0, size=n)
    push_days = np.asarray([p.push_days for p in SEGMENTS], dtype=np.int64)[seg]
    if shape.pushers > 0:  # habitual pushers: close dates set early, pushed by short steps
        pusher = (extra.random(len(roster)) < shape.pushers)[created.owner]
        estimate = np.where(pusher, estimate * 0.45, estimate)
        push_days = np.where(pusher, np.maximum(push_days // 2, 7), push_days)
    close0 = created_day + np.maximum(np.round(estimate), 7).astype(np.int64)
    snap = rng.random(n) < 0.5
    close0 = np.where(snap, _month_end(close0), close0) if n else close0
    # reps push a passed close date within days; on a deal that is quietly dying, weeks later
    lag_days = np.where(linger, 0.9 * push_days, np.minimum(10.0, push_days / 3.0)) * rng.random(n)
    lag_s = (lag_days * DAY).astype(np.int64) + rng.integers(0, DAY // 2, size=n)
    first_push_s = close0 * DAY + lag_s
    pushes = np.ceil((closed_s - first_push_s) / (push_days * DAY)).astype(np.int64)
    pushes = np.clip(pushes, 0, _MAX_PUSHES)

    commit_early = reached[:, prev] & (rng.random(n) < optimism[created.owner])
    best_early = reached[:, mid] & (rng.random(n) < 0.6 * optimism[created.owner])
    frac = rng.uniform(0.15, 0.85, size=(n, 4))

    parts: list[tuple[IntArray, IntArray, int, IntArray, FloatArray, IntArray, IntArray]] = []
    none_i = np.full(n, -1, dtype=np.int64)
    none_f = np.full(n, np.nan)

    def add(mask: npt.NDArray[np.bool_], at_s: IntArray, kind: int, stage: IntArray = none_i,
            amount: FloatArray = none_f, close: IntArray = none_i, category: IntArray = none_i) -> None:  # fmt: skip
        parts.append((rows[mask], at_s[mask], kind, stage[mask], amount[mask], close[mask], category[mask]))

    every = np.ones(n, dtype=bool)
    add(every, created.created_s, _CREATE, np.zeros(n, np.int64), amount0, close0, np.zeros(n, np.int64))
    sandbag = extra.random(n) < shape.sandbag if shape.sandbag > 0 else np.zeros(n, dtype=bool)
    for j in range(1, k_open):
        category = np.where(sandbag, 1, stage_forecast[j]) if j == last else np.full(n, stage_forecast[j])
        add(reached[:, j], entry_s[:, j], _STAGE, np.full(n, j), category=category)
    add(scope, entry_s[:, mid] + (dwell_s[:, mid] * frac[:, 0]).astype(np.int64), _AMOUNT, amount=amount1)
    add(reached[:, last], entry_s[:, last] + (dwell_s[:, last] * frac[:, 1]).astype(np.int64), _AMOUNT,
        amount=amount2)  # fmt: skip
    add(best_early, entry_s[:, mid] + (dwell_s[:, mid] * frac[:, 2]).astype(np.int64), _CATEGORY,
        category=np.full(n, 1))  # fmt: skip
    add(commit_early & ~sandbag, entry_s[:, prev] + (dwell_s[:, prev] * frac[:, 3]).astype(np.int64), _CATEGORY,
        category=np.full(n, 2))  # fmt: skip
    final = np.where(won, won_stage, lost_stage)
    add(every, closed_s, _CLOSE, final, close=closed_s // DAY, category=stage_forecast[final])

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


def _process_drift(shape: Shape, decided_day: IntArray, created_day: IntArray, start_day: int) -> FloatArray:
    """The final stage's win multiplier from the shape's drift, regime change and booms/slumps."""
    years = (decided_day - start_day) / 365.25
    out = np.exp(shape.win_drift * years) * shape.waves(decided_day - 60, start_day)
    if shape.regime_at is not None:
        out = out * np.where(created_day >= (shape.regime_at - _EPOCH).days, shape.regime_win, 1.0)
    return np.asarray(out, dtype=np.float64)


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
