"""The period forecast as of a date: closed-won so far + simulated open pipeline + new pipeline.

Reads only history known at the end of ``as_of`` (one :class:`DealBook` loaded until that day), so
the answer is the same on a store cut at ``as_of`` as on one that holds later data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import numpy.typing as npt

from saleslead.context import Progress
from saleslead.errors import InsufficientDataError
from saleslead.evidence import Evidence
from saleslead.forecast.calibrate import (
    CELLS,
    Calibration,
    OwnerEffects,
    PastPeriods,
    calibrate,
    category_cells,
    past_periods,
    shift_classes,
    win_probabilities,
    won_in,
)
from saleslead.forecast.levels import reliability_bins
from saleslead.forecast.model import FEATURES, GROUPS, INTERACTIONS, DealModel, fiscal_quarter, fit_deal_model
from saleslead.forecast.panel import DealBook, States, day_number, from_day_number, load_book, quarter_end_days
from saleslead.forecast.rollup import Hierarchy, build_hierarchy, category_field
from saleslead.forecast.runrate import NewPipeline, creation_shares, new_pipeline_run_rate
from saleslead.forecast.schemas import (
    DealForecast,
    Factor,
    ForecastMethod,
    ForecastResult,
    NodeForecast,
    Outcome,
    Reliability,
    SegmentForecast,
)
from saleslead.forecast.simulate import Book, Shock, Simulation, simulate, widen
from saleslead.forecast.spread import Spread, level_names, pits, recalibrate, spread_of
from saleslead.periods import Period
from saleslead.settings import Settings
from saleslead.store import Store

__all__ = [
    "PARTS",
    "Outlook",
    "book_of",
    "calibrated",
    "deal_probabilities",
    "forecast_result",
    "outlook_parts",
    "run_outlook",
    "simulation_book",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Outlook:
    """Everything one forecast computed, for the result and for the guard, calls and backtest."""

    period: Period
    as_of: date
    book: DealBook
    model: DealModel
    open: States
    p: Floats
    closed: States
    hierarchy: Hierarchy
    owners: list[str]
    new: NewPipeline
    calibration: Calibration
    sim: Simulation

    @property
    def shock(self) -> Shock:
        return self.calibration.shock

    @property
    def p_won(self) -> Floats:
        """Each open deal's P(won in the period), averaged over the period shock (``p`` is at shock 0)."""
        return np.asarray(self.sim.won, dtype=np.float64)


def run_outlook(
    store: Store,
    settings: Settings,
    period: Period,
    as_of: date,
    scenarios: int | None = None,
    progress: Progress | None = None,
    book: DealBook | None = None,
    model: DealModel | None = None,
    calibration: Calibration | None = None,
) -> Outlook:
    """Forecast ``period`` as of the end of ``as_of`` (a ``book`` loaded later is cut at ``as_of`` here)."""
    d = day_number(as_of)
    if as_of >= period.end:
        raise InsufficientDataError(f"{period} ended before {as_of}: nothing left to forecast; see its actuals")
    book = book or load_book(store, as_of)
    model = model or fit_deal_model(book, d, settings.fiscal_start_month, settings.min_sample)
    now = book.states_at(d)
    open_ = now.take(~now.is_closed)
    if calibration is None:
        past = past_periods(model, book, d, period, settings.min_sample)
        calibration = calibrated(store, book, d, period, past)
    shock = calibration.shock
    p = deal_probabilities(model, calibration, book, open_, period)
    closed = now.take(won_in(now, period))
    new = new_pipeline_run_rate(book, period, d)
    new = replace(new, mean=new.mean * np.exp(calibration.level.shift))  # the same level correction as the deals
    owner_codes = np.unique(np.concatenate([open_.owner, closed.owner]))
    owners = [book.owners[int(o)] for o in owner_codes]
    hierarchy = build_hierarchy(store, owners)
    sim_book = simulation_book(book, open_, p, closed, new, owner_codes, hierarchy, d, calibration.owners)
    n_seg = len(book.segment_names)
    sim = simulate(sim_book, shock.sd, scenarios or settings.scenarios, settings.seed, n_seg, progress)
    sim = widen(sim, sim_book, calibration.level.cv2, settings.seed)
    total, nodes = recalibrate(sim.total, sim.nodes, hierarchy, calibration.spread)
    sim = replace(sim, total=total, nodes=nodes)
    return Outlook(period, as_of, book, model, open_, p, closed, hierarchy, owners, new, calibration, sim)


