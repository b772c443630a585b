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


@dataclass(frozen=True)
class _Org:
    """What every step of a deal's life reads: the deals as created, the reps, the process's shape, the calendar."""

    created: Created
    roster: Roster
    shape: Shape
    start_day: int
    fiscal_start_month: int

    @property
    def n(self) -> int:
        return len(self.created.created_s)

    @property
    def last(self) -> int:
        """The last open stage (the one a deal is won out of)."""
        return self.shape.open_stages - 1

    @property
    def prev(self) -> int:
        return self.shape.open_stages - 2

    @property
    def mid(self) -> int:
        return self.shape.open_stages // 2

    @property
    def shock_sd(self) -> float:
        """The sd of the common per-quarter shock on the log of the chance to win."""
        return QUARTER_SHOCK_SD if self.shape.standard else self.shape.quarter_shock


@dataclass(frozen=True)
class _Dwell:
    """Per deal and open stage: the typical dwell and the one drawn (days), and the chance to advance out of the
    stage given that dwell (stale deals lose) and, early on, the channel."""

    median: FloatArray
    days: FloatArray
    chance: FloatArray

    @classmethod
    def draw(cls, rng: np.random.Generator, org: _Org) -> _Dwell:
        shape, created = org.shape, org.created
        seg = created.segment
        profiles = [shape.stage_profile(p.stage_days, p.advance) for p in SEGMENTS]
        median = np.asarray([d for d, _ in profiles], dtype=np.float64)[seg]  # (n, open stages)
        advance = np.asarray([a for _, a in profiles], dtype=np.float64)[seg]
        if shape.regime_at is not None and shape.regime_cycle != 1.0:
            after = created.created_s // DAY >= (shape.regime_at - _EPOCH).days
            median = median * np.where(after, shape.regime_cycle, 1.0)[:, None]
        sigma = np.asarray([p.dwell_sigma for p in SEGMENTS])[seg]
        decay = np.asarray([p.stale_decay for p in SEGMENTS])[seg]
        dwell = median * np.exp(sigma[:, None] * rng.standard_normal((org.n, shape.open_stages)))
        overstay = np.maximum(dwell / median - 1.0, 0.0)
        chance = advance * np.exp(-decay[:, None] * overstay)
        chance[:, :2] *= np.asarray(CHANNEL_QUALIFY)[created.channel][:, None]
        return cls(median, dwell, chance)

    @property
    def typical_days(self) -> FloatArray:
        """Per deal, the typical time through every open stage."""
        return np.asarray(self.median.sum(axis=1), dtype=np.float64)


