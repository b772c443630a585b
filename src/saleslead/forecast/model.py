"""Deal probabilities that know the calendar: a discrete-time competing-risks model (won / lost / open).

Training rows are *landmark* deal-weeks: at weekly origins ``s`` before the as-of date, every open
deal as it stood at the end of ``s`` (:meth:`DealBook.states_at`), followed for lead weeks
``k = 1, 2, …`` while it is still open and while the week's outcome is already known at the as-of date.
The outcome of a row is what the deal did in week ``k`` after the origin: won, lost, or still open.
A multinomial logistic regression (scikit-learn) on one-hot feature groups and pairwise interactions
(:data:`INTERACTIONS`) gives the weekly hazards ``h_won(k | x)`` and ``h_lost(k | x)``; then

    P(won in period) = Σ_k S(k-1) · h_won(k) · overlap(week k, period),   S(k) = S(k-1) · (1 - h_won - h_lost).

Nothing after the as-of date is seen. The hazards are read as fit: the window probability is calibrated
out of sample in :mod:`saleslead.forecast.calibrate`, with the models :func:`walk_forward` fits as of
earlier days.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy import special

from saleslead.errors import InsufficientDataError
from saleslead.forecast.panel import DealBook, States, quarter_end_days

if TYPE_CHECKING:  # scikit-learn loads when a model is fit, not with every command
    from sklearn.linear_model import LogisticRegression

__all__ = [
    "FITS",
    "DealModel",
    "FitCount",
    "FitReport",
    "Hazards",
    "LeadRows",
    "fiscal_quarter",
    "fit_deal_model",
    "lead_rows",
    "sample_mask",
    "walk_forward",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

HORIZON_WEEKS = 14  # lead weeks a training row follows a deal; later weeks share the last lead's hazard
TRAIN_WEEKS = 104  # origins looked back over
MAX_ROWS = 60_000  # training rows kept (deterministic sample by deal and origin)
_TENURE_EDGES = np.asarray([90.0, 180.0, 365.0])
_CLOSE_EDGES = np.asarray([-28.0, -7.0, 0.0, 7.0, 21.0, 49.0, 91.0])
_QUARTER_EDGES = np.asarray([7.0, 14.0, 35.0, 70.0])
_PUSH_CAP = 3
_RATIO_EDGES = np.asarray([0.5, 1.0, 2.0, 4.0, 8.0])  # a deal's stay or silence over its segment's typical
_LEAD_EDGES = np.asarray([2, 3, 5, 9])  # lead weeks 1, 2, 3–4, 5–8, 9+ (for interactions)
#: One-hot feature groups; ``lead_weeks`` (the coarse lead) only enters through the interactions.
FEATURES = (
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
    "fiscal_quarter",
    "days_in_stage_vs_typical",
    "days_since_activity_vs_typical",
)
#: Pairs whose every combination is a one-hot group of its own (the logit is otherwise additive).
INTERACTIONS = (
    ("stage", "lead_weeks"),
    ("forecast_category", "close_date"),
    ("fiscal_quarter", "weeks_to_quarter_end"),
    ("stage", "weeks_to_quarter_end"),
    ("lead_weeks", "weeks_to_quarter_end"),
    ("segment", "lead_weeks"),
    ("stage", "days_since_activity_vs_typical"),
    ("segment", "stage"),
)
GROUPS = FEATURES + tuple(f"{a} × {b}" for a, b in INTERACTIONS)


@dataclass(frozen=True)
class LeadRows:
    """Deal-weeks: the origin state of each row (``origin``) and its lead week ``lead`` (1-based)."""

    origin: States
    lead: Ints
    outcome: Ints  # 0 still open, 1 won, 2 lost (training rows only)


def sample_mask(book: DealBook, deals: Ints, day: int, rate: float) -> npt.NDArray[np.bool_]:
    """A deterministic share ``rate`` of ``deals`` (by the hash of the id, salted by ``day``): the same on any store."""
    if rate >= 1.0:
        return np.ones(len(deals), dtype=bool)
    # the low 32 bits of (tag ^ salt) · C, in wrapping uint32 arithmetic; x / 2³² < rate ⟺ x < rate · 2³²
    with np.errstate(over="ignore"):
        mixed = (book.tag[deals] ^ np.uint32((day * 2_654_435_761) % 2**32)) * np.uint32(2_246_822_519)
    return mixed < rate * 2**32


def lead_rows(book: DealBook, origins: list[int], known_until: int, rate: float = 1.0) -> LeadRows:
    """Training deal-weeks from ``origins`` whose outcome is known at the end of ``known_until``."""
    parts: list[States] = []
    leads: list[Ints] = []
    outcomes: list[Ints] = []
    for s in origins:
        # sample the deals first (the sample depends on the deal and the origin only), then replay just those
        alive = book.alive_at(s)
        st = book.open_at(s, alive[sample_mask(book, alive, s, rate)])
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
    typical_stay: Floats  # (segments, stages): median days in stage of the training deals
    typical_quiet: Floats  # (segments,): median days since activity of the training deals

    @property
    def levels(self) -> dict[str, int]:
        """How many codes each feature takes."""
        ratio = len(_RATIO_EDGES) + 1
        return {
            "stage": self.n_stages,
            "days_in_stage": len(self.stage_edges) + 1,
            "age": len(self.age_edges) + 1,
            "pushes": _PUSH_CAP + 1,
            "amount": len(self.amount_edges) + 1,
            "segment": self.n_segments,
            "channel": self.n_channels,
            "forecast_category": self.n_categories,
            "owner_tenure": len(_TENURE_EDGES) + 2,
            "days_since_activity": len(self.activity_edges) + 1,
            "lead_week": HORIZON_WEEKS,
            "lead_weeks": len(_LEAD_EDGES) + 1,
            "weeks_to_quarter_end": len(_QUARTER_EDGES) + 1,
            "close_date": len(_CLOSE_EDGES) + 2,
            "fiscal_quarter": 4,
            "days_in_stage_vs_typical": ratio,
            "days_since_activity_vs_typical": ratio,
        }

    def features(self, book: DealBook, st: States, lead: Ints) -> dict[str, Ints]:
        """Every feature's codes (the time-varying ones for lead week ``lead``)."""
        week_start = st.day + 1 + 7 * (lead - 1)
        tenure = book.owner_tenure(st.owner, 0) + st.day
        quarter_end = quarter_end_days(week_start, self.fiscal_start_month)
        segment = book.segment[st.deal]
        quiet = np.clip(st.days_since_logged, 0, 10_000)
        close = np.searchsorted(_CLOSE_EDGES, (st.close_day - week_start).astype(np.float64))
        stay = np.maximum(st.days_in_stage, 0)
        return {
            "stage": st.stage,
            "days_in_stage": np.searchsorted(self.stage_edges, np.log1p(stay)),
            "age": np.searchsorted(self.age_edges, np.log1p(np.maximum(st.age_days, 0))),
            "pushes": np.minimum(st.pushes, _PUSH_CAP),
            "amount": np.searchsorted(self.amount_edges, np.log1p(np.maximum(st.amount, 0.0))),
            "segment": segment,
            "channel": book.channel[st.deal],
            "forecast_category": st.forecast_category,
            "owner_tenure": np.where(np.isnan(tenure), len(_TENURE_EDGES) + 1, np.searchsorted(_TENURE_EDGES, tenure)),
            "days_since_activity": np.searchsorted(self.activity_edges, np.log1p(quiet)),
            "lead_week": np.minimum(lead, HORIZON_WEEKS) - 1,
            "lead_weeks": np.searchsorted(_LEAD_EDGES, lead),
            "weeks_to_quarter_end": np.searchsorted(_QUARTER_EDGES, quarter_end - week_start),
            "close_date": np.where(st.close_day < -900_000, len(_CLOSE_EDGES) + 1, close),
            "fiscal_quarter": fiscal_quarter(quarter_end - 1, self.fiscal_start_month),
            "days_in_stage_vs_typical": np.searchsorted(_RATIO_EDGES, stay / self.typical_stay[segment, st.stage]),
            "days_since_activity_vs_typical": np.searchsorted(_RATIO_EDGES, quiet / self.typical_quiet[segment]),
        }

    @property
    def sizes(self) -> list[int]:
        n = self.levels
        return [n[name] for name in FEATURES] + [n[a] * n[b] for a, b in INTERACTIONS]

    def codes(self, book: DealBook, st: States, lead: Ints) -> list[Ints]:
        """One code per group of :data:`GROUPS` and row."""
        n = self.levels
        f = {k: np.minimum(np.asarray(v, dtype=np.int64), n[k] - 1) for k, v in self.features(book, st, lead).items()}
        return [f[name] for name in FEATURES] + [f[a] * n[b] + f[b] for a, b in INTERACTIONS]

    def columns(self, codes: list[Ints]) -> Ints:
        """(rows, groups): the design column each group's code sets to 1 in each row."""
        sizes = self.sizes
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return np.stack([np.minimum(c, s - 1) + o for c, s, o in zip(codes, sizes, offsets, strict=True)], axis=1)

    def design(self, codes: list[Ints]) -> sp.csr_matrix:
        cols = self.columns(codes)
        n, g = cols.shape
        return sp.csr_matrix(
            (np.ones(n * g), cols.ravel(), np.arange(0, n * g + 1, g)), shape=(n, int(sum(self.sizes)))
        )


