"""Deal probabilities that know the calendar: a discrete-time competing-risks model (won / lost / open).

Training rows are *landmark* deal-weeks: at weekly origins ``s`` before the as-of date, every open
deal as it stood at the end of ``s`` (:meth:`DealBook.states_at`), followed for lead weeks
``k = 1, 2, …`` while it is still open and while the week's outcome is already known at the as-of date.
The outcome of a row is what the deal did in week ``k`` after the origin: won, lost, or still open.
A multinomial logistic regression (scikit-learn) on one-hot feature groups gives the weekly hazards
``h_won(k | x)`` and ``h_lost(k | x)``; then

    P(won in period) = Σ_k S(k-1) · h_won(k) · overlap(week k, period),   S(k) = S(k-1) · (1 - h_won - h_lost).

Calibration: the model is first fit on the earlier 75 % of origins; a second multinomial regression
on its two log-odds (Platt / vector scaling) is fit on the later 25 %; the final model is refit on
every origin and read through that calibration map. Nothing after the as-of date is seen.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from saleslead.errors import InsufficientDataError
from saleslead.forecast.panel import DealBook, States, quarter_end_days

__all__ = ["DealModel", "FitReport", "Hazards", "LeadRows", "fit_deal_model", "lead_rows"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

HORIZON_WEEKS = 14  # lead weeks a training row follows a deal; later weeks share the last lead's hazard
TRAIN_WEEKS = 104  # origins looked back over
MAX_ROWS = 60_000  # training rows kept (deterministic sample by deal and origin)
_TENURE_EDGES = np.asarray([90.0, 180.0, 365.0])
_CLOSE_EDGES = np.asarray([-28.0, -7.0, 0.0, 7.0, 21.0, 49.0, 91.0])
_QUARTER_EDGES = np.asarray([7.0, 14.0, 35.0, 70.0])
_PUSH_CAP = 3
GROUPS = (
    "stage",
    "days_in_stage",
    "age",
    "pushes",
    "amount",
    "segment",
    "channel",
    "forecast_category",
    "owner_tenure",
    "days_since_activity",
    "lead_week",
    "weeks_to_quarter_end",
    "close_date",
)


@dataclass(frozen=True)
class LeadRows:
    """Deal-weeks: the origin state of each row (``origin``) and its lead week ``lead`` (1-based)."""

    origin: States
    lead: Ints
    outcome: Ints  # 0 still open, 1 won, 2 lost (training rows only)


def _sample(book: DealBook, deals: Ints, day: int, rate: float) -> npt.NDArray[np.bool_]:
    if rate >= 1.0:
        return np.ones(len(deals), dtype=bool)
    mixed = (book.tag[deals].astype(np.uint64) ^ np.uint64((day * 2_654_435_761) % 2**32)) * np.uint64(2_246_822_519)
    return (mixed % np.uint64(2**32)).astype(np.float64) / 2**32 < rate


def lead_rows(book: DealBook, origins: list[int], known_until: int, rate: float = 1.0) -> LeadRows:
    """Training deal-weeks from ``origins`` whose outcome is known at the end of ``known_until``."""
    parts: list[States] = []
    leads: list[Ints] = []
    outcomes: list[Ints] = []
    for s in origins:
        st = book.states_at(s)
        st = st.take(~st.is_closed)
        st = st.take(_sample(book, st.deal, s, rate))
        if not len(st):
            continue
        gap = st.next_close - (s + 1)
        k_event = np.where(np.isfinite(gap), np.floor(np.maximum(gap, 0.0) / 7.0) + 1, 10_000).astype(np.int64)
        k_known = (known_until - s) // 7
        count = np.minimum(np.minimum(k_event, k_known), HORIZON_WEEKS)
        count = np.maximum(count, 0)
        rows = np.repeat(np.arange(len(st)), count)
        if not len(rows):
            continue
        starts = np.cumsum(count) - count
        lead = np.arange(len(rows)) - np.repeat(starts, count) + 1
        event = lead == k_event[rows]
        outcome = np.where(event, np.where(st.next_close_won[rows], 1, 2), 0)
        parts.append(st.take(rows))
        leads.append(lead.astype(np.int64))
        outcomes.append(outcome.astype(np.int64))
    if not parts:
        raise InsufficientDataError("no open deals with a known outcome before the as-of date to learn from")
    merged = States(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in States.__dataclass_fields__})
    return LeadRows(merged, np.concatenate(leads), np.concatenate(outcomes))


@dataclass(frozen=True)
class Encoder:
    """Feature groups as one-hot codes; bin edges learned on the training rows."""

    n_stages: int
    n_segments: int
    n_channels: int
    n_categories: int
    stage_edges: Floats
    age_edges: Floats
    amount_edges: Floats
    activity_edges: Floats
    fiscal_start_month: int

    @property
    def sizes(self) -> list[int]:
        return [
            self.n_stages,
            len(self.stage_edges) + 1,
            len(self.age_edges) + 1,
            _PUSH_CAP + 1,
            len(self.amount_edges) + 1,
            self.n_segments,
            self.n_channels,
            self.n_categories,
            len(_TENURE_EDGES) + 2,
            len(self.activity_edges) + 1,
            HORIZON_WEEKS,
            len(_QUARTER_EDGES) + 1,
            len(_CLOSE_EDGES) + 2,
        ]

    def codes(self, book: DealBook, st: States, lead: Ints) -> list[Ints]:
        week_start = st.day + 1 + 7 * (lead - 1)
        tenure = book.owner_tenure(st.owner, 0) + st.day
        tenure_code = np.where(np.isnan(tenure), len(_TENURE_EDGES) + 1, np.searchsorted(_TENURE_EDGES, tenure))
        to_quarter_end = quarter_end_days(week_start, self.fiscal_start_month) - week_start
        to_close = (st.close_day - week_start).astype(np.float64)
        close_code = np.where(st.close_day < -900_000, len(_CLOSE_EDGES) + 1, np.searchsorted(_CLOSE_EDGES, to_close))
        return [
            st.stage,
            np.searchsorted(self.stage_edges, np.log1p(np.maximum(st.days_in_stage, 0))),
            np.searchsorted(self.age_edges, np.log1p(np.maximum(st.age_days, 0))),
            np.minimum(st.pushes, _PUSH_CAP),
            np.searchsorted(self.amount_edges, np.log1p(np.maximum(st.amount, 0.0))),
            book.segment[st.deal],
            book.channel[st.deal],
            st.forecast_category,
            tenure_code.astype(np.int64),
            np.searchsorted(self.activity_edges, np.log1p(np.clip(st.days_since_activity, 0, 10_000))),
            np.minimum(lead, HORIZON_WEEKS) - 1,
            np.searchsorted(_QUARTER_EDGES, to_quarter_end),
            close_code.astype(np.int64),
        ]

    def design(self, codes: list[Ints]) -> sp.csr_matrix:
        sizes = self.sizes
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        n = len(codes[0])
        cols = np.stack([np.minimum(c, s - 1) + o for c, s, o in zip(codes, sizes, offsets, strict=True)], axis=1)
        g = len(sizes)
        return sp.csr_matrix((np.ones(n * g), cols.ravel(), np.arange(0, n * g + 1, g)), shape=(n, int(sum(sizes))))


def _edges(values: Floats, bins: int) -> Floats:
    qs = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]) if len(values) else np.zeros(0)
    return np.unique(qs)


@dataclass(frozen=True)
class FitReport:
    rows: int
    deals: int
    origins: int
    first_origin: int
    last_origin: int
    events_won: int
    events_lost: int
    calibration_rows: int


@dataclass(frozen=True)
class Hazards:
    won: Floats  # (deals, weeks)
    lost: Floats


@dataclass(frozen=True)
class DealModel:
    encoder: Encoder
    base: LogisticRegression
    calibrator: LogisticRegression
    report: FitReport
    mean_effect: list[Floats]  # per group: training mean of the won-vs-open effect

    def hazards(self, book: DealBook, st: States, weeks: int) -> Hazards:
        """Weekly hazards of each deal for lead weeks 1..weeks (features move with the calendar)."""
        n = len(st)
        won = np.zeros((n, weeks))
        lost = np.zeros((n, weeks))
        for k in range(1, weeks + 1):
            p = self._proba(self.encoder.design(self.encoder.codes(book, st, np.full(n, k, dtype=np.int64))))
            won[:, k - 1], lost[:, k - 1] = p[:, 1], p[:, 2]
        return Hazards(won, lost)

    def _proba(self, x: sp.csr_matrix) -> Floats:
        return _calibrated(self.base, self.calibrator, x)

    def effects(self, book: DealBook, st: States) -> Floats:
        """(deals, groups): each group's push on the weekly log-odds of winning vs staying open, at lead 1,
        relative to the average training row."""
        codes = self.encoder.codes(book, st, np.ones(len(st), dtype=np.int64))
        delta = _won_vs_open(self.base)
        out = np.zeros((len(st), len(codes)))
        offset = 0
        for g, (c, size) in enumerate(zip(codes, self.encoder.sizes, strict=True)):
            block = delta[offset : offset + size]
            out[:, g] = block[np.minimum(c, size - 1)] - self.mean_effect[g]
            offset += size
        return out


def _won_vs_open(model: LogisticRegression) -> Floats:
    classes = list(model.classes_)
    coef = model.coef_
    return np.asarray(coef[classes.index(1)] - coef[classes.index(0)], dtype=np.float64)


def _logits(model: LogisticRegression, x: sp.csr_matrix) -> Floats:
    p = np.clip(model.predict_proba(x), 1e-12, 1.0)
    classes = list(model.classes_)
    base = np.log(p[:, classes.index(0)])
    return np.stack([np.log(p[:, classes.index(c)]) - base for c in (1, 2)], axis=1)


def _calibrated(base: LogisticRegression, calibrator: LogisticRegression, x: sp.csr_matrix) -> Floats:
    p = calibrator.predict_proba(_logits(base, x))
    out = np.zeros((x.shape[0], 3))
    for i, c in enumerate(calibrator.classes_):
        out[:, int(c)] = p[:, i]
    return out


def _regression(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=300, tol=1e-4)


def _fit(model: LogisticRegression, x: sp.csr_matrix | Floats, y: Ints) -> LogisticRegression:
    # tol 1e-4 is ample for probabilities; a stopped optimiser is not an error worth failing a forecast over
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x, y)


def fit_deal_model(book: DealBook, as_of: int, fiscal_start_month: int, min_sample: int) -> DealModel:
    """Fit the hazard model on landmark rows from the :data:`TRAIN_WEEKS` weeks before ``as_of``."""
    first = int(np.nanmin(book.first_seen)) if book.size else as_of
    origins = [s for s in range(as_of - 7, as_of - 7 * (TRAIN_WEEKS + 1), -7) if s >= first + 28][::-1]
    if len(origins) < 8:
        raise InsufficientDataError(
            f"only {len(origins)} weekly origins of history before the as-of date; the model needs at least 8",
            hint="forecast a later date or ingest more history",
        )
    open_per_origin = float(
        np.mean([np.count_nonzero(~book.states_at(s).is_closed) for s in origins[:: max(1, len(origins) // 6)]])
    )
    expected = open_per_origin * len(origins) * 5.0
    rate = min(1.0, MAX_ROWS / max(expected, 1.0))
    rows = lead_rows(book, origins, as_of, rate)
    won_events = int(np.count_nonzero(rows.outcome == 1))
    lost_events = int(np.count_nonzero(rows.outcome == 2))
    if won_events < min_sample or lost_events < min_sample:
        raise InsufficientDataError(
            f"too few closed deals before the as-of date to learn from ({won_events} won, {lost_events} lost)"
        )
    st = rows.origin
    encoder = Encoder(
        n_stages=len(book.stage_names),
        n_segments=len(book.segment_names),
        n_channels=len(book.channel_names),
        n_categories=len(book.categories),
        stage_edges=_edges(np.log1p(np.maximum(st.days_in_stage, 0)).astype(np.float64), 5),
        age_edges=_edges(np.log1p(np.maximum(st.age_days, 0)).astype(np.float64), 5),
        amount_edges=_edges(np.log1p(np.maximum(st.amount, 0.0)), 5),
        activity_edges=_edges(np.log1p(np.clip(st.days_since_activity, 0, 10_000)).astype(np.float64), 5),
        fiscal_start_month=fiscal_start_month,
    )
    x = encoder.design(encoder.codes(book, st, rows.lead))
    y = rows.outcome
    cut = origins[int(len(origins) * 0.75)]
    early = st.day < cut
    # calibration rows: later origins, and only weeks that ended before as_of (true by construction)
    late = ~early
    calibrator = _regression(1e4)
    if np.unique(y[early]).size == 3 and np.unique(y[late]).size == 3:
        early_model = _fit(_regression(1.0), x[early], y[early])
        _fit(calibrator, _logits(early_model, x[late]), y[late])
    base = _fit(_regression(1.0), x, y)
    if not hasattr(calibrator, "classes_"):
        _fit(calibrator, _logits(base, x), y)  # too few late events: identity-like map on all rows
    delta = _won_vs_open(base)
    mean_effect: list[Floats] = []
    codes = encoder.codes(book, st, rows.lead)
    offset = 0
    for c, size in zip(codes, encoder.sizes, strict=True):
        mean_effect.append(np.asarray(np.mean(delta[offset : offset + size][np.minimum(c, size - 1)])))
        offset += size
    report = FitReport(
        rows=len(y),
        deals=int(np.unique(st.deal).size),
        origins=len(origins),
        first_origin=origins[0],
        last_origin=origins[-1],
        events_won=won_events,
        events_lost=lost_events,
        calibration_rows=int(np.count_nonzero(late)),
    )
    return DealModel(encoder, base, calibrator, report, mean_effect)


def win_in_window(h: Hazards, week_weight: Floats) -> Floats:
    """P(won inside the window) from weekly hazards; ``week_weight[k]`` is the share of week k+1 inside it."""
    survive = np.cumprod(1.0 - h.won - h.lost, axis=1)
    before = np.concatenate([np.ones((h.won.shape[0], 1)), survive[:, :-1]], axis=1)
    return np.asarray(np.clip((before * h.won) @ week_weight, 0.0, 1.0))