@dataclass(frozen=True)
class _Timeline:
    """When each deal would enter and leave each open stage (seconds), the fiscal quarter it would leave it in,
    and that quarter's common shock."""

    dwell_s: IntArray
    entry_s: IntArray
    exit_s: IntArray
    exit_q: IntArray
    z: FloatArray

    @classmethod
    def draw(cls, rng: np.random.Generator, org: _Org, dwell_days: FloatArray) -> _Timeline:
        first_q = int(quarter_id(np.asarray([org.start_day]), org.fiscal_start_month)[0])
        shock_z = rng.standard_normal(_SHOCK_QUARTERS)
        created_s = org.created.created_s
        dwell_s = np.maximum((dwell_days * DAY).astype(np.int64), 3600)
        exit_s = created_s[:, None] + np.cumsum(dwell_s, axis=1)
        entry_s = np.concatenate([created_s[:, None], exit_s[:, :-1]], axis=1)
        exit_q = quarter_id(exit_s // DAY, org.fiscal_start_month)
        z = shock_z[np.clip(exit_q - first_q, 0, _SHOCK_QUARTERS - 1)]
        return cls(dwell_s, entry_s, exit_s, exit_q, z)

    def within(self, stage: int, share: FloatArray) -> IntArray:
        """The instant ``share`` of the way through each deal's dwell in ``stage``."""
        return self.entry_s[:, stage] + (self.dwell_s[:, stage] * share).astype(np.int64)


def _win_odds(org: _Org, base: FloatArray, t: _Timeline, skill: FloatArray) -> FloatArray:
    """The chance to advance with the quarter's shock on the last two stages, and on the last the quarter's
    season, the deal type, the rep's skill and ramp, and (for a shaped org) the process's drift."""
    shape, created = org.shape, org.created
    last, prev = org.last, org.prev
    ramp = org.roster.ramp(created.owner, created.created_s // DAY)
    chance = base.copy()
    chance[:, prev] *= np.exp(0.5 * org.shock_sd * t.z[:, prev])
    chance[:, last] *= (
        np.exp(org.shock_sd * t.z[:, last])
        * shape.season(QUARTER_WIN_FACTOR)[t.exit_q[:, last] % 4]
        * np.asarray(TYPE_WIN)[created.motion]
        * skill[created.owner]
        * (0.6 + 0.4 * ramp)
    )
    if not shape.standard:
        chance[:, last] *= _process_drift(shape, t.exit_s[:, last] // DAY, created.created_s // DAY, org.start_day)
    return chance


@dataclass(frozen=True)
class _Fate:
    """How far each deal got and how it ended: the open stages it reached, whether it was won, when that was
    decided, whether it lingered open after it was lost, and when it was closed."""

    reached: npt.NDArray[np.bool_]  # (n, open stages)
    won: npt.NDArray[np.bool_]
    decided_s: IntArray
    linger: npt.NDArray[np.bool_]
    closed_s: IntArray

    @classmethod
    def draw(
        cls, rng: np.random.Generator, org: _Org, chance: FloatArray, t: _Timeline, typical_days: FloatArray
    ) -> _Fate:
        n, last = org.n, org.last
        passed = rng.random((n, org.shape.open_stages)) < np.minimum(chance, 0.97)
        reached = np.cumprod(np.concatenate([np.ones((n, 1), dtype=bool), passed[:, :-1]], axis=1), axis=1)
        reached = reached.astype(bool)
        won = passed[:, last] & reached[:, last]
        decided_s = t.exit_s[np.arange(n), reached.sum(axis=1) - 1]  # leaving the last open stage entered
        # many lost deals linger open, pushed and silent, before someone marks them lost
        linger = ~won & (rng.random(n) < LOST_LINGER_SHARE)
        linger_days = LOST_LINGER * typical_days * np.exp(0.7 * rng.standard_normal(n))
        closed_s = decided_s + np.where(linger, (linger_days * DAY).astype(np.int64), 0)
        return cls(reached, won, decided_s, linger, _pull_to_quarter_end(rng, org, won, closed_s))


def _pull_to_quarter_end(
    rng: np.random.Generator, org: _Org, won: npt.NDArray[np.bool_], closed_s: IntArray
) -> IntArray:
    """Winners often sign in the last ten days of their quarter: some close times moved there."""
    n, fsm = org.n, org.fiscal_start_month
    close_q = quarter_id(closed_s // DAY, fsm)
    q_end = quarter_start_day(close_q + 1, fsm)
    pull_share = np.asarray(QUARTER_END_PULL)
    if not org.shape.standard:
        pull_share = np.clip(0.3 + org.shape.seasonality * (pull_share - 0.3), 0.05, 0.9)
    pull = won & (closed_s < (q_end - 10) * DAY) & (rng.random(n) < pull_share[close_q % 4])
    pulled_s = (q_end - 10 + rng.integers(0, 10, size=n)) * DAY + rng.integers(0, DAY, size=n)
    return np.where(pull, np.maximum(pulled_s // 60 * 60, closed_s), closed_s)


@dataclass(frozen=True)
class _Amounts:
    """Each deal's product and amount: at creation, after a re-scope mid-way (``scope``), after the last stage's
    haggle (moved by the quarter's shock)."""

    product: IntArray
    first: FloatArray
    scope: npt.NDArray[np.bool_]
    scoped: FloatArray
    final: FloatArray

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        extra: np.random.Generator,
        org: _Org,
        reached: npt.NDArray[np.bool_],
        size_shock: FloatArray,
    ) -> _Amounts:
        n, seg, shape = org.n, org.created.segment, org.shape
        product = rng.choice(len(PRODUCT_SHARE), size=n, p=PRODUCT_SHARE).astype(np.int64)
        amount0 = np.asarray([p.amount_median for p in SEGMENTS])[seg] * np.exp(
            np.asarray([p.amount_sigma for p in SEGMENTS])[seg] * rng.standard_normal(n)
        )
        amount0 = amount0 * np.asarray(TYPE_AMOUNT)[org.created.motion] * np.asarray(PRODUCT_AMOUNT)[product]
        amount0 = np.maximum(np.round(amount0, -2), 500.0)
        if shape.whale_share > 0:
            amount0 = np.where(extra.random(n) < shape.whale_share, amount0 * shape.whale_factor, amount0)
        scope = reached[:, org.mid] & (rng.random(n) < 0.3)
        amount1 = np.where(scope, np.round(amount0 * np.exp(0.03 + 0.25 * rng.standard_normal(n)), -2), amount0)
        haggle = np.exp(-0.06 + 0.06 * rng.standard_normal(n)) * size_shock
        amount2 = np.maximum(np.round(amount1 * haggle, -2), 500.0)
        return cls(product, amount0, scope, amount1, amount2)


@dataclass(frozen=True)
class _CloseDates:
    """The rep's first close date (optimistic, often snapped to month end) and its pushes: once it has passed,
    the first push comes after a lag and then one every ``step_days`` until the deal closes."""

    first: IntArray  # day
    step_days: IntArray
    first_push_s: IntArray
    pushes: IntArray

    @classmethod
    def draw(
        cls, rng: np.random.Generator, extra: np.random.Generator, org: _Org, typical_days: FloatArray, fate: _Fate
    ) -> _CloseDates:
        n, owner = org.n, org.created.owner
        estimate = typical_days * rng.uniform(0.55, 1.0, size=n)
        push_days = np.asarray([p.push_days for p in SEGMENTS], dtype=np.int64)[org.created.segment]
        if org.shape.pushers > 0:  # habitual pushers: close dates set early, pushed by short steps
            pusher = (extra.random(len(org.roster)) < org.shape.pushers)[owner]
            estimate = np.where(pusher, estimate * 0.45, estimate)
            push_days = np.where(pusher, np.maximum(push_days // 2, 7), push_days)
        close0 = org.created.created_s // DAY + np.maximum(np.round(estimate), 7).astype(np.int64)
        snap = rng.random(n) < 0.5
        close0 = np.where(snap, _month_end(close0), close0) if n else close0
        # reps push a passed close date within days; on a deal that is quietly dying, weeks later
        lag_days = np.where(fate.linger, 0.9 * push_days, np.minimum(10.0, push_days / 3.0)) * rng.random(n)
        lag_s = (lag_days * DAY).astype(np.int64) + rng.integers(0, DAY // 2, size=n)
        first_push_s = close0 * DAY + lag_s
        pushes = np.ceil((fate.closed_s - first_push_s) / (push_days * DAY)).astype(np.int64)
        return cls(close0, push_days, first_push_s, np.clip(pushes, 0, _MAX_PUSHES))

    def push_rows(self, closed_s: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Every push made before its deal closed: the deal, when, and the close day it moved to."""
        deal = np.repeat(np.arange(len(self.pushes)), self.pushes)
        k = np.arange(len(deal)) - np.repeat(np.cumsum(self.pushes) - self.pushes, self.pushes)
        at_s = self.first_push_s[deal] + k * self.step_days[deal] * DAY
        to = self.first[deal] + (k + 1) * self.step_days[deal]
        keep = at_s < closed_s[deal]
        return deal[keep], at_s[keep], to[keep]


@dataclass(frozen=True)
class _Calls:
    """The reps' forecast-category calls — Best Case and Commit called early (optimistic reps more often), Commit
    held back on sandbagged deals — and where within its stage each mid-stage change falls."""

    commit_early: npt.NDArray[np.bool_]
    best_early: npt.NDArray[np.bool_]
    sandbag: npt.NDArray[np.bool_]
    #: (n, 4): the share of the way through its stage of the re-scope, the haggle, the early Best Case and Commit
    within: FloatArray

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        extra: np.random.Generator,
        org: _Org,
        reached: npt.NDArray[np.bool_],
        optimism: FloatArray,
    ) -> _Calls:
        n, owner, shape = org.n, org.created.owner, org.shape
        commit_early = reached[:, org.prev] & (rng.random(n) < optimism[owner])
        best_early = reached[:, org.mid] & (rng.random(n) < 0.6 * optimism[owner])
        within = rng.uniform(0.15, 0.85, size=(n, 4))
        sandbag = extra.random(n) < shape.sandbag if shape.sandbag > 0 else np.zeros(n, dtype=bool)
        return cls(commit_early, best_early, sandbag, within)


_Part = tuple[IntArray, IntArray, int, IntArray, FloatArray, IntArray, IntArray]


class _Rows:
    """History rows gathered one kind of change at a time — deal, instant, kind, and the stage, amount, close day
    and category it sets (-1 / nan: unchanged) — then sorted, every row carrying the deal's full state."""

    def __init__(self, n: int) -> None:
        self.deals = np.arange(n)
        self.none_i = np.full(n, -1, dtype=np.int64)
        self.none_f = np.full(n, np.nan)
        self.parts: list[_Part] = []

    def add(
        self,
        mask: npt.NDArray[np.bool_],
        at_s: IntArray,
        kind: int,
        stage: IntArray | None = None,
        amount: FloatArray | None = None,
        close: IntArray | None = None,
        category: IntArray | None = None,
    ) -> None:
        """One change of ``kind`` for the deals in ``mask`` (all arrays per deal)."""
        stage = self.none_i if stage is None else stage
        amount = self.none_f if amount is None else amount
        close = self.none_i if close is None else close
        category = self.none_i if category is None else category
        self.parts.append((self.deals[mask], at_s[mask], kind, stage[mask], amount[mask], close[mask], category[mask]))

    def add_pushes(self, deal: IntArray, at_s: IntArray, to: IntArray) -> None:
        """Close-date pushes (arrays per push): only the close day changes."""
        m = len(deal)
        self.parts.append((deal, at_s, _PUSH, np.full(m, -1), np.full(m, np.nan), to, np.full(m, -1)))

    def history(self, origin_s: int) -> History:
        """The rows in (deal, time, kind) order with every unset field carried forward from the row before;
        ``origin_s``: the first deal's creation (times are packed relative to it)."""
        parts = self.parts
        deal = np.concatenate([p[0] for p in parts])
        at_s = np.concatenate([p[1] for p in parts])
        kind = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int8) for p in parts])
        # one sort key: deal, then time, then kind (deal < 2**29, times within 2**31 s of the first)
        offset = at_s - origin_s
        order = np.argsort((deal << 34) | (offset << 3) | kind.astype(np.int64), kind="stable")
        stage = np.concatenate([p[3] for p in parts])[order]
        amount = np.concatenate([p[4] for p in parts])[order]
        close = np.concatenate([p[5] for p in parts])[order]
        category = np.concatenate([p[6] for p in parts])[order]
        return History(
            deal[order],
            at_s[order],
            np.asarray(_ffill(stage, stage >= 0), dtype=np.int64),
            np.asarray(_ffill(amount, ~np.isnan(amount)), dtype=np.float64),
            np.asarray(_ffill(close, close >= 0), dtype=np.int64),
            np.asarray(_ffill(category, category >= 0), dtype=np.int64),
        )


def _history(org: _Org, t: _Timeline, fate: _Fate, amounts: _Amounts, dates: _CloseDates, calls: _Calls) -> History:
    """Every change as one history row: creation, each stage entered, the amount's re-scope and haggle, the
    early calls, the close, and the close-date pushes."""
    n, last, prev, mid = org.n, org.last, org.prev, org.mid
    k_open = org.shape.open_stages
    stage_forecast = np.asarray(stage_ladder(k_open)[2])
    rows = _Rows(n)
    every = np.ones(n, dtype=bool)
    created_s = org.created.created_s
    rows.add(every, created_s, _CREATE, np.zeros(n, np.int64), amounts.first, dates.first, np.zeros(n, np.int64))
    for j in range(1, k_open):
        category = np.where(calls.sandbag, 1, stage_forecast[j]) if j == last else np.full(n, stage_forecast[j])
        rows.add(fate.reached[:, j], t.entry_s[:, j], _STAGE, np.full(n, j), category=category)
    rows.add(amounts.scope, t.within(mid, calls.within[:, 0]), _AMOUNT, amount=amounts.scoped)
    rows.add(fate.reached[:, last], t.within(last, calls.within[:, 1]), _AMOUNT, amount=amounts.final)
    rows.add(calls.best_early, t.within(mid, calls.within[:, 2]), _CATEGORY, category=np.full(n, 1))
    rows.add(calls.commit_early & ~calls.sandbag, t.within(prev, calls.within[:, 3]), _CATEGORY, category=np.full(n, 2))
    final = np.where(fate.won, k_open, k_open + 1)  # the won or the lost stage
    rows.add(every, fate.closed_s, _CLOSE, final, close=fate.closed_s // DAY, category=stage_forecast[final])
    rows.add_pushes(*dates.push_rows(fate.closed_s))
    return rows.history(int(created_s[0]) if n else 0)


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
    knobs need come from ``extra``, so the standard shape draws exactly what it always did from ``rng``.

    The steps draw in a fixed order (a seed gives the same org): dwell, reps, quarter shocks, fate, amounts,
    close dates, calls, activities."""
    org = _Org(created, roster, shape or Shape(), start_day, fiscal_start_month)
    extra = extra or np.random.default_rng(0)
    dwell = _Dwell.draw(rng, org)
    skill = np.exp(org.shape.skill_sd * rng.standard_normal(len(roster)))
    optimism = rng.beta(*org.shape.optimism, size=len(roster))
    t = _Timeline.draw(rng, org, dwell.days)
    fate = _Fate.draw(rng, org, _win_odds(org, dwell.chance, t, skill), t, dwell.typical_days)
    amounts = _Amounts.draw(rng, extra, org, fate.reached, np.exp(0.5 * org.shock_sd * t.z[:, org.last]))
    dates = _CloseDates.draw(rng, extra, org, dwell.typical_days, fate)
    calls = _Calls.draw(rng, extra, org, fate.reached, optimism)
    history = _history(org, t, fate, amounts, dates, calls)
    decided = np.where(fate.won, fate.closed_s, fate.decided_s)
    task_deal, task_day, task_subject = _tasks(rng, created, decided, created.segment)
    return Lifecycle(amounts.product, fate.closed_s, fate.won, history, task_deal, task_day, task_subject)


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
