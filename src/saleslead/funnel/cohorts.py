"""Creation cohorts: pipeline created per week, and how created pipeline turns into bookings over time.

*Pipeline created* — deals by the week they were created, valued at the amount they were created
with (the first amount recorded), the unit the whole creation plan is written in.

*Created→won lag* — for deals created in the lookback, the share of created value won ``l`` whole
weeks after creation (won = closed won, dated by its close date). Censoring is handled with a life
table: lag ``l`` is estimated only from deals old enough to have shown it (created at least ``l + 1``
whole weeks before ``as_of``), so young cohorts count for the early lags and never pull the late ones
down. ``cumulative[l]`` is the value yield within ``l + 1`` weeks; ``value_yield`` the yield within the
horizon. Its interval is Wilson at the Kish effective size of the cohorts old enough for the whole
horizon (they alone observed it end to end).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
from pydantic import BaseModel, ConfigDict

from saleslead.evidence import Evidence, Rate, wilson
from saleslead.funnel.spans import check_by, deals
from saleslead.store import Store

__all__ = ["CreatedWeek", "CreationYield", "creation_yield", "pipeline_created"]


class CreatedWeek(BaseModel):
    """Pipeline created in one week (``week_start`` .. +6 days) in one group."""

    model_config = ConfigDict(frozen=True)

    group: dict[str, str]
    week_start: date
    deals: int
    value: float


class CreationYield(BaseModel):
    """How one group's created pipeline becomes bookings: by lag week, cumulative, and in total."""

    model_config = ConfigDict(frozen=True)

    group: dict[str, str]
    horizon_weeks: int
    weekly: list[float]
    cumulative: list[float]
    at_risk_deals: list[int]
    value_yield: Rate
    count_yield: float | None
    median_lag_weeks: int | None
    p80_lag_weeks: int | None
    created_deals: int
    created_value: float
    won_deals: int
    won_value: float
    typical_deal: float | None
    evidence: Evidence


def pipeline_created(
    store: Store, start: date, as_of: date, by: Sequence[str] = (), *, deal_table: ir.Table | None = None
) -> list[CreatedWeek]:
    """Deals created per 7-day week from ``start`` to ``as_of`` (weeks start on ``start``), known at ``as_of``."""
    keys = check_by(by)
    d = deal_table if deal_table is not None else deals(store, as_of)
    d = d.filter((d.created_day >= ibis.literal(start)) & (d.created_day <= ibis.literal(as_of)))
    week = (d.created_day.delta(ibis.literal(start), unit="day") / 7).floor().cast("int64")
    d = d.mutate(week=week)
    agg = d.group_by([*keys, "week"]).aggregate(deals=d.count(), value=d.first_amount.sum())
    found = {(tuple(str(r[k]) for k in keys), int(r["week"])): r for r in agg.to_pyarrow().to_pylist()}
    groups = sorted({g for g, _ in found}) or ([()] if not keys else [])
    n_weeks = (as_of - start).days // 7 + 1 if as_of >= start else 0
    out: list[CreatedWeek] = []
    for g in groups:
        for w in range(n_weeks):
            r = found.get((g, w))
            out.append(
                CreatedWeek(
                    group=dict(zip(keys, g, strict=True)),
                    week_start=start + timedelta(days=7 * w),
                    deals=int(r["deals"]) if r else 0,
                    value=float(r["value"] or 0.0) if r else 0.0,
                )
            )
    return out


