"""Window calibration, period shock and the category stack — all measured out of sample on past periods.

For a forecast of ``period`` at the end of ``as_of`` (``o = as_of − period.start`` days in), each of the
last :data:`SHOCK_QUARTERS` finished periods ``q`` is replayed *at the same point*: the deals open at
``q.start + o + δ`` (``δ`` in :data:`SHOCK_STEPS`), their probability of winning inside ``q`` from the
hazard model as it was fit at ``q.start + o − 7`` (:func:`saleslead.forecast.model.walk_forward`: it saw no
outcome after that day), their amount and CRM category, and whether they won. From those groups:

* the window calibration and the period shock (:func:`~saleslead.forecast.simulate.estimate_shock`);
* the category stack: amount-weighted win rates of the open pipeline by CRM category × close date in the
  period, and the weight ``λ`` of the model against those rates that would have erred least on the past
  periods (the rates left out of the period they are scored on). A cell's expected amount is
  blended in that proportion, each deal's log-odds moved by one shift per cell (:class:`Stack`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import special

from saleslead.forecast.model import DealModel, walk_forward, win_in_window
from saleslead.forecast.panel import DealBook, States, day_number
from saleslead.forecast.rollup import category_field
from saleslead.forecast.runrate import new_pipeline_run_rate
from saleslead.forecast.simulate import Group, Shock, estimate_shock
from saleslead.forecast.spread import Spread
from saleslead.periods import Period

__all__ = [
    "CELLS",
    "SHOCK_QUARTERS",
    "SHOCK_STEPS",
    "Calibration",
    "OwnerEffects",
    "PastPeriods",
    "Stack",
    "calibrate",
    "category_cells",
    "fit_stack",
    "level_of",
    "level_ratios",
    "owner_effects",
    "past_periods",
    "period_weights",
    "shift_classes",
    "win_probabilities",
    "won_in",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
SHOCK_QUARTERS = 8
SHOCK_STEPS = (-7, 0, 7)  # days around the same point of each past period
#: Stack cells: CRM category × whether the close date falls in the period.
CELLS = tuple(f"{c}{where}" for c in ("commit", "best_case", "pipeline", "other") for where in ("", "_outside"))
_WEIGHTS = np.linspace(0.0, 1.0, 21)
_MIN_LEVEL = 0.1  # the level factor at least (past periods that booked nothing after the point do not zero it)


def period_weights(as_of: int, period: Period) -> Floats:
    """Share of each lead week (from the end of ``as_of``) that falls inside the period."""
    start, end = day_number(period.start), day_number(period.end)
    weeks = max(0, -(-(end - (as_of + 1)) // 7))
    lo = as_of + 1 + 7 * np.arange(weeks)
    overlap = np.clip(np.minimum(lo + 7, end) - np.maximum(lo, start), 0, 7)
    return np.asarray(overlap / 7.0, dtype=np.float64)


def win_probabilities(model: DealModel, book: DealBook, st: States, period: Period) -> Floats:
    """P(won inside ``period``) for deals open in ``st`` (all at the same day)."""
    if not len(st):
        return np.zeros(0)
    weights = period_weights(int(st.day[0]), period)
    if not len(weights):
        return np.zeros(len(st))
    return win_in_window(model.hazards(book, st, len(weights)), weights)


def won_in(st: States, period: Period) -> npt.NDArray[np.bool_]:
    start, end = day_number(period.start), day_number(period.end)
    return st.is_won & (st.close_day >= start) & (st.close_day < end)


def shift_classes(book: DealBook, st: States) -> Ints:
    """(deals, 1) classes of the calibration's intercept shifts: the deal's segment. (A shift by the season of
    the period was tried: with two past periods per season it soaked up the period shock — σ fell and the
    P10–P90 held 66 % of outcomes on the demo's backtest instead of 79 %.)"""
    return book.segment[st.deal][:, None]


def category_cells(book: DealBook, st: States, period: Period) -> Ints:
    """Index into :data:`CELLS` of each deal: its CRM category and whether it is to close inside ``period``."""
    field = [category_field(c) for c in book.categories]
    kind = np.asarray([("commit", "best_case", "pipeline").index(f) if f in ("commit", "best_case", "pipeline")
                       else 3 for f in field], dtype=np.int64)  # fmt: skip
    start, end = day_number(period.start), day_number(period.end)
    outside = ~((st.close_day >= start) & (st.close_day < end))
    return np.asarray(kind[st.forecast_category] * 2 + outside, dtype=np.int64)


@dataclass(frozen=True)
class Stack:
    """Per cell, the amount the open deals are expected to win is ``λ·Σ p'·a + (1 − λ)·rate·Σ a``; each deal's
    probability is moved by one shift of the log-odds per cell to match it (the model still ranks the deals
    inside a cell). ``λ = 1``: the model alone (also when there was nothing to learn from)."""

    model_weight: float
    rates: tuple[float, ...]  # per cell of CELLS: amount won / amount open, over the past periods
    periods: int

    def apply(self, p: Floats, cells: Ints, amount: Floats) -> Floats:
        if self.model_weight >= 1.0 or not self.rates:
            return p
        lg = special.logit(np.clip(p, 1e-9, 1 - 1e-9))
        a = np.maximum(amount, 0.0)
        n = len(CELLS)
        expected = np.bincount(cells, weights=p * a, minlength=n)
        target = self.model_weight * expected + (1 - self.model_weight) * np.asarray(self.rates) * np.bincount(
            cells, weights=a, minlength=n
        )
        low, high = np.full(n, -12.0), np.full(n, 12.0)
        for _ in range(60):  # bisection on each cell's shift: the expected amount rises with it
            mid = (low + high) / 2
            got = np.bincount(cells, weights=special.expit(lg + mid[cells]) * a, minlength=n)
            low, high = np.where(got < target, mid, low), np.where(got < target, high, mid)
        return np.asarray(special.expit(lg + ((low + high) / 2)[cells]), dtype=np.float64)


@dataclass(frozen=True)
class OwnerEffects:
    """Owner effects on the log-odds, measured on the replayed past origins and partially pooled.

    For owner ``o`` in past period ``q``: ``x_oq = Σ (won − p') / Σ p'(1 − p')`` over the owner's deals at the
    period's origins, after the origin's common shift (the period shock) is taken out — a one-step estimate of
    the owner's shift of the log-odds that period, with sampling variance ``s² ≈ k / Σ p'(1 − p')`` (``k``
    origins share the deals). Method of moments: ``E[x² − s²] = τ_s² + τ_e²`` (lasting + this period's),
    ``E[x_oq · x_oq']`` over two periods of the same owner ``= τ_s²``. Each owner's lasting effect is shrunk
    toward 0 (normal–normal, empirical Bayes): ``mean = Σ w x / (Σ w + 1/τ_s²)``, ``w = 1/(τ_e² + s²)``,
    posterior variance ``1/(Σ w + 1/τ_s²)``. A forecast draws each owner's effect for the period as
    ``mean + N(0, posterior variance + τ_e²)`` (an owner never seen: ``N(0, τ_s² + τ_e²)``).
    """

    lasting_var: float = 0.0
    period_var: float = 0.0
    mean: dict[int, float] = field(default_factory=dict)  # book owner code → posterior mean
    var: dict[int, float] = field(default_factory=dict)  # book owner code → posterior variance
    cells: int = 0  # owner-periods measured

    def draw(self, owners: Ints) -> tuple[Floats, Floats]:
        """Per owner (book codes): the shift and the sd of the period's draw."""
        shift = np.asarray([self.mean.get(int(o), 0.0) for o in owners], dtype=np.float64)
        var = np.asarray([self.var.get(int(o), self.lasting_var) for o in owners], dtype=np.float64)
        return shift, np.sqrt(var + self.period_var)


def owner_effects(replays: list[tuple[Floats, Bools, Ints, int]], origins_per_period: int) -> OwnerEffects:
    """:class:`OwnerEffects` from replayed origins ``(p', won, owner, period index)``."""
    sums: dict[tuple[int, int], list[float]] = {}
    for p, won, owner, period in replays:
        v = p * (1 - p)
        resid = won.astype(np.float64) - p
        common = resid.sum() / max(v.sum(), 1e-9)  # the origin's shared shift (the period shock)
        r = resid - v * common
        codes, where = np.unique(owner, return_inverse=True)
        rs = np.bincount(where, weights=r, minlength=len(codes))
        vs = np.bincount(where, weights=v, minlength=len(codes))
        for c, a, b in zip(codes.tolist(), rs.tolist(), vs.tolist(), strict=True):
            cell = sums.setdefault((c, period), [0.0, 0.0])
            cell[0] += a
            cell[1] += b
    rows = [(o, q, a / b, origins_per_period / b) for (o, q), (a, b) in sums.items() if b >= 0.5]
    if len(rows) < 8:
        return OwnerEffects()
    x = np.asarray([r[2] for r in rows])
    s2 = np.asarray([r[3] for r in rows])
    w = 1.0 / s2
    total = max(float(np.sum(w * (x**2 - s2)) / w.sum()), 0.0)
    by_owner: dict[int, list[tuple[float, float]]] = {}
    for o, _, xi, si in rows:
        by_owner.setdefault(o, []).append((xi, si))
    cross, pairs = 0.0, 0.0
    for cells in by_owner.values():
        if len(cells) < 2:
            continue
        xs = np.asarray([c[0] for c in cells])
        ws = 1.0 / np.asarray([c[1] for c in cells])
        outer = np.outer(ws * xs, ws * xs)
        weight = np.outer(ws, ws)
        cross += float(outer.sum() - np.trace(outer))
        pairs += float(weight.sum() - np.trace(weight))
    lasting = min(max(cross / pairs, 0.0), total) if pairs > 0 else 0.0
    period_var = total - lasting
    mean: dict[int, float] = {}
    var: dict[int, float] = {}
    if lasting > 0:
        for o, cells in by_owner.items():
            wo = np.asarray([1.0 / (period_var + c[1]) for c in cells])
            xo = np.asarray([c[0] for c in cells])
            precision = float(wo.sum()) + 1.0 / lasting
            mean[o] = float((wo * xo).sum()) / precision
            var[o] = 1.0 / precision
    return OwnerEffects(lasting, period_var, mean, var, len(rows))


@dataclass(frozen=True)
class Level:
    """The forecast's level error, measured out of sample at the same point of past periods.

    At each past period's replayed origin (δ = 0): ``r_q = still to book / forecast of it``, the amount won in
    ``q`` after the origin over the stacked open-deal expectation plus the new-pipeline run-rate as of the
    origin. Their mean ``m``, shrunk toward 1 (positive-part James–Stein on ``m − 1``: ``1 + (m − 1)·max(0,
    1 − s²/(n·(m − 1)²))``), is the factor ``e^shift`` the expectation is moved by; ``cv2``, the mean squared
    gap of ``r_q`` from that factor over its square (``n − 1`` in the denominator), is the relative variance of
    what is still to book around the corrected forecast: the spread the forecast's own scenarios must reach
    (what they lack is added as one multiplicative factor per scenario, mean 1, on every node's still-to-book
    part). Ratios, not their logs: the correction is one of the expectation (a mean of logs falls below it
    whenever a few periods book far more than the rest, as big deals make them), and a period that booked
    almost nothing after the origin is a ratio near 0, not a log near −∞."""

    shift: float = 0.0
    cv2: float = 0.0
    periods: int = 0

    def apply(self, p: Floats, amount: Floats) -> Floats:
        """``p`` moved by one common log-odds shift so that ``Σ p·amount`` grows by ``e^shift``."""
        if not self.shift or not len(p):
            return p
        a = np.maximum(amount, 0.0)
        target = float(p @ a) * np.exp(self.shift)
        lg = special.logit(np.clip(p, 1e-9, 1 - 1e-9))
        low, high = -12.0, 12.0
        for _ in range(60):
            mid = (low + high) / 2
            if float(special.expit(lg + mid) @ a) < target:
                low = mid
            else:
                high = mid
        return np.asarray(special.expit(lg + (low + high) / 2), dtype=np.float64)


def level_error(book: DealBook, now: States, periods: list[Period], replays: list[tuple[Floats, _Replay]]) -> Level:
    """:class:`Level` from the replayed origins at δ = 0 (``(stacked p', replay)``)."""
    return level_of(np.asarray([x for x, _ in level_ratios(book, now, periods, replays)], dtype=np.float64))


def level_ratios(
    book: DealBook, now: States, periods: list[Period], replays: list[tuple[Floats, _Replay]]
) -> list[tuple[float, int]]:
    """Per replayed origin at δ = 0: (still to book / forecast of it, its period's index)."""
    ratios: list[tuple[float, int]] = []
    for p, r in replays:
        q = periods[r.period]
        won = won_in(now, q)
        actual = float(now.amount[won].sum())
        booked = float(now.amount[won & (now.close_day <= r.day)].sum())
        expected = float(p @ r.amount) + float(new_pipeline_run_rate(book, q, r.day).mean.sum())
        if expected > 0:
            ratios.append((max(actual - booked, 0.0) / expected, r.period))
    return ratios


def level_of(x: Floats) -> Level:
    """:class:`Level` from the past periods' ratios ``still to book / forecast of it`` (fewer than 3: none)."""
    n = len(x)
    if n < 3:
        return Level(periods=n)
    gap, s2 = float(x.mean()) - 1.0, float(x.var(ddof=1))
    shrink = max(0.0, 1.0 - s2 / (n * gap * gap)) if gap else 0.0
    factor = max(1.0 + gap * shrink, _MIN_LEVEL)
    cv2 = float(np.sum((x - factor) ** 2)) / (n - 1) / factor**2
    return Level(shift=float(np.log(factor)), cv2=cv2, periods=n)


@dataclass(frozen=True)
class Calibration:
    shock: Shock
    stack: Stack
    owners: OwnerEffects = field(default_factory=OwnerEffects)
    #: the stacked probabilities of the replayed origins, whether the deal won, and the CRM stage probability
    scored: tuple[Floats, Floats, Floats] = (np.zeros(0), np.zeros(0), np.zeros(0))
    level: Level = field(default_factory=Level)
    #: per past period (its name): the level error and owner effects measured without it, for a replay of that
    #: period that has not seen its outcome through them
    without: dict[str, tuple[Level, OwnerEffects]] = field(default_factory=dict)
    #: each level's P10/P90 quantile levels from the replayed PITs (:mod:`saleslead.forecast.spread`)
    spread: Spread = field(default_factory=Spread)


@dataclass(frozen=True)
class PastPeriods:
    """The finished periods a calibration is measured on, each with the model as it was fit at its cut
    ``q.start + cut_offset`` (``None`` where history was too thin): it saw no outcome after the cut."""

    period: Period  # the period being forecast
    cut_offset: int
    periods: list[Period]
    models: list[DealModel | None]

    def serves(self, as_of: int, period: Period) -> bool:
        """True when these models are still out of sample for a forecast of ``period`` at ``as_of``."""
        return period == self.period and as_of - day_number(period.start) + min(SHOCK_STEPS) >= self.cut_offset


def past_periods(
    model: DealModel,
    book: DealBook,
    as_of: int,
    period: Period,
    min_sample: int,
    cache: dict[int, DealModel | None] | None = None,
) -> PastPeriods:
    """The last :data:`SHOCK_QUARTERS` periods finished by ``as_of``, oldest first, with their models.

    ``cache`` (cut day → model) keeps the models of a walk-forward: a model fit at a cut saw nothing after it,
    whichever later forecast reads it, so one fit serves every forecast that replays that cut."""
    cut_offset = as_of - day_number(period.start) + min(SHOCK_STEPS)
    periods: list[Period] = []
    for step in range(1, 4 * SHOCK_QUARTERS + 1):
        q = period.shift(-step)
        if day_number(q.end) > as_of + 1:
            continue
        if len(periods) >= SHOCK_QUARTERS:
            break
        periods.append(q)
    periods = periods[::-1]
    cuts = [day_number(q.start) + cut_offset for q in periods]
    if cache is None:
        return PastPeriods(period, cut_offset, periods, walk_forward(model, book, cuts, min_sample))
    missing = [c for c in cuts if c not in cache]
    cache.update(zip(missing, walk_forward(model, book, missing, min_sample), strict=True))
    return PastPeriods(period, cut_offset, periods, [cache[c] for c in cuts])


@dataclass(frozen=True)
class _Replay:
    """One past origin: its deals' out-of-sample probability, outcome, segment, amount, cell; its period."""

    group: Group
    amount: Floats
    cells: Ints
    period: int
    owner: Ints
    stage_p: Floats  # the CRM stage probability × [close date in the period]
    day: int


def fit_stack(replays: list[tuple[Floats, npt.NDArray[np.bool_], Floats, Ints, int]]) -> Stack:
    """The category stack from past origins ``(p', won, amount, cell, period index)``.

    Rates per cell: amount won over amount open. ``λ`` on a grid of 0.05 minimises
    ``Σ_g |Σ_i (λ·p'_i + (1 − λ)·r⁻_cell(i))·a_i − Σ_i won_i·a_i|`` over the origins ``g``, where ``r⁻`` are
    the rates measured without ``g``'s period (so neither side is scored on what it learned from).
    """
    periods = sorted({r[4] for r in replays})
    if len(periods) < 3:
        return Stack(1.0, (), len(periods))
    n = len(CELLS)
    opened = np.zeros((len(replays), n))
    booked = np.zeros((len(replays), n))
    for g, (_, won, amount, cells, _) in enumerate(replays):
        opened[g] = np.bincount(cells, weights=amount, minlength=n)
        booked[g] = np.bincount(cells[won], weights=amount[won], minlength=n)
    which = np.asarray([r[4] for r in replays])
    model = np.asarray([float(p @ a) for p, _, a, _, _ in replays])
    actual = booked.sum(axis=1)
    held_out = np.zeros(len(replays))
    for q in periods:
        rest = which != q
        rates = np.divide(booked[rest].sum(0), opened[rest].sum(0), out=np.zeros(n), where=opened[rest].sum(0) > 0)
        held_out[~rest] = opened[~rest] @ rates
    errors = [np.abs(w * model + (1 - w) * held_out - actual).sum() for w in _WEIGHTS]
    weight = float(_WEIGHTS[int(np.argmin(errors))])
    total = opened.sum(0)
    rates = np.divide(booked.sum(0), total, out=np.zeros(n), where=total > 0)
    return Stack(weight, tuple(float(r) for r in rates), len(periods))


def calibrate(
    book: DealBook,
    as_of: int,
    period: Period,
    past: PastPeriods,
    floor: float = 0.05,
    previous: Calibration | None = None,
) -> Calibration:
    """The window calibration, period shock and category stack for a forecast of ``period`` at ``as_of``.

    Periods without a model are left out; fewer than three periods give the declared fallbacks
    (shock σ = 0.2 with no calibration; the model alone). ``previous``: a neighbouring point's calibration,
    where the shock fit starts (a walk-forward's speed-up; the same optimum).
    """
    offset = as_of - day_number(period.start)
    now = book.states_at(as_of)
    origins: list[tuple[int, Period, DealModel, Bools, int]] = []
    for index, (q, oos) in enumerate(zip(past.periods, past.models, strict=True)):
        start, end = day_number(q.start), day_number(q.end)
        days = [start + offset + d for d in SHOCK_STEPS if start + offset + d < end - 1]
        if oos is None or not days:
            continue
        won = np.zeros(book.size, dtype=bool)
        won[now.deal[won_in(now, q)]] = True
        origins += [(index, q, oos, won, day) for day in days]

    def replay(origin: tuple[int, Period, DealModel, Bools, int]) -> _Replay | None:
        index, q, oos, won, day = origin
        st = book.open_at(day)
        if not len(st):
            return None
        group = (win_probabilities(oos, book, st, q), won[st.deal], shift_classes(book, st))
        start, end = day_number(q.start), day_number(q.end)
        closing = (st.close_day >= start) & (st.close_day < end)
        stage_p = np.nan_to_num(book.stage_probability[st.stage]) / 100.0 * closing
        return _Replay(group, st.amount, category_cells(book, st, q), index, st.owner, stage_p, day)

    # the origins are independent and NumPy/SciPy release the GIL in their loops: two threads, same order
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        replays = [r for r in pool.map(replay, origins) if r is not None]
    if len({r.period for r in replays}) < 3:
        replays = []
    warm = previous.shock if previous is not None else None
    shock = estimate_shock([r.group for r in replays], floor, len(book.segment_names), warm)
    stack = fit_stack(
        [(shock.calibrate(r.group[0], r.group[2]), r.group[1], r.amount, r.cells, r.period) for r in replays]
    )
    stacked = [
        (stack.apply(shock.calibrate(r.group[0], r.group[2]), r.cells, r.amount), r.group[1], r.owner, r.period)
        for r in replays
    ]
    scored = (
        np.concatenate([s[0] for s in stacked]) if stacked else np.zeros(0),
        np.concatenate([s[1] for s in stacked]).astype(np.float64) if stacked else np.zeros(0),
        np.concatenate([r.stage_p for r in replays]) if replays else np.zeros(0),
    )
    middle = [(s[0], r) for s, r in zip(stacked, replays, strict=True) if r.day == _middle(r, past.periods, offset)]
    ratios = level_ratios(book, now, past.periods, middle)
    level = level_of(np.asarray([x for x, _ in ratios], dtype=np.float64))
    without = {
        past.periods[k].name: (
            level_of(np.asarray([x for x, j in ratios if j != k], dtype=np.float64)),
            owner_effects([s for s in stacked if s[3] != k], len(SHOCK_STEPS)),
        )
        for k in sorted({r.period for r in replays})
    }
    return Calibration(shock, stack, owner_effects(stacked, len(SHOCK_STEPS)), scored, level, without)


def _middle(r: _Replay, periods: list[Period], offset: int) -> int:
    """The δ = 0 origin day of a replay's period."""
    return day_number(periods[r.period].start) + offset