#: scenarios of each past period's replayed outlook (its PITs need no finer resolution)
SPREAD_SCENARIOS = 200
_SPREAD_SEED = 13  # fixed: the calibration (kept on the shelf) does not depend on the forecast's seed


def calibrated(
    store: Store,
    book: DealBook,
    as_of: int,
    period: Period,
    past: PastPeriods,
    previous: Calibration | None = None,
) -> Calibration:
    """:func:`~saleslead.forecast.calibrate.calibrate` with the levels' spread measured on its past periods."""
    calibration = calibrate(book, as_of, period, past, previous=previous)
    tree = build_hierarchy(store, book.owners)
    return replace(calibration, spread=measure_spread(book, as_of, period, past, calibration, tree))


def measure_spread(
    book: DealBook,
    as_of: int,
    period: Period,
    past: PastPeriods,
    calibration: Calibration,
    tree: Hierarchy,
) -> Spread:
    """:class:`~saleslead.forecast.spread.Spread` from the PITs of every manager and rep of ``tree`` (the
    hierarchy over every owner of the book) at the same point of each past period, its outlook replayed with
    the model fit at that period's cut and ``calibration`` — its level error and owner effects as measured
    without that period; actuals are what the period booked."""
    offset = as_of - day_number(period.start)
    final = book.states_at(as_of)
    names = level_names(tree)
    by_level: dict[str, list[float]] = {"manager": [], "rep": []}
    for q, oos in zip(past.periods, past.models, strict=True):
        day = day_number(q.start) + offset
        if oos is None or day >= day_number(q.end) - 1:
            continue
        then = book.states_at(day)
        open_ = then.take(~then.is_closed)
        closed = then.take(won_in(then, q))
        if not len(open_):
            continue
        level, owners = calibration.without.get(q.name, (calibration.level, calibration.owners))
        p = deal_probabilities(oos, replace(calibration, level=level), book, open_, q)
        new = new_pipeline_run_rate(book, q, day)
        new = replace(new, mean=new.mean * np.exp(level.shift))
        codes = np.unique(np.concatenate([open_.owner, closed.owner]))
        sub = replace(tree, rollup=tree.rollup[codes])
        sim_book = simulation_book(book, open_, p, closed, new, codes, sub, day, owners)
        sim = simulate(sim_book, calibration.shock.sd, SPREAD_SCENARIOS, _SPREAD_SEED, len(book.segment_names))
        sim = widen(sim, sim_book, level.cv2, _SPREAD_SEED)
        won = won_in(final, q)
        per_owner = np.bincount(final.owner[won], weights=final.amount[won], minlength=len(book.owners))
        actual = np.asarray(tree.rollup.T @ per_owner, dtype=np.float64)
        active = np.asarray(sub.rollup.sum(axis=0)).ravel() > 0
        live = active & ((np.quantile(sim.nodes, 0.9, axis=1) > 0) | (actual > 0))
        u = pits(sim.nodes, actual)
        for i in np.flatnonzero(live):
            if names[i] in by_level:
                by_level[names[i]].append(float(u[i]))
    return spread_of(by_level)


def deal_probabilities(
    model: DealModel, calibration: Calibration, book: DealBook, open_: States, period: Period
) -> Floats:
    """Each open deal's P(won in the period) at shock 0: the model's, window-calibrated, category-stacked."""
    p = calibration.shock.calibrate(win_probabilities(model, book, open_, period), shift_classes(book, open_))
    p = calibration.stack.apply(p, category_cells(book, open_, period), open_.amount)
    return calibration.level.apply(p, open_.amount)  # the level error of past periods at this point


def simulation_book(
    book: DealBook,
    open_: States,
    p: Floats,
    closed: States,
    new: NewPipeline,
    owner_codes: Ints,
    hierarchy: Hierarchy,
    as_of: int | None = None,
    owners_fx: OwnerEffects | None = None,
) -> Book:
    """The simulation's input: open deals with their P(won), closed-won so far, new pipeline, on ``owner_codes``
    (the book's owner codes, in the order of the hierarchy's owners)."""
    return book_of(
        book, (open_.deal, p, open_.amount, open_.owner), (closed.deal, closed.amount, closed.owner), new,
        owner_codes, hierarchy, as_of, owners_fx,
    )  # fmt: skip


