"""The strategy scorecard: every cell of the chosen dimensions, scored from deals decided before ``as_of``.

The work runs in the engine: one deal frame (every opportunity as it stood at the end of ``as_of``,
with its cell, the amount it was created at, the day it was decided and its cycle) is materialised
once, then three Ibis aggregations read it — deals decided in the lookback window, deals decided in
the last eight quarters (the trend), and deals created in a matured cohort (the yield). Python only
turns the per-cell sums into rates with their intervals and applies the rules. Formulas:
``docs/strategy.md``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field

from saleslead.errors import InputError, InsufficientDataError
from saleslead.evidence import wilson
from saleslead.format import amount
from saleslead.funnel import history_until, state_as_of
from saleslead.funnel.conversion import value_rate
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.strategy.rules import CellFacts, Recommendation, StrategyRules, recommend
from saleslead.strategy.trend import Trend, trend_of

__all__ = [
    "DIMENSIONS",
    "CellScore",
    "CompanyFigures",
    "ScoreRequest",
    "Scorecard",
    "cell_key",
    "deal_frame",
    "months_back",
    "parse_dimensions",
    "score",
]

#: The dimensions a cell may be cut by (``industry`` is the account's sector).
DIMENSIONS = ("segment", "motion", "channel", "product", "industry")
_ALIASES = {"sector": "industry", "type": "motion", "lead_source": "channel", "source": "channel"}
UNKNOWN = "Unknown"


def parse_dimensions(by: str | Sequence[str]) -> tuple[str, ...]:
    """``"segment,motion,channel"`` (or a list) → validated dimension names, in the order given."""
    items = by.split(",") if isinstance(by, str) else list(by)
    names: list[str] = []
    for item in items:
        name = _ALIASES.get(item.strip().lower(), item.strip().lower())
        if not name:
            continue
        if name not in DIMENSIONS:
            raise InputError(f"unknown dimension {item!r}", hint="choose from " + ", ".join(DIMENSIONS) + " (sector)")
        if name in names:
            raise InputError(f"dimension {name!r} given twice")
        names.append(name)
    if not names:
        raise InputError("at least one dimension is needed", hint="e.g. --by segment,motion,channel")
    return tuple(names)


def cell_key(cell: dict[str, Any], dimensions: Sequence[str]) -> str:
    """The cell's name: its values joined by `` / `` in dimension order."""
    return " / ".join(str(cell[d]) for d in dimensions)