def fiscal_quarter(days: Ints, fiscal_start_month: int) -> Ints:
    """0..3: the fiscal quarter of the year each day number falls in (seasonality: Q4 strong, Q1 soft)."""
    months = np.asarray(days, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return np.asarray(((months - (fiscal_start_month - 1)) % 12) // 3, dtype=np.int64)


def _typical(segment: Ints, key: Ints, days: Ints, use: npt.NDArray[np.bool_], shape: tuple[int, int]) -> Floats:
    """``shape`` = (segments, keys): median of ``days`` over the rows in ``use`` (at least 1 day; the overall
    median where a cell has fewer than 20 rows)."""
    overall = max(float(np.median(days[use])) if use.any() else 1.0, 1.0)
    out = np.full(shape, overall)
    for g in range(shape[0]):
        for k in range(shape[1]):
            cell = use & (segment == g) & (key == k)
            if np.count_nonzero(cell) >= 20:
                out[g, k] = max(float(np.median(days[cell])), 1.0)
    return out


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
    sample_rate: float  # share of the deals at each origin kept as training rows


@dataclass(frozen=True)
class Hazards:
    won: Floats  # (deals, weeks)
    lost: Floats


@dataclass(frozen=True)
class DealModel:
    encoder: Encoder
    base: LogisticRegression
    report: FitReport
    mean_effect: list[Floats]  # per group: training mean of the won-vs-open effect

    def hazards(self, book: DealBook, st: States, weeks: int) -> Hazards:
        """Weekly hazards of each deal for lead weeks 1..weeks (features move with the calendar)."""
        n = len(st)
        won = np.zeros((n, weeks))
        lost = np.zeros((n, weeks))
        classes = [int(c) for c in self.base.classes_]
        weights = np.ascontiguousarray(np.asarray(self.base.coef_, dtype=np.float64).T)  # (columns, classes)
        intercept = np.asarray(self.base.intercept_, dtype=np.float64)
        for k in range(1, weeks + 1):
            x = self.encoder.design(self.encoder.codes(book, st, np.full(n, k, np.int64)))
            if weights.shape[1] == len(classes) > 2:  # the multinomial softmax, without scikit-learn's checks
                p = special.softmax(x @ weights + intercept, axis=1)
            else:  # a two-class fit keeps one column of weights: let scikit-learn read it
                p = self.base.predict_proba(x)
            won[:, k - 1], lost[:, k - 1] = p[:, classes.index(1)], p[:, classes.index(2)]
        return Hazards(won, lost)

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


def _regression(warm_from: LogisticRegression | None = None) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    if warm_from is None:
        return LogisticRegression(C=1.0, max_iter=300, tol=1e-4)
    model = copy.deepcopy(warm_from)  # starts where a model that saw less data stopped
    model.set_params(warm_start=True)
    return model


class FitCount:
    """The logistic fits this process has made (a deal model's, each walk-forward cut's): what a kept fit saves."""

    def __init__(self) -> None:
        self.fits = 0


#: Counted by every fit; benchmarks print it and tests hold a second run to none
FITS = FitCount()


def _fit(model: LogisticRegression, x: sp.csr_matrix, y: Ints) -> LogisticRegression:
    FITS.fits += 1
    # tol 1e-4 is ample for probabilities; a stopped optimiser is not an error worth failing a forecast over
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x, y)


def _origins(book: DealBook, until: int, weeks: int) -> list[int]:
    """Weekly origins ``until − 7``, ``until − 14``, … (at most ``weeks``), oldest first, from 4 weeks of history."""
    first = int(np.nanmin(book.first_seen)) if book.size else until
    return [s for s in range(until - 7, until - 7 * (weeks + 1), -7) if s >= first + 28][::-1]


def _enough(y: Ints, min_sample: int) -> bool:
    return bool(np.count_nonzero(y == 1) >= min_sample and np.count_nonzero(y == 2) >= min_sample)


def fit_deal_model(book: DealBook, as_of: int, fiscal_start_month: int, min_sample: int) -> DealModel:
    """Fit the hazard model on landmark rows from the :data:`TRAIN_WEEKS` weeks before ``as_of``."""
    origins = _origins(book, as_of, TRAIN_WEEKS)
    if len(origins) < 8:
        raise InsufficientDataError(
            f"only {len(origins)} weekly origins of history before the as-of date; the model needs at least 8",
            hint="forecast a later date or ingest more history",
        )
    open_per_origin = float(np.mean([len(book.open_at(s)) for s in origins[:: max(1, len(origins) // 6)]]))
    expected = open_per_origin * len(origins) * 5.0
    rate = min(1.0, MAX_ROWS / max(expected, 1.0))
    rows = lead_rows(book, origins, as_of, rate)
    won_events = int(np.count_nonzero(rows.outcome == 1))
    lost_events = int(np.count_nonzero(rows.outcome == 2))
    if not _enough(rows.outcome, min_sample):
        raise InsufficientDataError(
            f"too few closed deals before the as-of date to learn from ({won_events} won, {lost_events} lost)"
        )
    st = rows.origin
    # typical stay and silence per segment (and stage), over each (deal, origin) once: deal attributes known
    # at the as-of date, no outcome
    segment, first_week, n_seg = book.segment[st.deal], rows.lead == 1, len(book.segment_names)
    quiet = np.clip(st.days_since_logged, 0, 10_000)
    encoder = Encoder(
        n_stages=len(book.stage_names),
        n_segments=len(book.segment_names),
        n_channels=len(book.channel_names),
        n_categories=len(book.categories),
        stage_edges=_edges(np.log1p(np.maximum(st.days_in_stage, 0)).astype(np.float64), 5),
        age_edges=_edges(np.log1p(np.maximum(st.age_days, 0)).astype(np.float64), 5),
        amount_edges=_edges(np.log1p(np.maximum(st.amount, 0.0)), 5),
        activity_edges=_edges(np.log1p(quiet).astype(np.float64), 5),
        fiscal_start_month=fiscal_start_month,
        typical_stay=_typical(segment, st.stage, st.days_in_stage, first_week, (n_seg, len(book.stage_names))),
        typical_quiet=_typical(segment, np.zeros(len(st), dtype=np.int64), quiet, first_week, (n_seg, 1))[:, 0],
    )
    codes = encoder.codes(book, st, rows.lead)
    base = _fit(_regression(), encoder.design(codes), rows.outcome)
    delta = _won_vs_open(base)
    mean_effect: list[Floats] = []
    offset = 0
    for c, size in zip(codes, encoder.sizes, strict=True):
        mean_effect.append(np.asarray(np.mean(delta[offset : offset + size][np.minimum(c, size - 1)])))
        offset += size
    report = FitReport(
        rows=len(rows.outcome),
        deals=int(np.unique(st.deal).size),
        origins=len(origins),
        first_origin=origins[0],
        last_origin=origins[-1],
        events_won=won_events,
        events_lost=lost_events,
        sample_rate=rate,
    )
    return DealModel(encoder, base, report, mean_effect)


def walk_forward(model: DealModel, book: DealBook, cuts: list[int], min_sample: int) -> list[DealModel | None]:
    """The model as it would have been fit at the end of each day in ``cuts`` (ascending): the same encoder
    (bins and typical stays from ``model``'s training rows — deal attributes, no outcome) and row sampling, on
    the :data:`TRAIN_WEEKS` weeks of origins before the cut and only the weeks that had ended by it — so it
    has seen no outcome after the cut (out of sample for what follows). ``None`` where the history before a
    cut is too thin. Each fit starts from the previous (earlier) one."""
    if not cuts:
        return []
    origins = _origins(book, max(cuts), TRAIN_WEEKS + (max(cuts) - min(cuts)) // 7 + 1)
    if not origins:
        return [None] * len(cuts)
    rows = lead_rows(book, origins, max(cuts), model.report.sample_rate)
    x = model.encoder.design(model.encoder.codes(book, rows.origin, rows.lead))
    ends = rows.origin.day + 7 * rows.lead
    out: list[DealModel | None] = []
    previous: LogisticRegression | None = None
    for cut in cuts:
        keep = (ends <= cut) & (rows.origin.day > cut - 7 * (TRAIN_WEEKS + 1))
        y = rows.outcome[keep]
        if np.unique(rows.origin.day[keep]).size < 8 or not _enough(y, min_sample) or np.unique(y).size < 3:
            out.append(None)
            continue
        previous = _fit(_regression(previous), x[keep], y)
        out.append(replace(model, base=previous))
    return out


def win_in_window(h: Hazards, week_weight: Floats) -> Floats:
    """P(won inside the window) from weekly hazards; ``week_weight[k]`` is the share of week k+1 inside it."""
    survive = np.cumprod(1.0 - h.won - h.lost, axis=1)
    before = np.concatenate([np.ones((h.won.shape[0], 1)), survive[:, :-1]], axis=1)
    return np.asarray(np.clip((before * h.won) @ week_weight, 0.0, 1.0))
