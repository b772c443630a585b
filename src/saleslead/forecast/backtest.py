"""Walk-forward backtest: forecast the current period at each as-of date and score it against what happened.

At each as-of date ``D`` (weekly or monthly between two dates) the forecast of the quarter holding ``D`` is
made exactly as ``saleslead forecast`` would make it — from history known at the end of ``D`` only — and
compared with the closed-won amount of that quarter known at its last day. The model is refit every
``refit_weeks`` as-of dates (a model fit at an earlier date has seen even less, so nothing leaks).
Two baselines run on the same points: the stage-probability-weighted pipeline and Commit + a share of
Best Case (both over open deals whose close date falls in the quarter, plus closed-won so far).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from saleslead.context import Progress
from saleslead.errors import InputError, InsufficientDataError
from saleslead.forecast.calibrate import Calibration, PastPeriods, past_periods
from saleslead.forecast.fitted import fitted_outlook, kept_model
from saleslead.forecast.levels import NodePoints, level_table, node_points
from saleslead.forecast.levels import reliability_bins as calibration_table
from saleslead.forecast.model import DealModel, fit_deal_model
from saleslead.forecast.outlook import Outlook, calibrated, run_outlook
from saleslead.forecast.panel import DealBook, States, day_number, load_book
from saleslead.forecast.rollup import Hierarchy, build_hierarchy, category_field
from saleslead.forecast.schemas import BacktestPoint, BacktestRequest, BacktestResult
from saleslead.periods import Period, week_index
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.store.answers import Answers

__all__ = ["crps", "run_backtest", "scores"]

Floats = npt.NDArray[np.float64]


def crps(samples: npt.NDArray[np.float32] | Floats, actual: float) -> float:
    """Continuous ranked probability score of an empirical distribution: E|X − y| − ½·E|X − X′|."""
    x = np.sort(np.asarray(samples, dtype=np.float64))
    n = len(x)
    spread = 2.0 * np.dot(2 * np.arange(1, n + 1) - n - 1, x) / (n * n)
    return float(np.mean(np.abs(x - actual)) - 0.5 * spread)


def _pinball(forecast: Floats, actual: Floats, q: float) -> float:
    diff = actual - forecast
    return float(np.sum(np.maximum(q * diff, (q - 1) * diff)))


def scores(points: list[BacktestPoint]) -> dict[str, dict[str, float | int | None]]:
    """WAPE, bias, pinball, CRPS and P10–P90 coverage over the points, for the model and the baselines."""
    if not points:
        return {}
    y = np.asarray([p.actual for p in points])
    total = float(y.sum()) or 1.0
    out: dict[str, dict[str, float | int | None]] = {}
    for name in ("p50", "mean", "stage_weighted", "categories"):
        f = np.asarray([getattr(p, name) for p in points])
        out[name] = {
            "points": len(points),
            "wape": float(np.abs(f - y).sum() / total),
            "bias": float((f - y).sum() / total),
        }
    p10 = np.asarray([p.p10 for p in points])
    p50 = np.asarray([p.p50 for p in points])
    p90 = np.asarray([p.p90 for p in points])
    out["interval"] = {
        "coverage_p10_p90": float(np.mean((y >= p10) & (y <= p90))),
        "below_p10": float(np.mean(y < p10)),
        "above_p90": float(np.mean(y > p90)),
        "pinball_p10": _pinball(p10, y, 0.1) / total,
        "pinball_p50": _pinball(p50, y, 0.5) / total,
        "pinball_p90": _pinball(p90, y, 0.9) / total,
        "crps": float(np.sum([p.crps for p in points]) / total),
    }
    return out


def _dates(request: BacktestRequest, fiscal_start_month: int) -> list[date]:
    if request.end < request.start:
        raise InputError("--to must not be before --from")
    if request.every == "quarter-week":
        period = Period.quarter_of(request.start, fiscal_start_month)
        out: list[date] = []
        while period.start <= request.end:
            chosen = range(13) if request.weeks is None else [w - 1 for w in request.weeks if 1 <= w <= 13]
            weeks = (period.start + timedelta(days=7 * k) for k in chosen)
            out += [d for d in weeks if request.start <= d <= request.end and d < period.end]
            period = period.shift(1)
        return out
    days: list[date] = []
    day = request.start
    while day <= request.end:
        days.append(day)
        if request.every == "week":
            day += timedelta(days=7)
        else:
            month = day.month % 12 + 1
            day = date(day.year + (day.month == 12), month, min(day.day, 28))
    return days


def _baselines(book: DealBook, now: States, period: Period, share: float) -> tuple[Floats, Floats]:
    """Per deal of ``now``: its stage-weighted and its categories amount toward the period (closed-won in the
    period counts whole in both; open deals closing in it at the stage probability, resp. Commit + ``share`` ×
    Best Case)."""
    start, end = day_number(period.start), day_number(period.end)
    closing = (now.close_day >= start) & (now.close_day < end)
    closed = np.where(now.is_won & closing, now.amount, 0.0)
    open_ = ~now.is_closed & closing
    prob = np.nan_to_num(book.stage_probability[now.stage]) / 100.0
    fields = [category_field(c) for c in book.categories]
    commit = np.asarray([f == "commit" for f in fields])[now.forecast_category]
    best = np.asarray([f == "best_case" for f in fields])[now.forecast_category]
    weight = np.where(commit, 1.0, np.where(best, share, 0.0))
    return closed + np.where(open_, now.amount * prob, 0.0), closed + np.where(open_, now.amount * weight, 0.0)


def _per_owner(
    book: DealBook,
    overall: Hierarchy,
    d: int,
    period: Period,
    end_state: States,
    won: npt.NDArray[np.bool_],
    share: float,
) -> Floats:
    """(3, owners): per owner of the book the actual, stage-weighted and categories amounts."""
    n = len(book.owners)
    now = book.states_at(d)
    weighted, categories = _baselines(book, now, period, share)
    actual = np.bincount(end_state.owner[won], weights=end_state.amount[won], minlength=n)
    return np.stack([
        actual, np.bincount(now.owner, weights=weighted, minlength=n), np.bincount(now.owner, weights=categories,
                                                                                    minlength=n),
    ])  # fmt: skip


class _DealScores:
    """The open deals of every point: P(won in the period) by the forecast and by the stage probability (when
    the deal's close date falls in the period, else 0), and whether the deal was won in it."""

    def __init__(self) -> None:
        self.p: list[Floats] = []
        self.won: list[npt.NDArray[np.bool_]] = []
        self.stage: list[Floats] = []

    def add(
        self, p: Floats, open_: States, won: npt.NDArray[np.bool_], stage_probability: Floats, period: Period
    ) -> None:
        start, end = day_number(period.start), day_number(period.end)
        self.p.append(p)
        self.won.append(won)
        closing = (open_.close_day >= start) & (open_.close_day < end)
        self.stage.append(np.nan_to_num(stage_probability[open_.stage]) / 100.0 * closing)

    def arrays(self) -> tuple[Floats, Floats, Floats]:
        """The forecast's P(won), the outcome (1.0 won, 0.0 not) and the stage's P(won), over every point."""
        return np.concatenate(self.p), np.concatenate(self.won).astype(np.float64), np.concatenate(self.stage)


def _by_week(points: list[BacktestPoint]) -> list[dict[str, float | int | None]]:
    """The scores of the points of each week of the quarter (interval coverage, WAPE of P50 and both
    baselines, bias)."""
    by_week: list[dict[str, float | int | None]] = []
    for week in sorted({pt.week_of_quarter for pt in points}):
        chosen = [pt for pt in points if pt.week_of_quarter == week]
        s = scores(chosen)
        by_week.append(
            {
                "week_of_quarter": week,
                "points": len(chosen),
                "coverage_p10_p90": s["interval"]["coverage_p10_p90"],
                "wape_p50": s["p50"]["wape"],
                "wape_stage_weighted": s["stage_weighted"]["wape"],
                "wape_categories": s["categories"]["wape"],
                "bias_p50": s["p50"]["bias"],
            }
        )
    return by_week


@dataclass
class _Forecasts:
    """The forecast at each point, in date order: the model refit every ``refit_weeks`` points (and at each
    quarter of a quarter-week backtest), the walk-forward models of a cut shared by every point, each point's
    calibration started from the last one's.

    With the store's shelf (``answers``) the fits are kept and found by what they saw, as the forecast keeps
    them: the deal model of a refit is the forecast's of that day; with ``refit_weeks`` 1 each point is the
    forecast of its day, model and calibration included (:func:`fitted_outlook`), so a second backtest over the
    same weeks fits nothing (the weekly run's fits of a date only while no owner, segment, channel or category
    first seen since shifted the book's codes: the key holds the code lists the fits index into).
    """

    store: Store
    settings: Settings
    request: BacktestRequest
    book: DealBook
    answers: Answers | None = None
    model: DealModel | None = None
    past: PastPeriods | None = None
    calibration: Calibration | None = None
    since: int = 0  # points since the model was fit
    cache: dict[int, DealModel | None] = field(default_factory=dict)  # walk-forward models by cut day

    def outlook(self, as_of: date, period: Period) -> Outlook:
        book, settings, request, n = self.book, self.settings, self.request, self.settings.min_sample
        if self.answers is not None and request.refit_weeks == 1:
            return fitted_outlook(self.store, settings, self.answers, period, as_of, request.scenarios, book=book)
        d = day_number(as_of)
        new_quarter = request.every == "quarter-week" and (self.past is None or self.past.period != period)
        refit = self.model is None or self.since >= request.refit_weeks or new_quarter
        self.since = 1 if refit else self.since + 1
        if self.model is None or refit:
            self.model = (
                kept_model(self.answers, settings, book, as_of)
                if self.answers is not None
                else fit_deal_model(book, d, settings.fiscal_start_month, n)
            )
        if self.past is None or refit or not self.past.serves(d, period):
            self.past = past_periods(self.model, book, d, period, n, self.cache)  # as stale as the model
        self.calibration = calibrated(self.store, book, d, period, self.past, previous=self.calibration)
        return run_outlook(self.store, settings, period, as_of, request.scenarios, None, book, self.model,
                           self.calibration)  # fmt: skip


def run_backtest(
    store: Store,
    settings: Settings,
    request: BacktestRequest,
    progress: Progress | None = None,
    answers: Answers | None = None,
) -> BacktestResult:
    """Score the forecast and both baselines at every as-of date whose quarter has finished in the store;
    ``answers``: the store's shelf, where the fits are kept and found (see :class:`_Forecasts`)."""
    last = store.table("history").changed_at.max().execute()
    if last is None:
        raise InsufficientDataError("the store holds no history")
    last_day = last.date()
    book = load_book(store, last_day)
    fsm = settings.fiscal_start_month
    dates = [d for d in _dates(request, fsm) if Period.quarter_of(d, fsm).last_day <= last_day]
    if not dates:
        raise InsufficientDataError(
            f"no as-of date between {request.start} and {request.end} has a finished quarter in the store "
            f"(history ends {last_day})"
        )
    points: list[BacktestPoint] = []
    scored: list[NodePoints] = []
    overall = build_hierarchy(store, book.owners)
    deals = _DealScores()
    forecasts = _Forecasts(store, settings, request, book, answers)
    for i, as_of in enumerate(dates):
        d = day_number(as_of)
        period = Period.quarter_of(as_of, fsm)
        o = forecasts.outlook(as_of, period)
        end_state = book.states_at(day_number(period.last_day))
        start, end = day_number(period.start), day_number(period.end)
        won_mask = end_state.is_won & (end_state.close_day >= start) & (end_state.close_day < end)
        actual = float(end_state.amount[won_mask].sum())
        won_ids = np.zeros(book.size, dtype=bool)
        won_ids[end_state.deal[won_mask]] = True
        deals.add(o.p_won, o.open, won_ids[o.open.deal], book.stage_probability, period)
        per_owner = _per_owner(book, overall, d, period, end_state, won_mask, request.best_case_share)
        weighted, categories = float(per_owner[1].sum()), float(per_owner[2].sum())
        scored.append(node_points(week_index(period, as_of), o.sim.total, o.sim.nodes, o.hierarchy, overall, per_owner))
        q = np.quantile(o.sim.total.astype(np.float64), [0.1, 0.5, 0.9])
        points.append(
            BacktestPoint(
                as_of=as_of,
                period=period.name,
                week_of_quarter=week_index(period, as_of),
                actual=actual,
                p10=float(q[0]),
                p50=float(q[1]),
                p90=float(q[2]),
                mean=float(o.sim.total.mean()),
                stage_weighted=weighted,
                categories=categories,
                crps=crps(o.sim.total, actual),
            )
        )
        if progress is not None:
            progress("backtest", i + 1, len(dates))
    p, y, stage_p = deals.arrays()
    return BacktestResult(
        points=points,
        summary=scores(points),
        by_week=_by_week(points),
        calibration=calibration_table(p, y),
        brier=float(np.mean((p - y) ** 2)) if len(p) else 0.0,
        brier_stage=float(np.mean((stage_p - y) ** 2)) if len(p) else 0.0,
        deals_scored=len(p),
        method=f"walk-forward, refit every {request.refit_weeks} as-of dates, {request.scenarios} scenarios",
        levels=level_table(scored),
    )