def months_back(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (clipped to the month's last day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for dom in range(day.day, 27, -1):
        try:
            return date(year, month + 1, dom)
        except ValueError:
            continue
    return date(year, month + 1, min(day.day, 28))


class ScoreRequest(BaseModel):
    """Score every cell of ``by`` from deals decided in the ``lookback_months`` before ``as_of``."""

    model_config = ConfigDict(frozen=True)

    as_of: date | None = None
    by: tuple[str, ...] = ("segment", "motion", "channel")
    lookback_months: int = Field(12, ge=1, le=60)
    rules: StrategyRules = StrategyRules()


class CellScore(BaseModel):
    """One cell: its numbers with their intervals, its recommendation and the evidence for it."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True)

    key: str
    segment: str | None = None
    motion: str | None = None
    channel: str | None = None
    product: str | None = None
    industry: str | None = None
    deals: int = Field(description="deals decided (won or lost) in the lookback window")
    won: int
    win_rate: float | None = Field(description="won ÷ decided, by count (None below the minimum sample)")
    win_rate_low: float | None
    win_rate_high: float | None
    win_rate_value: float | None = Field(description="won amount ÷ decided amount")
    win_rate_value_low: float | None
    win_rate_value_high: float | None
    won_amount: float
    decided_amount: float
    avg_deal: float | None = Field(description="won amount ÷ won deals")
    cycle_days: float | None = Field(description="median days from creation to close of won deals")
    velocity: float | None = Field(description="deals × win rate × avg deal ÷ cycle days: dollars a day")
    cohort_deals: int = Field(description="deals created in the matured cohort window")
    cohort_open: int = Field(description="of those, still open at as_of")
    created_amount: float = Field(description="amount the cohort's deals were created at")
    cohort_won_amount: float
    yield_: float | None = Field(alias="yield", description="cohort won amount ÷ cohort created amount")
    yield_low: float | None
    yield_high: float | None
    required_coverage: float | None = Field(description="1 ÷ yield: pipeline to create per dollar booked")
    required_coverage_low: float | None
    required_coverage_high: float | None
    trend: Trend
    sample_size: int
    thin: bool
    recommendation: Recommendation
    rules_fired: list[str]
    evidence: str


class CompanyFigures(BaseModel):
    """The whole company over the same windows, and the median cell the rules compare against."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True)

    deals: int
    won: int
    win_rate: float | None
    win_rate_low: float | None
    win_rate_high: float | None
    won_amount: float
    avg_deal: float | None
    cycle_days: float | None
    velocity: float | None
    yield_: float | None = Field(alias="yield")
    required_coverage: float | None
    median_yield: float | None = Field(description="median yield of the cells with enough evidence")
    median_velocity: float | None = Field(description="median velocity of the cells with enough evidence")
    judged_cells: int = Field(description="cells with enough evidence (the medians are over these)")
    trend: Trend


class Scorecard(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    dimensions: list[str]
    lookback_from: date = Field(description="deals decided after this day and up to as_of are scored")
    lookback_months: int
    maturity_days: int
    cohort_from: date = Field(description="the yield cohort: deals created after this day …")
    cohort_to: date = Field(description="… and up to this day")
    min_deals: int
    min_cohort: int
    confidence: float
    rules: StrategyRules
    company: CompanyFigures
    cells: list[CellScore]
    recommendations: dict[str, int] = Field(description="cells per recommendation")


def deal_frame(store: Store, as_of: date, dimensions: Sequence[str]) -> ir.Table:
    """Every opportunity as of ``as_of``, with its cell, created amount, decided day and cycle days."""
    state = state_as_of(store, as_of)
    h = history_until(store, as_of)
    first_event = ibis.window(group_by="opportunity_id", order_by=[h.changed_at, h.seq])
    first = (
        h.mutate(rank=ibis.row_number().over(first_event))
        .filter(lambda t: t.rank == 0)
        .select("opportunity_id", created_amount="amount")
    )
    t = state.left_join(first, "opportunity_id")
    if "industry" in dimensions:
        a = store.table("accounts")
        sectors = a.group_by("account_id").aggregate(industry=a.industry.max())
        t = t.left_join(sectors, t.account_id == sectors.account_id)
    created_on = t.created_at.date()
    entered = t.stage_entered_at.date()
    decided_on = ibis.ifelse(t.is_closed, ibis.coalesce(ibis.least(t.close_date, entered), entered), None)
    cells = {d: t[d].cast("string").fill_null(UNKNOWN) for d in dimensions}
    return t.select(
        "opportunity_id",
        "owner_id",
        "is_closed",
        "is_won",
        "amount",
        **cells,
        created_amount=t.created_amount.fill_null(t.amount),
        created_on=created_on,
        decided_on=decided_on,
        cycle_days=decided_on.delta(created_on, unit="day"),
    )


def _aggregate(table: ir.Table, dimensions: Sequence[str], **metrics: ir.Value) -> list[dict[str, Any]]:
    grouped = table.group_by(list(dimensions)).aggregate(**metrics) if dimensions else table.aggregate(**metrics)
    rows: list[dict[str, Any]] = grouped.to_pyarrow().to_pylist()
    return rows


def _count(condition: ir.BooleanValue) -> ir.IntegerScalar:
    return condition.cast("int64").sum()


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def score(store: Store, request: ScoreRequest, settings: Settings, as_of: date) -> Scorecard:
    """The scorecard of ``request`` as of the end of ``as_of``."""
    dims = parse_dimensions(request.by)
    rules = request.rules
    min_deals = rules.min_deals or settings.min_sample
    min_cohort = rules.min_cohort or settings.min_sample
    lookback_from = months_back(as_of, request.lookback_months)
    recent_from, prior_from = months_back(as_of, 12), months_back(as_of, 24)
    end = ibis.literal(as_of)

    with deal_frame(store, as_of, dims).cache() as t:
        decided = t.filter(t.is_closed & (t.decided_on > ibis.literal(lookback_from)) & (t.decided_on <= end))
        won = decided.is_won
        decided_metrics = {
            "deals": decided.count(),
            "won": _count(won),
            "decided_amount": decided.amount.sum(),
            "decided_sumsq": (decided.amount * decided.amount).sum(),
            "won_amount": decided.amount.sum(where=won),
            "cycle_days": decided.cycle_days.median(where=won),
        }
        company_rows = _aggregate(decided, (), p90=decided.cycle_days.quantile(0.9, where=won), **decided_metrics)
        company_decided = company_rows[0]
        if not company_decided["deals"]:
            raise InsufficientDataError(
                f"no deal was decided between {lookback_from} and {as_of}",
                hint="choose a later --as-of or a longer --lookback",
            )
        maturity = rules.maturity_days or max(1, math.ceil(company_decided["p90"] or 0))
        cohort_to = as_of - timedelta(days=maturity)
        cohort_from = cohort_to - (as_of - lookback_from)

        closed_recently = t.filter(t.is_closed & (t.decided_on > ibis.literal(prior_from)) & (t.decided_on <= end))
        recent = closed_recently.decided_on > ibis.literal(recent_from)
        trend_metrics = {
            "recent_deals": _count(recent),
            "recent_won": _count(recent & closed_recently.is_won),
            "prior_deals": _count(~recent),
            "prior_won": _count(~recent & closed_recently.is_won),
        }
        cohort = t.filter((t.created_on > ibis.literal(cohort_from)) & (t.created_on <= ibis.literal(cohort_to)))
        cohort_metrics = {
            "cohort_deals": cohort.count(),
            "cohort_open": _count(~cohort.is_closed),
            "cohort_won": _count(cohort.is_won),
            "created_amount": cohort.created_amount.sum(),
            "cohort_won_amount": cohort.amount.sum(where=cohort.is_won),
        }
        by_cell = {tuple(r[d] for d in dims): r for r in _aggregate(decided, dims, **decided_metrics)}
        trends = {tuple(r[d] for d in dims): r for r in _aggregate(closed_recently, dims, **trend_metrics)}
        cohorts = {tuple(r[d] for d in dims): r for r in _aggregate(cohort, dims, **cohort_metrics)}
        company_trend = _aggregate(closed_recently, (), **trend_metrics)[0]
        company_cohort = _aggregate(cohort, (), **cohort_metrics)[0]

    window = (prior_from, recent_from, settings.confidence, min_deals)
    raw = []
    for key in sorted(by_cell):
        row = {**by_cell[key], **trends.get(key, {}), **cohorts.get(key, {})}
        raw.append((key, _measure(row, settings, min_cohort, maturity, cohort_from, cohort_to, window)))
    judged = [m for _, m in raw if m["deals"] >= min_deals]
    median_yield = _median([m["yield"] for m in judged if m["yield"] is not None])
    median_velocity = _median([m["velocity"] for m in judged if m["velocity"] is not None])

    cells = [
        _cell(key, dims, m, rules, min_deals=min_deals, median_yield=median_yield, median_velocity=median_velocity)
        for key, m in raw
    ]
    whole = _measure(
        {**company_decided, **company_trend, **company_cohort},
        settings,
        min_cohort,
        maturity,
        cohort_from,
        cohort_to,
        window,
    )
    company = CompanyFigures(
        deals=whole["deals"],
        won=whole["won"],
        win_rate=whole["win"].value,
        win_rate_low=whole["win"].low,
        win_rate_high=whole["win"].high,
        won_amount=whole["won_amount"],
        avg_deal=whole["avg_deal"],
        cycle_days=whole["cycle_days"],
        velocity=whole["velocity"],
        yield_=whole["yield"],
        required_coverage=whole["required_coverage"],
        median_yield=median_yield,
        median_velocity=median_velocity,
        judged_cells=len(judged),
        trend=whole["trend"],
    )
    counts = {r: sum(1 for c in cells if c.recommendation == r) for r in sorted({c.recommendation for c in cells})}
    return Scorecard(
        as_of=as_of,
        dimensions=list(dims),
        lookback_from=lookback_from,
        lookback_months=request.lookback_months,
        maturity_days=maturity,
        cohort_from=cohort_from,
        cohort_to=cohort_to,
        min_deals=min_deals,
        min_cohort=min_cohort,
        confidence=settings.confidence,
        rules=rules,
        company=company,
        cells=cells,
        recommendations=counts,
    )


def _measure(
    row: dict[str, Any],
    settings: Settings,
    min_cohort: int,
    maturity: int,
    cohort_from: date,
    cohort_to: date,
    window: tuple[date, date, float, int],
) -> dict[str, Any]:
    """Rates, intervals, velocity and yield of one cell from its engine-side sums."""
    deals, won = int(row.get("deals") or 0), int(row.get("won") or 0)
    decided_amount = float(row.get("decided_amount") or 0.0)
    won_amount = float(row.get("won_amount") or 0.0)
    win = wilson(won, deals, settings.confidence, settings.min_sample)
    # By value: the Wilson interval at the Kish effective sample (sum a)² / sum a² (the funnel core's value_rate).
    by_value = value_rate(
        won_amount, decided_amount, float(row.get("decided_sumsq") or 0.0), settings.confidence, settings.min_sample
    )
    value_rate_ = by_value.value
    avg_deal = won_amount / won if won else None
    cycle = row.get("cycle_days")
    cycle_days = float(cycle) if cycle is not None else None
    if won and cycle_days:
        velocity: float | None = deals * (won / deals) * (avg_deal or 0.0) / max(cycle_days, 1.0)
    else:
        velocity = 0.0 if deals else None

    cohort_deals, cohort_won = int(row.get("cohort_deals") or 0), int(row.get("cohort_won") or 0)
    created = float(row.get("created_amount") or 0.0)
    cohort_won_amount = float(row.get("cohort_won_amount") or 0.0)
    count_yield = wilson(cohort_won, cohort_deals, settings.confidence, min_cohort)
    value_yield = cohort_won_amount / created if created > 0 else None
    # The count yield's interval, scaled by the cell's won-to-created size ratio (1 when nothing was won).
    ratio = value_yield / count_yield.value if value_yield is not None and count_yield.value else 1.0
    yield_low = count_yield.low * ratio if count_yield.low is not None else None
    yield_high = count_yield.high * ratio if count_yield.high is not None else None
    measured = cohort_deals >= min_cohort and value_yield is not None
    point_yield = value_yield if measured else None

    def coverage(y: float | None) -> float | None:
        return 1.0 / y if y else None

    open_note = f", {row.get('cohort_open') or 0} still open" if row.get("cohort_open") else ""
    if measured and value_yield is not None:
        cohort_note = (
            f"Of {amount(created)} pipeline created {cohort_from + timedelta(days=1)}..{cohort_to} "
            f"({cohort_deals} deals, given {maturity} days to mature{open_note}), {amount(cohort_won_amount)} "
            f"was won: a yield of {value_yield:.0%}."
        )
    else:
        cohort_note = (
            f"Only {cohort_deals} deals were created {cohort_from + timedelta(days=1)}..{cohort_to} "
            f"(the rules need {min_cohort}): yield not measured."
        )
    prior_from, recent_from, confidence, min_deals = window
    return {
        "deals": deals,
        "won": won,
        "win": win,
        "by_value": by_value,
        "value_rate": value_rate_,
        "won_amount": won_amount,
        "decided_amount": decided_amount,
        "avg_deal": avg_deal,
        "cycle_days": cycle_days,
        "velocity": velocity,
        "cohort_deals": cohort_deals,
        "cohort_open": int(row.get("cohort_open") or 0),
        "created_amount": created,
        "cohort_won_amount": cohort_won_amount,
        "yield": point_yield,
        "yield_low": yield_low,
        "yield_high": yield_high,
        "yield_measured": measured,
        "required_coverage": coverage(point_yield),
        "required_coverage_low": coverage(yield_high),
        "required_coverage_high": coverage(yield_low),
        "cohort_note": cohort_note,
        "trend": trend_of(
            int(row.get("recent_won") or 0),
            int(row.get("recent_deals") or 0),
            int(row.get("prior_won") or 0),
            int(row.get("prior_deals") or 0),
            recent_from=recent_from,
            prior_from=prior_from,
            confidence=confidence,
            min_deals=min_deals,
        ),
    }


def _cell(
    key: tuple[Any, ...],
    dims: Sequence[str],
    m: dict[str, Any],
    rules: StrategyRules,
    *,
    min_deals: int,
    median_yield: float | None,
    median_velocity: float | None,
) -> CellScore:
    trend: Trend = m["trend"]
    measured = m["yield_measured"]
    facts = CellFacts(
        deals=m["deals"],
        won_amount=m["won_amount"],
        win_rate_low=m["win"].low,
        win_rate_high=m["win"].high,
        yield_=m["yield"],
        yield_high=m["yield_high"] if measured else None,
        required_coverage=m["required_coverage"],
        required_coverage_low=m["required_coverage_low"] if measured else None,
        velocity=m["velocity"],
        shrinking=trend.direction == "shrinking",
        trend_note=trend.note,
        cohort_note=m["cohort_note"],
    )
    verdict = recommend(facts, rules, min_deals=min_deals, median_yield=median_yield, median_velocity=median_velocity)
    sufficient = m["deals"] >= min_deals
    win, by_value = m["win"], m["by_value"]
    lead = (
        f"Won {m['won']} of {m['deals']} deals decided ({win.value:.0%}, "
        f"{_pct(win.low)}–{_pct(win.high)}) worth {amount(m['won_amount'])}."
        if sufficient and win.value is not None
        else ""
    )

    def shown(value: float | None) -> float | None:
        return value if sufficient else None

    return CellScore(
        key=" / ".join(str(k) for k in key),
        **dict(zip(dims, key, strict=True)),
        deals=m["deals"],
        won=m["won"],
        win_rate=shown(win.value),
        win_rate_low=win.low,
        win_rate_high=win.high,
        win_rate_value=shown(m["value_rate"]),
        win_rate_value_low=by_value.low,
        win_rate_value_high=by_value.high,
        won_amount=m["won_amount"],
        decided_amount=m["decided_amount"],
        avg_deal=shown(m["avg_deal"]),
        cycle_days=shown(m["cycle_days"]),
        velocity=shown(m["velocity"]),
        cohort_deals=m["cohort_deals"],
        cohort_open=m["cohort_open"],
        created_amount=m["created_amount"],
        cohort_won_amount=m["cohort_won_amount"],
        yield_=shown(m["yield"]),
        yield_low=m["yield_low"],
        yield_high=m["yield_high"],
        required_coverage=shown(m["required_coverage"]),
        required_coverage_low=m["required_coverage_low"],
        required_coverage_high=m["required_coverage_high"],
        trend=trend,
        sample_size=m["deals"],
        thin=not sufficient,
        recommendation=verdict.recommendation,
        rules_fired=verdict.rules_fired,
        evidence=" ".join(s for s in [lead, *verdict.reasons] if s),
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
