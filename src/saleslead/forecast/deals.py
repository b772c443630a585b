"""The deals behind a number: every figure on a page opens the list it was summed from.

A number on the grid or a chart is a measure (closed-won, commit, best case, pipeline, open, past due)
over a slice (a team — a manager and everyone under them —, an owner, a segment, a stage, a CRM category)
at an as-of date and for a period. :func:`list_deals` answers that slice from the store, in the engine,
as of the end of ``as_of`` (nothing later is seen), with people named and deal names shown.

The measures mean what the forecast means by them: *closed-won* is won with a close date inside the
period; *commit*, *best case*, *pipeline* and *omitted* are open deals closing inside the period in that
CRM category; *open* is every open deal; *past due* is every open deal whose close date is before the
as-of date.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field

from saleslead.csvsafe import csv_text
from saleslead.forecast.rollup import category_field
from saleslead.forecast.schemas import MEASURES, SORTS, Measure, Sort
from saleslead.funnel.state import state_as_of
from saleslead.names import Directory
from saleslead.periods import Period
from saleslead.store import Store

__all__ = [
    "DEAL_COLUMNS",
    "MEASURES",
    "SORTS",
    "DealRow",
    "DealsRequest",
    "DealsResult",
    "Measure",
    "Sort",
    "deals_csv",
    "list_deals",
]

_FIELD = {"commit": "commit", "best-case": "best_case", "pipeline": "pipeline", "omitted": "omitted"}


class DealsRequest(BaseModel):
    """A slice of deals: a measure, optional filters (names or ids), and how many to list in what order."""

    model_config = ConfigDict(frozen=True)

    measure: Measure = "open"
    period: str | None = None  # for closed-won and the categories (default: the quarter of as_of)
    as_of: date | None = None  # default: the end of the store's last snapshot
    team: str | None = None  # a manager (name or id): everyone under them
    owner: str | None = None  # name or id
    segment: str | None = None
    stage: str | None = None
    category: str | None = None  # a CRM forecast category as in the data (Commit, Best Case, …)
    sort: Sort = "amount"
    limit: int = Field(100, ge=0, le=100_000)  # 0: every deal


class DealRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    opportunity_id: str
    name: str | None
    owner_id: str
    owner_name: str
    segment: str
    stage: str
    amount: float
    close_date: date | None
    forecast_category: str | None
    days_in_stage: int | None
    pushes: int | None
    last_activity_date: date | None
    past_due_days: int | None  # open deals whose close date has passed: days since it


class DealsResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    period: str
    measure: Measure
    filters: dict[str, str]  # as given, with the person's name for team/owner
    described: str  # the slice in words
    count: int  # deals in the slice
    amount: float  # their total
    deals: list[DealRow]  # the first ``limit`` in the order asked


def _in_period(t: ir.Table, period: Period) -> ir.BooleanValue:
    return (t.close_date >= ibis.literal(period.start)) & (t.close_date < ibis.literal(period.end))


def _measure(t: ir.Table, measure: str, period: Period, as_of: date, categories: list[str]) -> ir.Table:
    if measure == "closed-won":
        return t.filter(t.is_won & _in_period(t, period))
    open_ = t.filter(~t.is_closed)
    if measure == "open":
        return open_
    if measure == "past-due":
        return open_.filter(open_.close_date < ibis.literal(as_of))
    inside = open_.filter(_in_period(open_, period))
    if measure == "in-period":
        return inside
    wanted = [c for c in categories if category_field(c) == _FIELD[measure]]
    return inside.filter(inside.forecast_category.isin(wanted)) if wanted else inside.limit(0)


def _sorted(t: ir.Table, sort: str) -> ir.Table:
    keys = {
        "amount": [ibis.desc(t.amount)],
        "close_date": [t.close_date],
        "days_in_stage": [ibis.desc(t.days_in_stage)],
        "pushes": [ibis.desc(t.pushes)],
        "name": [t.name],
        "owner": [t.owner_id],
        "stage": [t.stage_order, ibis.desc(t.amount)],
    }[sort]
    return t.order_by([*keys, t.opportunity_id])


def list_deals(store: Store, request: DealsRequest, as_of: date, period: Period, people: Directory) -> DealsResult:
    """The deals of one slice as of the end of ``as_of`` (names for ids; filters accept names)."""
    t = state_as_of(store, as_of)
    found = t.select("forecast_category").distinct().to_pyarrow().column(0).to_pylist()
    categories = [str(c) for c in found if c]
    t = _measure(t, request.measure, period, as_of, categories)
    filters: dict[str, str] = {}
    words = [request.measure.replace("-", " ")]
    if request.team:
        boss = people.resolve(request.team, "team")
        t = t.filter(t.owner_id.isin(sorted(people.team(boss))))
        filters["team"] = people.name(boss)
        words.append(f"in {people.name(boss)}'s team")
    if request.owner:
        who = people.resolve(request.owner, "owner")
        t = t.filter(t.owner_id == who)
        filters["owner"] = people.name(who)
        words.append(f"owned by {people.name(who)}")
    for key in ("segment", "stage", "category"):
        value = getattr(request, key)
        if value:
            column = t.forecast_category if key == "category" else t[key]
            t = t.filter(column == value)
            filters[key] = value
            words.append(f"{key} {value}")
    totals = t.aggregate(count=t.count(), amount=t.amount.sum()).to_pyarrow().to_pylist()[0]
    shown = _sorted(t, request.sort)
    if request.limit:
        shown = shown.limit(request.limit)
    rows = shown.select(
        "opportunity_id", "name", "owner_id", "segment", "stage", "amount", "close_date", "forecast_category",
        "days_in_stage", "pushes", "last_activity_date", "is_closed",
    ).to_pyarrow().to_pylist()  # fmt: skip
    deals = [
        DealRow(
            opportunity_id=str(r["opportunity_id"]),
            name=r["name"],
            owner_id=str(r["owner_id"] or ""),
            owner_name=people.name(r["owner_id"]),
            segment=str(r["segment"]),
            stage=str(r["stage"]),
            amount=float(r["amount"] or 0.0),
            close_date=r["close_date"],
            forecast_category=r["forecast_category"],
            days_in_stage=None if r["days_in_stage"] is None else int(r["days_in_stage"]),
            pushes=None if r["pushes"] is None else int(r["pushes"]),
            last_activity_date=r["last_activity_date"],
            past_due_days=(as_of - r["close_date"]).days
            if not r["is_closed"] and r["close_date"] is not None and r["close_date"] < as_of
            else None,
        )
        for r in rows
    ]
    where = "" if request.measure in ("open", "past-due") else f" closing in {period.name}"
    return DealsResult(
        as_of=as_of,
        period=period.name,
        measure=request.measure,
        filters=filters,
        described=" ".join(words) + where + f", as of {as_of}",
        count=int(totals["count"] or 0),
        amount=round(float(totals["amount"] or 0.0), 2),
        deals=deals,
    )


DEAL_COLUMNS = (
    "opportunity_id", "name", "owner_name", "owner_id", "segment", "stage", "amount", "close_date",
    "forecast_category", "days_in_stage", "pushes", "last_activity_date", "past_due_days",
)  # fmt: skip


def deals_csv(result: DealsResult) -> str:
    return csv_text(DEAL_COLUMNS, [[getattr(d, c) for c in DEAL_COLUMNS] for d in result.deals])
