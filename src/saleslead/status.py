"""What the store holds, and the open pipeline as of a date: the ``status`` report."""

from __future__ import annotations

from datetime import date, datetime

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict

from saleslead.funnel.state import state_as_of
from saleslead.periods import Period
from saleslead.store import Store

__all__ = ["PipelineSlice", "StageRow", "StatusReport", "compute_status"]


class StageRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    order: int
    is_closed: bool
    is_won: bool
    probability: float | None


class PipelineSlice(BaseModel):
    """Open deals in one slice (a segment, a stage): how many and how much."""

    model_config = ConfigDict(frozen=True)

    name: str
    count: int
    amount: float


class ClosedWon(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str
    count: int
    amount: float


class StatusReport(BaseModel):
    """The ``saleslead status`` report (its JSON form is documented in docs/data-contract.md, section 8)."""

    model_config = ConfigDict(frozen=True)

    store: str
    engine: str
    schema_version: int
    as_of: date
    opportunities: int
    history_rows: int
    users: int
    accounts: int
    ingests: int
    first_event: datetime | None
    last_event: datetime | None
    last_snapshot: datetime | None
    stages: list[StageRow]
    open_count: int
    open_amount: float
    open_by_segment: list[PipelineSlice]
    open_by_stage: list[PipelineSlice]
    closed_won_quarter_to_date: ClosedWon


def _slices(open_deals: ir.Table, column: str, order: ir.Value | None = None) -> list[PipelineSlice]:
    grouped = open_deals.group_by(column).aggregate(
        count=open_deals.count(), amount=open_deals.amount.sum(), rank=open_deals.stage_order.min()
    )
    rows = grouped.order_by([grouped.rank, grouped[column]] if order is None else order).to_pyarrow().to_pylist()
    return [PipelineSlice(name=str(r[column]), count=int(r["count"]), amount=float(r["amount"] or 0)) for r in rows]


def compute_status(store: Store, as_of: date, fiscal_start_month: int = 1) -> StatusReport:
    """Counts, date range and stages of the store; open pipeline and quarter-to-date bookings as of ``as_of``."""
    history = store.table("history")
    span = history.aggregate(first=history.changed_at.min(), last=history.changed_at.max()).to_pyarrow().to_pylist()[0]
    ingests = store.table("ingests")
    stages = store.table("stages").order_by("stage_order").to_pyarrow().to_pylist()
    state = state_as_of(store, as_of)
    open_deals = state.filter(~state.is_closed)
    totals = open_deals.aggregate(count=open_deals.count(), amount=open_deals.amount.sum()).to_pyarrow().to_pylist()[0]
    quarter = Period.quarter_of(as_of, fiscal_start_month)
    won = state.filter(
        state.is_won & (state.close_date >= ibis.literal(quarter.start)) & (state.close_date <= ibis.literal(as_of))
    )
    won_totals = won.aggregate(count=won.count(), amount=won.amount.sum()).to_pyarrow().to_pylist()[0]
    by_segment = open_deals.group_by("segment").aggregate(
        count=open_deals.count(), amount=open_deals.amount.sum(), stage_order=open_deals.stage_order.min()
    )
    return StatusReport(
        store=store.location,
        engine=store.engine,
        schema_version=store.schema_version(),
        as_of=as_of,
        opportunities=store.count("opportunities"),
        history_rows=store.count("history"),
        users=store.count("users"),
        accounts=store.count("accounts"),
        ingests=int(ingests.count().execute()),
        first_event=span["first"],
        last_event=span["last"],
        last_snapshot=ingests.snapshot_at.max().execute() if store.count("ingests") else None,
        stages=[
            StageRow(
                name=s["name"],
                order=int(s["stage_order"]),
                is_closed=bool(s["is_closed"]),
                is_won=bool(s["is_won"]),
                probability=s["probability"],
            )
            for s in stages
        ],
        open_count=int(totals["count"]),
        open_amount=float(totals["amount"] or 0.0),
        open_by_segment=[
            PipelineSlice(name=str(r["segment"]), count=int(r["count"]), amount=float(r["amount"] or 0))
            for r in by_segment.order_by(ibis.desc("amount")).to_pyarrow().to_pylist()
        ],
        open_by_stage=_slices(open_deals, "stage"),
        closed_won_quarter_to_date=ClosedWon(
            period=quarter.name, count=int(won_totals["count"]), amount=float(won_totals["amount"] or 0.0)
        ),
    )