def book_of(
    book: DealBook,
    open_: tuple[Ints, Floats, Floats, Ints],
    closed: tuple[Ints, Floats, Ints],
    new: NewPipeline,
    owner_codes: Ints,
    hierarchy: Hierarchy,
    as_of: int | None = None,
    owners_fx: OwnerEffects | None = None,
) -> Book:
    """``as_of``: split new pipeline by the owners' measured creation then (else by open pipeline);
    ``owners_fx``: the owner effects to draw (else none). :func:`simulation_book` from arrays: open (deal,
    P(won), amount, owner code), closed (deal, amount, owner)."""
    deal, p, amount, owner = open_
    closed_deal, closed_amount, closed_owner = closed
    local = np.full(len(book.owners), -1, dtype=np.int64)
    local[owner_codes] = np.arange(len(owner_codes))
    n_seg = len(book.segment_names)
    n_own = len(owner_codes)
    seg_open = book.segment[deal]
    share = np.zeros((n_seg, n_own))
    np.add.at(share, (seg_open, local[owner]), np.maximum(amount, 0.0))
    sums = share.sum(axis=1, keepdims=True)
    share = np.divide(share, sums, out=np.zeros_like(share), where=sums > 0)
    if as_of is not None:  # new deals go to the owners who create them
        share = creation_shares(book, as_of, owner_codes, share)
    new_mean = np.where(share.sum(axis=1) > 0, new.mean, 0.0)
    owner_shift, owner_sd = owners_fx.draw(owner_codes) if owners_fx is not None else (None, None)
    return Book(
        p=p,
        amount=amount,
        owner=local[owner],
        segment=seg_open,
        closed_owner=np.bincount(local[closed_owner], weights=closed_amount, minlength=n_own).astype(np.float64),
        closed_segment=np.bincount(book.segment[closed_deal], weights=closed_amount, minlength=n_seg).astype(
            np.float64
        ),
        new_mean=new_mean,
        new_cv=new.cv,
        new_share=share,
        rollup=hierarchy.rollup,
        key=book.tag[deal],
        owner_shift=owner_shift,
        owner_sd=owner_sd,
        new_pool=new.pool,
    )


#: The parts of an outcome, in the columns of :func:`outlook_parts`.
PARTS = ("closed_won", "expected_open", "expected_new", "open_in_period", "expected_in_period")


def outlook_parts(o: Outlook) -> tuple[Floats, Floats]:
    """(nodes, parts) and (segments, parts): booked to date, expected from open deals, expected from pipeline not
    yet created, the open deals dated in the period and what they are expected to yield (columns: :data:`PARTS`).

    Expectations are exact (each deal's P(won) averaged over the period shock; new pipeline's expectation), so
    ``closed_won + expected_open + expected_new`` is the outcome's mean; every node sums the owners under it.
    """
    start, end = day_number(o.period.start), day_number(o.period.end)
    dated = ((o.open.close_day >= start) & (o.open.close_day < end)).astype(np.float64)
    expected = o.p_won * o.open.amount
    local = np.full(len(o.book.owners), -1, dtype=np.int64)
    local[[o.book.owners.index(name) for name in o.owners]] = np.arange(len(o.owners))

    def table(open_at: Ints, closed_at: Ints, new: Floats, size: int) -> Floats:
        cols = [
            np.bincount(closed_at, weights=o.closed.amount, minlength=size),
            np.bincount(open_at, weights=expected, minlength=size),
            new[:size] if len(new) else np.zeros(size),
            np.bincount(open_at, weights=o.open.amount * dated, minlength=size),
            np.bincount(open_at, weights=expected * dated, minlength=size),
        ]
        return np.stack([np.asarray(c, dtype=np.float64) for c in cols], axis=1)

    per_owner = table(local[o.open.owner], local[o.closed.owner], o.sim.new_owner, len(o.owners))
    nodes = np.asarray(o.hierarchy.rollup.T @ per_owner, dtype=np.float64)
    n_seg = len(o.book.segment_names)
    segments = table(o.book.segment[o.open.deal], o.book.segment[o.closed.deal], o.sim.new_segment, n_seg)
    return nodes, segments


def _outcome(values: npt.NDArray[np.float32], parts: Floats) -> dict[str, float]:
    q = np.quantile(values.astype(np.float64), [0.1, 0.5, 0.9])
    out = {name: round(float(v), 2) for name, v in zip(PARTS, parts, strict=True)}
    mean = out["closed_won"] + out["expected_open"] + out["expected_new"]
    return out | {"p10": round(float(q[0]), 2), "p50": round(float(q[1]), 2), "p90": round(float(q[2]), 2),
                  "mean": round(mean, 2)}  # fmt: skip