def creation_yield(
    store: Store,
    as_of: date,
    by: Sequence[str] = (),
    *,
    horizon_weeks: int = 52,
    lookback_weeks: int = 104,
    confidence: float = 0.9,
    min_sample: int = 30,
    deal_table: ir.Table | None = None,
) -> list[CreationYield]:
    """The created→won lag distribution and value yield per group (life table; see the module doc)."""
    keys = check_by(by)
    d = deal_table if deal_table is not None else deals(store, as_of)
    first = as_of - timedelta(days=7 * lookback_weeks)
    d = d.filter((d.created_day > ibis.literal(first)) & (d.created_day <= ibis.literal(as_of)))
    observed = ((ibis.literal(as_of).delta(d.created_day, unit="day") + 1) / 7).floor().cast("int64")
    won = d.is_won & d.close_date.notnull() & (d.close_date <= ibis.literal(as_of))
    lag = (d.close_date.delta(d.created_day, unit="day").clip(lower=0) / 7).floor().cast("int64")
    d = d.mutate(observed=ibis.least(observed, horizon_weeks), lag=ibis.ifelse(won, lag, -1))
    mature = d.observed >= horizon_weeks
    in_horizon = (d.lag >= 0) & (d.lag < horizon_weeks)
    by_age = d.group_by([*keys, "observed"]).aggregate(
        deals=d.count(),
        value=d.first_amount.sum(),
        sq=(d.first_amount * d.first_amount).sum(),
        won_mature=d.amount.sum(where=mature & in_horizon),
    )
    hits = d.filter(in_horizon)
    by_lag = hits.group_by([*keys, "lag"]).aggregate(won_deals=hits.count(), won_value=hits.amount.sum())
    typical = (
        d.group_by(list(keys)).aggregate(typical=d.first_amount.median())
        if keys
        else d.aggregate(typical=d.first_amount.median())
    )
    ages: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in by_age.to_pyarrow().to_pylist():
        ages[tuple(str(r[k]) for k in keys)].append(r)
    lags: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in by_lag.to_pyarrow().to_pylist():
        lags[tuple(str(r[k]) for k in keys)].append(r)
    typicals = {tuple(str(r[k]) for k in keys): r["typical"] for r in typical.to_pyarrow().to_pylist()}
    out: list[CreationYield] = []
    for g in sorted(ages):
        out.append(
            _life_table(keys, g, ages[g], lags.get(g, []), typicals.get(g), horizon_weeks, confidence, min_sample)
        )
    return out


def _life_table(
    keys: tuple[str, ...],
    g: tuple[str, ...],
    ages: list[dict[str, Any]],
    lags: list[dict[str, Any]],
    typical: Any,
    horizon: int,
    confidence: float,
    min_sample: int,
) -> CreationYield:
    value_by_age = np.zeros(horizon + 1)
    deals_by_age = np.zeros(horizon + 1, dtype=np.int64)
    mature_sq = mature_won = 0.0
    for r in ages:
        age = int(r["observed"])
        value_by_age[age] += float(r["value"] or 0.0)
        deals_by_age[age] += int(r["deals"])
        if age >= horizon:
            mature_sq += float(r["sq"] or 0.0)
            mature_won += float(r["won_mature"] or 0.0)
    # at risk for lag l: deals that have been observed for more than l whole weeks
    value_at_risk = value_by_age[::-1].cumsum()[::-1][1:]
    deals_at_risk = deals_by_age[::-1].cumsum()[::-1][1:]
    won_value = np.zeros(horizon)
    won_deals = np.zeros(horizon)
    for r in lags:
        won_value[int(r["lag"])] += float(r["won_value"] or 0.0)
        won_deals[int(r["lag"])] += int(r["won_deals"])
    with np.errstate(divide="ignore", invalid="ignore"):
        weekly = np.where(value_at_risk > 0, won_value / value_at_risk, 0.0)
        weekly_count = np.where(deals_at_risk > 0, won_deals / deals_at_risk, 0.0)
    cumulative = np.cumsum(weekly)
    total = float(cumulative[-1]) if horizon else 0.0
    median = p80 = None
    if total > 0:
        share = cumulative / total
        median = int(np.argmax(share >= 0.5))
        p80 = int(np.argmax(share >= 0.8))
    mature_value = float(value_by_age[horizon])
    n_eff = mature_value * mature_value / mature_sq if mature_sq > 0 else 0.0
    rate = wilson(min(total, 1.0) * n_eff, n_eff, confidence, min_sample).model_copy(
        update={"value": total, "successes": mature_won, "trials": mature_value, "method": "life-table, wilson-kish"}
    )
    n_mature = int(deals_by_age[horizon])
    return CreationYield(
        group=dict(zip(keys, g, strict=True)),
        horizon_weeks=horizon,
        weekly=[float(x) for x in weekly],
        cumulative=[float(x) for x in cumulative],
        at_risk_deals=[int(x) for x in deals_at_risk],
        value_yield=rate,
        count_yield=float(weekly_count.sum()),
        median_lag_weeks=median,
        p80_lag_weeks=p80,
        created_deals=int(deals_by_age.sum()),
        created_value=float(value_by_age.sum()),
        won_deals=int(won_deals.sum()),
        won_value=float(won_value.sum()),
        typical_deal=float(typical) if isinstance(typical, int | float) else None,
        evidence=Evidence(
            method="life table over creation cohorts (each lag from cohorts old enough to show it); "
            "interval: Wilson at Kish effective size of fully matured cohorts",
            sample_size=int(deals_by_age.sum()),
            thin=n_mature < min_sample,
            note=f"{n_mature} deals had the whole {horizon}-week horizon to mature",
        ),
    )
