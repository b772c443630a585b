"""Stage-to-stage conversion and stage win rates, by count and by value, on matured creation cohorts.

Stages come from the learned ladder (``stages``: ``stage_order``, ``is_closed``, ``is_won``); no stage
name is read. A deal *reached* open stage k when it was ever in an open stage of order ≥ k, or won.
At stage k:

* ``advanced`` — reached a later open stage, or won; ``lost`` — closed lost with k its furthest stage;
* ``still_open`` — open with k its furthest stage: censored, neither a win nor a loss;
* ``conversion = advanced / (advanced + lost)``; ``win_rate = won / (won + lost)`` among deals that
  reached k (open deals excluded from both).

Censoring: only cohorts created at least ``maturity_days`` before ``as_of`` count (default: the 90th
percentile of creation→close of deals closed in the lookback), so few deals are still open; those
that are stay out of the denominators and are reported as ``still_open``. By value, amounts are the
deal's amount as of ``as_of`` and the interval is Wilson at the Kish effective sample size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from saleslead.evidence import Evidence, Rate, wilson
from saleslead.funnel.spans import Ladder, attach, check_by, cohort_deals, holding
from saleslead.funnel.state import stored
from saleslead.store import Store

__all__ = ["FunnelConversion", "StageConversion", "default_maturity", "stage_conversion", "value_rate"]


class StageConversion(BaseModel):
    """Conversion out of one open stage, and the win rate of deals that reached it, in one group."""

    model_config = ConfigDict(frozen=True)

    group: dict[str, str]
    stage: str
    stage_order: int
    next_stage: str | None
    reached: int
    advanced: int
    lost: int
    won: int
    still_open: int
    conversion: Rate
    conversion_value: Rate
    win_rate: Rate
    win_rate_value: Rate


class FunnelConversion(BaseModel):
    """Stage conversion of the deals created in ``[cohort_start, cohort_end]``, as known at ``as_of``."""

    model_config = ConfigDict(frozen=True)

    as_of: date
    by: list[str]
    cohort_start: date
    cohort_end: date
    maturity_days: int
    stages: list[StageConversion]
    evidence: Evidence


def value_rate(
    success_value: float,
    trial_value: float,
    trial_value_sq: float,
    confidence: float = 0.9,
    min_sample: int = 30,
) -> Rate:
    """A value-weighted share with a Wilson interval at the Kish effective sample size ``(Σw)²/Σw²``."""
    if trial_value <= 0 or trial_value_sq <= 0:
        return Rate(value=None, low=None, high=None, successes=0, trials=0, method="wilson-kish", thin=True)
    n_eff = trial_value * trial_value / trial_value_sq
    share = min(max(success_value / trial_value, 0.0), 1.0)
    rate = wilson(share * n_eff, n_eff, confidence, min_sample)
    return rate.model_copy(
        update={"value": success_value / trial_value, "successes": success_value, "trials": trial_value}
    ).model_copy(update={"method": "wilson-kish"})


def default_maturity(store: Store, as_of: date, lookback_days: int = 365, deal_table: ir.Table | None = None) -> int:
    """Days after which a creation cohort counts as matured: P90 of creation→close, deals closed in the lookback."""
    start = ibis.literal(as_of - timedelta(days=lookback_days))
    if deal_table is None:
        now = holding(store, as_of)
        now = now.filter(Ladder.read(store).where_closed(now.stage), now.close_date >= start, now.close_date.notnull())
        closed = attach(store, now.select("opportunity_id", "close_date", "first_seen"), (), created=True)
    else:
        d = deal_table
        closed = d.filter(d.is_closed & (d.close_date >= start) & d.close_date.notnull())
    cycle = closed.close_date.delta(closed.created_day, unit="day")
    value = closed.aggregate(p90=cycle.quantile(0.9)).to_pyarrow().column("p90")[0].as_py()
    return max(round(float(value)), 0) if value is not None else 90


def stage_conversion(
    store: Store,
    as_of: date,
    by: Sequence[str] = (),
    *,
    lookback_days: int = 365,
    maturity_days: int | None = None,
    confidence: float = 0.9,
    min_sample: int = 30,
    deal_table: ir.Table | None = None,
) -> FunnelConversion:
    """Stage conversion and win rates per open stage (and per group of ``by``), as of ``as_of``."""
    keys = check_by(by)
    if maturity_days is None:
        maturity = default_maturity(store, as_of, lookback_days, deal_table)
    else:
        maturity = maturity_days
    cohort_end = as_of - timedelta(days=maturity)
    cohort_start = cohort_end - timedelta(days=lookback_days)
    # Without a deal table, only the deals of the cohort are built (the history is pruned first).
    d = deal_table if deal_table is not None else cohort_deals(store, as_of, cohort_start, keys)
    d = d.filter(
        (d.created_day > ibis.literal(cohort_start))
        & (d.created_day <= ibis.literal(cohort_end))
        & (d.reached.notnull() | d.is_won)
    )
    # The engine counts the deals per (group, furthest stage, outcome); every stage's tally is a sum of those
    # few cells (a deal that reached stage j counts at every k <= j), added up here.
    cells = d.group_by([*keys, "reached", "is_closed", "is_won"]).aggregate(
        n=d.count(), value=d.amount.sum(), sq=(d.amount * d.amount).sum()
    )
    stages = stored(store, "stages")
    ladder_rows = stages.filter(~stages.is_closed).order_by("stage_order").to_pyarrow().to_pylist()
    names = {int(r["stage_order"]): str(r["name"]) for r in ladder_rows}
    orders = sorted(names)
    following = {k: names[orders[i + 1]] if i + 1 < len(orders) else None for i, k in enumerate(orders)}
    out: list[StageConversion] = []
    for group, tally in _tallies(cells.to_pyarrow(), keys, orders):
        for k, r in tally:
            adv, lost_k, won, lost_all = r["advanced"], r["lost_here"], r["won"], r["lost_after"]
            out.append(
                StageConversion(
                    group=group,
                    stage=names.get(k, str(k)),
                    stage_order=k,
                    next_stage=following.get(k),
                    reached=r["reached"],
                    advanced=adv,
                    lost=lost_k,
                    won=won,
                    still_open=r["still_open"],
                    conversion=wilson(adv, adv + lost_k, confidence, min_sample),
                    conversion_value=value_rate(r["adv_value"], r["adv_trials"], r["adv_sq"], confidence, min_sample),
                    win_rate=wilson(won, won + lost_all, confidence, min_sample),
                    win_rate_value=value_rate(r["won_value"], r["win_trials"], r["win_sq"], confidence, min_sample),
                )
            )
    first = [s for s in out if s.stage_order == (orders[0] if orders else 0)]
    sample = sum(s.reached for s in first)
    still = sum(s.still_open for s in out)
    return FunnelConversion(
        as_of=as_of,
        by=list(keys),
        cohort_start=cohort_start + timedelta(days=1),
        cohort_end=cohort_end,
        maturity_days=maturity,
        stages=out,
        evidence=Evidence(
            method="matured creation cohorts; resolved outcomes only (open deals censored, not lost); Wilson",
            sample_size=sample,
            thin=sample < min_sample,
            note=f"{still} deal-stage outcomes still open in the matured cohorts were left out",
        ),
    )


def _tallies(
    cells: pa.Table, keys: tuple[str, ...], orders: list[int]
) -> list[tuple[dict[str, str], list[tuple[int, dict[str, Any]]]]]:
    """Per group and open stage k (only where some deal reached k): the counts and sums of the stage's outcomes.

    ``cells`` holds deals per (group, reached, is_closed, is_won) with their count ``n``, amount sum ``value``
    and sum of squares ``sq``; a null flag or ``reached`` counts as neither true nor false, as in SQL.
    """
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, key in enumerate(zip(*(cells.column(k).to_pylist() for k in keys), strict=True) if keys else ()):
        groups[key].append(i)
    if not keys and cells.num_rows:
        groups[()] = list(range(cells.num_rows))
    reached = np.array([np.nan if x is None else x for x in cells.column("reached").to_pylist()], dtype=float)
    closed = cells.column("is_closed").to_pylist()
    won = cells.column("is_won").to_pylist()
    n = np.asarray(cells.column("n").to_pylist(), dtype=np.int64)
    value = np.asarray(cells.column("value").fill_null(0.0).to_pylist(), dtype=float)
    sq = np.asarray(cells.column("sq").fill_null(0.0).to_pylist(), dtype=float)
    is_closed, is_open = np.array([c is True for c in closed]), np.array([c is False for c in closed])
    is_won, not_won = np.array([w is True for w in won]), np.array([w is False for w in won])
    out = []
    for key in sorted(groups, key=lambda g: tuple((v is None, str(v)) for v in g)):
        rows = np.asarray(groups[key], dtype=np.int64)
        r, c, o, w, nw = reached[rows], is_closed[rows], is_open[rows], is_won[rows], not_won[rows]
        cn, cv, cs = n[rows], value[rows], sq[rows]
        lost = c & nw
        tally = []
        for k in orders:
            with np.errstate(invalid="ignore"):
                at, past, stuck = (r >= k) | w, (r > k) | w, r == k
            if not at.any():
                continue
            resolved = at & (past | (lost & stuck))
            tally.append(
                (
                    k,
                    {
                        "reached": int(cn[at].sum()),
                        "advanced": int(cn[at & past].sum()),
                        "lost_here": int(cn[at & lost & stuck].sum()),
                        "still_open": int(cn[at & o & stuck].sum()),
                        "won": int(cn[at & w].sum()),
                        "lost_after": int(cn[at & lost].sum()),
                        "adv_value": float(cv[at & past].sum()),
                        "adv_trials": float(cv[resolved].sum()),
                        "adv_sq": float(cs[resolved].sum()),
                        "won_value": float(cv[at & w].sum()),
                        "win_trials": float(cv[at & c].sum()),
                        "win_sq": float(cs[at & c].sum()),
                    },
                )
            )
        out.append(({k: str(v) for k, v in zip(keys, key, strict=True)}, tally))
    return out