def node_categories(o: Outlook) -> tuple[Floats, npt.NDArray[np.int64]]:
    """(nodes, fields) amounts of open deals closing in the period, by CRM category; and open-deal counts."""
    fields = ("commit", "best_case", "pipeline", "omitted")
    start, end = day_number(o.period.start), day_number(o.period.end)
    in_period = (o.open.close_day >= start) & (o.open.close_day < end)
    mapped = [category_field(c) for c in o.book.categories]
    field_of = np.asarray([fields.index(m) if m in fields else -1 for m in mapped], dtype=np.int64)
    local = {o.book.owners.index(name): i for i, name in enumerate(o.owners)} if o.owners else {}
    owner_local = np.asarray([local[int(x)] for x in o.open.owner], dtype=np.int64)
    per_owner = np.zeros((len(o.owners), len(fields)))
    column = field_of[o.open.forecast_category]
    mask = in_period & (column >= 0)
    np.add.at(per_owner, (owner_local[mask], column[mask]), o.open.amount[mask])
    counts = np.bincount(owner_local, minlength=len(o.owners)).astype(np.float64)
    roll = o.hierarchy.rollup.T
    return np.asarray(roll @ per_owner), np.asarray(roll @ counts).astype(np.int64)


def deal_forecasts(o: Outlook, rows: Ints | None = None) -> list[DealForecast]:
    """Every open deal (or those at ``rows``) with its probability, expected amount and top factors."""
    pick = np.arange(len(o.open)) if rows is None else rows
    st = o.open.take(pick)
    effects = o.model.effects(o.book, st)
    labels = _factor_values(o.book, st, o.model)
    p_won = o.p_won
    out: list[DealForecast] = []
    for i in range(len(st)):
        top = np.argsort(-np.abs(effects[i]))[:5]
        close = int(st.close_day[i])
        out.append(
            DealForecast(
                opportunity_id=o.book.ids[int(st.deal[i])],
                owner_id=o.book.owners[int(st.owner[i])],
                segment=o.book.segment_names[int(o.book.segment[st.deal[i]])],
                stage=o.book.stage_names[int(st.stage[i])],
                amount=float(st.amount[i]),
                close_date=from_day_number(close) if close > -900_000 else None,
                forecast_category=o.book.categories[int(st.forecast_category[i])],
                p_win_in_period=round(float(p_won[pick[i]]), 4),
                expected_amount=round(float(p_won[pick[i]] * st.amount[i]), 2),
                factors=[
                    Factor(factor=GROUPS[g], value=labels[g][i], effect=round(float(effects[i, g]), 3)) for g in top
                ],
            )
        )
    return out


def _factor_values(book: DealBook, st: States, model: DealModel) -> list[list[str]]:
    """What each feature group reads for each deal (at lead week 1), as text."""
    fsm = model.encoder.fiscal_start_month
    tenure = book.owner_tenure(st.owner, 0) + st.day
    stay = [f"{int(v)} days" for v in st.days_in_stage]
    quiet = [f"{int(v)} days" if v < 10_000 else "never" for v in st.days_since_logged]
    labels: dict[str, list[str]] = {
        "stage": [book.stage_names[int(s)] for s in st.stage],
        "days_in_stage": stay,
        "age": [f"{int(v)} days" for v in st.age_days],
        "pushes": [str(int(v)) for v in st.pushes],
        "amount": [f"{v:,.0f}" for v in st.amount],
        "segment": [book.segment_names[int(book.segment[d])] for d in st.deal],
        "channel": [book.channel_names[int(book.channel[d])] for d in st.deal],
        "forecast_category": [book.categories[int(c)] for c in st.forecast_category],
        "owner_tenure": ["unknown" if np.isnan(t) else f"{int(t)} days" for t in tenure],
        "days_since_activity": quiet,
        "lead_week": ["week 1"] * len(st),
        "lead_weeks": ["week 1"] * len(st),
        "weeks_to_quarter_end": [f"{int(v)} days" for v in quarter_end_days(st.day + 1, fsm) - st.day - 1],
        "close_date": [str(from_day_number(int(c))) if c > -900_000 else "none" for c in st.close_day],
        "fiscal_quarter": [f"Q{int(q) + 1}" for q in fiscal_quarter(st.day + 1, fsm)],
        "days_in_stage_vs_typical": stay,
        "days_since_activity_vs_typical": quiet,
    }
    pairs = [[f"{x}, {y}" for x, y in zip(labels[a], labels[b], strict=True)] for a, b in INTERACTIONS]
    return [labels[name] for name in FEATURES] + pairs


def _path(h: Hierarchy, i: int) -> list[str]:
    """Names from the top down to node ``i``: sorting by it lists each manager before their team."""
    path: list[str] = []
    while i >= 0 and len(path) <= len(h.ids):
        path.append(f"{h.names[i]}\x00{h.ids[i]}")
        i = h.parent[i]
    return path[::-1]


