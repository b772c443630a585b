"""Days in stage, cycle length and sales velocity, as of a date.

*Days in stage* — every stay in an open stage entered within the lookback: from the first event in
the stage to the first event in another stage. Stays still running at ``as_of`` are right-censored:
the median, P80 and P90 are Kaplan–Meier quantiles over whole days, so a deal sitting in a stage
counts as "at least this long", never as done. The engine counts stays per (group, stage, days,
finished); the product-limit estimate runs on those few rows.

*Cycle length* — creation to close (close date) of deals won within the lookback: quantiles of the
won deals (the cycle of the deals that make bookings; open and lost deals have no cycle to win).

*Sales velocity* — ``open deals × win rate × average won deal ÷ median cycle days``, per day and per
week, with the win rate from :func:`saleslead.funnel.conversion.stage_conversion` (first stage).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
from pydantic import BaseModel, ConfigDict

from saleslead.evidence import Rate
from saleslead.funnel.conversion import stage_conversion
from saleslead.funnel.spans import Ladder, attach, check_by, deals, group_of, holding
from saleslead.funnel.state import end_of, history_until
from saleslead.store import Store

__all__ = [
    "CycleLength",
    "StageDuration",
    "Velocity",
    "cycle_length",
    "kaplan_meier_quantiles",
    "sales_velocity",
    "stage_durations",
]

_DAY = 86_400.0


class StageDuration(BaseModel):
    """How long deals stay in one open stage (Kaplan–Meier over whole days)."""

    model_config = ConfigDict(frozen=True)

    group: dict[str, str]
    stage: str
    stage_order: int
    stays: int
    finished: int
    still_in_stage: int
    median_days: float | None
    p80_days: float | None
    p90_days: float | None
    method: str = "kaplan-meier"
    thin: bool = False


class CycleLength(BaseModel):
    """Creation to close of the deals won within the lookback."""

    model_config = ConfigDict(frozen=True)

    group: dict[str, str]
    won_deals: int
    median_days: float | None
    p80_days: float | None
    p90_days: float | None
    average_won: float | None
    thin: bool = False


class Velocity(BaseModel):
    """Sales velocity: expected bookings per day from the open pipeline."""

    model_config = ConfigDict(frozen=True)

    group: dict[str, str]
    open_deals: int
    win_rate: Rate
    average_won: float | None
    cycle_days: float | None
    per_day: float | None
    per_week: float | None


def kaplan_meier_quantiles(
    days: np.ndarray, finished: np.ndarray, stays: np.ndarray, quantiles: Sequence[float]
) -> list[float | None]:
    """Product-limit quantiles from counts: ``stays[i]`` stays of ``days[i]`` days, ``finished[i]`` of them ended.

    The q-quantile is the first day at which the survival curve falls to ``1 - q`` or below
    (None when it never does: too many stays are still running).
    """
    if len(days) == 0:
        return [None for _ in quantiles]
    order = np.argsort(days, kind="stable")
    d, e, n = days[order], finished[order].astype(float), stays[order].astype(float)
    uniq, start = np.unique(d, return_index=True)
    events = np.add.reduceat(e, start)
    totals = np.add.reduceat(n, start)
    at_risk = totals[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(np.where(at_risk > 0, 1.0 - events / at_risk, 1.0))
    out: list[float | None] = []
    for q in quantiles:
        hit = np.nonzero(survival <= 1.0 - q + 1e-12)[0]
        out.append(float(uniq[hit[0]]) if len(hit) else None)
    return out


def stage_durations(
    store: Store,
    as_of: date,
    by: Sequence[str] = (),
    *,
    lookback_days: int = 365,
    min_sample: int = 30,
    span_table: ir.Table | None = None,
) -> list[StageDuration]:
    """Days in each open stage per group: Kaplan–Meier median, P80, P90 (running stays censored)."""
    keys = check_by(by)
    counted = (
        _stay_counts(store, as_of, keys, lookback_days)
        if span_table is None
        else _stay_counts_from(span_table, as_of, keys, lookback_days)
    )
    rows = counted.to_pyarrow().to_pylist()
    buckets: dict[tuple[tuple[str, ...], str, int], list[tuple[int, bool, int]]] = defaultdict(list)
    for r in rows:
        key = (tuple(str(r[k]) for k in keys), str(r["stage"]), int(r["stage_order"]))
        buckets[key].append((int(r["days"]), bool(r["finished"]), int(r["n"])))
    out: list[StageDuration] = []
    for (values, stage, order), cells in sorted(buckets.items(), key=lambda item: (item[0][0], item[0][2])):
        arr = np.asarray(cells, dtype=np.int64)
        n = arr[:, 2]
        done = np.where(arr[:, 1] == 1, n, 0)
        median, p80, p90 = kaplan_meier_quantiles(arr[:, 0], done, n, (0.5, 0.8, 0.9))
        total, finished = int(n.sum()), int(done.sum())
        out.append(
            StageDuration(
                group=dict(zip(keys, values, strict=True)),
                stage=stage,
                stage_order=order,
                stays=total,
                finished=finished,
                still_in_stage=total - finished,
                median_days=median,
                p80_days=p80,
                p90_days=p90,
                thin=finished < min_sample,
            )
        )
    return out


def _stay_counts(store: Store, as_of: date, keys: tuple[str, ...], lookback_days: int) -> ir.Table:
    """Stays per (group, stage, whole days, finished), from the stored run starts — no window.

    Every event carries ``stage_entered_at``, the start of the run of its stage it belongs to; a run ends
    when its last event is replaced (``valid_to``), or is still running at ``as_of`` (null ``valid_to``).
    """
    h = history_until(store, as_of)
    ladder = Ladder.read(store)
    start = ibis.literal(as_of - timedelta(days=lookback_days)).cast("timestamp")
    e = h.filter(h.stage_entered_at >= start, ladder.where_open(h.stage))
    cut = ibis.literal(end_of(as_of))
    # A run is every event from its stage's entry on (events changing only the amount or the owner do not
    # split it); its owner is the one of its first event.
    extra = {"owner_id": e.owner_id.max(where=e.changed_at == e.stage_entered_at)} if "owner_id" in keys else {}
    runs = e.group_by(["opportunity_id", "stage_entered_at", "stage"]).aggregate(
        last_to=e.valid_to.fill_null(cut).max(), **extra
    )
    runs = attach(store, runs, keys)
    # a successor recorded after as_of is not known yet: the stay is still running at the cut
    left_at = ibis.least(runs.last_to, cut)
    length = ((left_at.epoch_seconds() - runs.stage_entered_at.epoch_seconds()) / _DAY).floor().cast("int64")
    runs = runs.mutate(days=length, finished=left_at < cut)
    counts = runs.group_by([*keys, "stage", "days", "finished"]).aggregate(n=runs.count())
    return counts.mutate(stage_order=ladder.order(counts.stage))


def _stay_counts_from(s: ir.Table, as_of: date, keys: tuple[str, ...], lookback_days: int) -> ir.Table:
    """The same counts from a span table (one window over the stage changes)."""
    moves = s.filter(s.prev_stage.isnull() | (s.stage != s.prev_stage))
    after = ibis.window(group_by="opportunity_id", order_by=moves.changed_at)
    moves = moves.mutate(left_at=moves.changed_at.lead().over(after))
    start = ibis.literal(as_of - timedelta(days=lookback_days))
    stays = moves.filter(~moves.is_closed & (moves.changed_at.date() >= start))
    end = ibis.coalesce(stays.left_at, ibis.literal(as_of + timedelta(days=1)).cast("timestamp"))
    length = ((end.epoch_seconds() - stays.changed_at.epoch_seconds()) / _DAY).floor().cast("int64")
    stays = stays.mutate(days=length, finished=stays.left_at.notnull())
    return stays.group_by([*keys, "stage", "stage_order", "days", "finished"]).aggregate(n=stays.count())


def cycle_length(
    store: Store,
    as_of: date,
    by: Sequence[str] = (),
    *,
    lookback_days: int = 365,
    min_sample: int = 30,
    deal_table: ir.Table | None = None,
) -> list[CycleLength]:
    """Creation→close days of deals won (close date) within the lookback: median, P80, P90; average won."""
    keys = check_by(by)
    since = ibis.literal(as_of - timedelta(days=lookback_days))
    if deal_table is None:
        now = holding(store, as_of)
        now = now.filter(Ladder.read(store).where_won(now.stage), now.close_date > since)
        now = now.select("opportunity_id", "close_date", "first_seen", "owner_id", amount=now.amount.fill_null(0.0))
        won = attach(store, now, keys, created=True)
    else:
        won = deal_table.filter(deal_table.is_won & (deal_table.close_date > since))
    cycle = won.close_date.delta(won.created_day, unit="day")
    metrics = {
        "n": won.count(),
        "median": cycle.quantile(0.5),
        "p80": cycle.quantile(0.8),
        "p90": cycle.quantile(0.9),
        "average": won.amount.mean(),
    }
    agg = won.group_by(list(keys)).aggregate(**metrics) if keys else won.aggregate(**metrics)
    rows = agg.order_by(list(keys)).to_pyarrow().to_pylist() if keys else agg.to_pyarrow().to_pylist()
    return [
        CycleLength(
            group=group_of(r, keys),
            won_deals=int(r["n"]),
            median_days=_float(r["median"]),
            p80_days=_float(r["p80"]),
            p90_days=_float(r["p90"]),
            average_won=_float(r["average"]),
            thin=int(r["n"]) < min_sample,
        )
        for r in rows
        if int(r["n"]) > 0
    ]


def sales_velocity(
    store: Store,
    as_of: date,
    by: Sequence[str] = (),
    win_rates: dict[tuple[str, ...], Rate] | None = None,
    *,
    lookback_days: int = 365,
    min_sample: int = 30,
) -> list[Velocity]:
    """Open deals × win rate × average won deal ÷ cycle days, per group (win rate: first-stage, matured)."""
    keys = check_by(by)
    d = deals(store, as_of)
    if win_rates is None:
        conv = stage_conversion(store, as_of, keys, lookback_days=lookback_days, min_sample=min_sample, deal_table=d)
        first = min((s.stage_order for s in conv.stages), default=0)
        win_rates = {tuple(s.group[k] for k in keys): s.win_rate for s in conv.stages if s.stage_order == first}
    cycles = {
        tuple(c.group[k] for k in keys): c
        for c in cycle_length(store, as_of, keys, lookback_days=lookback_days, deal_table=d)
    }
    open_deals = d.filter(~d.is_closed)
    counts = (
        open_deals.group_by(list(keys)).aggregate(n=open_deals.count())
        if keys
        else open_deals.aggregate(n=open_deals.count())
    )
    out: list[Velocity] = []
    for r in counts.to_pyarrow().to_pylist():
        key = tuple(str(r[k]) for k in keys)
        rate = win_rates.get(key) or Rate(value=None, low=None, high=None, successes=0, trials=0, thin=True)
        cycle = cycles.get(key)
        per_day = None
        if cycle and rate.value is not None and cycle.average_won and cycle.median_days:
            per_day = int(r["n"]) * rate.value * cycle.average_won / max(cycle.median_days, 1.0)
        out.append(
            Velocity(
                group=group_of(r, keys),
                open_deals=int(r["n"]),
                win_rate=rate,
                average_won=cycle.average_won if cycle else None,
                cycle_days=cycle.median_days if cycle else None,
                per_day=per_day,
                per_week=per_day * 7 if per_day is not None else None,
            )
        )
    return sorted(out, key=lambda v: tuple(v.group.values()))


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