def forecast_result(o: Outlook, settings: Settings, by: str | None, with_deals: bool) -> ForecastResult:
    cats, counts = node_categories(o)
    node_parts, seg_parts = outlook_parts(o)
    h = o.hierarchy
    leaves = h.leaves()
    nodes: list[NodeForecast] = []
    for i in sorted(range(len(h.ids)), key=lambda j: _path(h, j)):
        is_leaf = i in leaves and not any(par == i for par in h.parent)
        if by == "owner" and not is_leaf:
            continue
        if by == "manager" and is_leaf:
            continue
        if by == "segment":
            break
        nodes.append(
            NodeForecast(
                id=h.ids[i],
                name=h.names[i],
                title=h.titles[i],
                level=h.level[i],
                parent_id=h.ids[h.parent[i]] if h.parent[i] >= 0 else None,
                commit=round(float(cats[i, 0]), 2),
                best_case=round(float(cats[i, 1]), 2),
                pipeline=round(float(cats[i, 2]), 2),
                omitted=round(float(cats[i, 3]), 2),
                open_deals=int(counts[i]),
                **_outcome(o.sim.nodes[i], node_parts[i]),
            )
        )
    segments = [
        SegmentForecast(
            segment=name,
            new_pipeline_mean=round(float(o.new.mean[s]), 2),
            **_outcome(o.sim.segments[s], seg_parts[s]),
        )
        for s, name in enumerate(o.book.segment_names)
    ]
    r = o.model.report
    stack = o.calibration.stack
    shifts = o.shock.shift
    method = ForecastMethod(
        name="landmark competing-risks hazard, out-of-sample window calibration and category stack + period-shock "
        "Monte Carlo",
        description=(
            "Weekly won/lost/open hazards from a multinomial logistic regression on deal-weeks before the as-of "
            "date; P(won in period) compounds the hazards over the weeks left. The last periods, replayed at the "
            "same point with the model as it was fit then, calibrate that probability, weigh it against the "
            "CRM categories' win rates, and give the period shock's sd. Scenarios share one period shock on the "
            "log-odds and add new pipeline created and won inside the period at the measured run-rate."
        ),
        evidence=Evidence(
            method="maximum likelihood (multinomial logistic) + Gauss-Hermite random-intercept shock, out of sample",
            sample_size=r.events_won + r.events_lost,
            thin=min(r.events_won, r.events_lost) < settings.min_sample or stack.periods < 8,
            note=(
                f"{stack.periods} past periods ({o.shock.groups} origins) for the calibration, stack and shock; "
                f"{len(o.new.periods)} periods for new pipeline"
            ),
        ),
        training_rows=r.rows,
        training_deals=r.deals,
        training_origins=r.origins,
        training_from=from_day_number(r.first_origin),
        training_to=from_day_number(r.last_origin),
        won_events=r.events_won,
        lost_events=r.events_lost,
        calibration_rows=o.shock.deals,
        shock_sd=round(o.shock.sd, 4),
        window_intercept=round(o.shock.intercept, 4),
        window_slope=round(o.shock.slope, 4),
        window_segment_shifts={name: round(v, 4) for name, v in zip(o.book.segment_names, shifts, strict=False)},
        model_weight=stack.model_weight,
        category_rates={cell: round(r, 4) for cell, r in zip(CELLS, stack.rates, strict=False)},
        calibration_periods=stack.periods,
        shock_groups=o.shock.groups,
        shock_floor_used=o.shock.floor_used,
        new_pipeline_periods=o.new.periods,
        seed=settings.seed,
    )
    return ForecastResult(
        period=o.period.name,
        as_of=o.as_of,
        scenarios=o.sim.scenarios,
        total=Outcome(**_outcome(o.sim.total, seg_parts.sum(axis=0))),
        nodes=nodes,
        segments=segments,
        method=method,
        deals=deal_forecasts(o) if with_deals else None,
        reliability=_reliability(o),
    )


def _reliability(o: Outlook) -> Reliability | None:
    """The deal probability scored on the calibration's replayed past origins (out of sample)."""
    p, y, stage = o.calibration.scored
    if not len(p):
        return None
    return Reliability(
        bins=reliability_bins(p, y),
        brier=round(float(np.mean((p - y) ** 2)), 5),
        brier_stage=round(float(np.mean((stage - y) ** 2)), 5),
        deals=len(p),
        method="deals open at the same point of past periods, P(won in that period) from the model fit before "
        "it (window-calibrated and stacked), against whether they won; the stage probability counts only deals "
        "due to close in the period",
    )
