"""Holding to the strategy: pipeline created, and effort spent, where the strategy says not to compete.

As of a date, under the strategy in force then (the latest version decided on or before it):

* **pipeline** — every opportunity still open at the end of ``as_of``, created after the strategy was
  decided, in a do-not-compete cell: one flag per opportunity;
* **effort** — activities logged after the decision and up to ``as_of`` on opportunities of a
  do-not-compete cell (new or old deals alike): one flag per cell.

Flags are remembered as records of kind ``strategy-flag``, one per strategy version and cell (key
``v{version}/{cell}``: the flagged deals with their first date, and the effort): a flag raised before
is reported again but not as new, and keeps its first date; when a cell's flags change, a new version
of its record is written.
"""

from __future__ import annotations

import functools
import operator
from datetime import date
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field

from saleslead.format import amount
from saleslead.store import Store
from saleslead.store.records import Records
from saleslead.strategy.decisions import CellDecision, applicable
from saleslead.strategy.scorecard import cell_key, deal_frame

__all__ = ["FLAG_KIND", "CheckRequest", "StrategyCheck", "StrategyFlag", "check"]

FLAG_KIND = "strategy.flag"


class CheckRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date | None = None
    remember: bool = Field(True, description="store the flags (records of kind strategy-flag)")


class StrategyFlag(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["pipeline", "effort"]
    key: str = Field(description="the flag's record key")
    cell: dict[str, str]
    cell_key: str
    opportunity_id: str | None = Field(description="the deal (pipeline flags)")
    owner_id: str | None
    amount: float = Field(description="open amount (pipeline) or open amount of the deals worked (effort)")
    created_on: date | None
    activities: int = Field(description="activities logged in the cell since the decision (effort)")
    opportunities: int = Field(description="deals those activities touched (effort); 1 for pipeline")
    first_flagged: date
    new: bool
    message: str


class StrategyCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: date
    strategy_version: int
    decided_on: date
    do_not_compete: list[str]
    flags: list[StrategyFlag]
    pipeline_flagged: float = Field(description="open amount created in do-not-compete cells since the decision")
    pipeline_deals: int
    activities_flagged: int
    new_flags: int


def _in_cells(t: ir.Table, cells: list[CellDecision], dims: list[str]) -> ir.BooleanValue:
    matches = [functools.reduce(operator.and_, [t[d] == c.cell[d] for d in dims]) for c in cells]
    return functools.reduce(operator.or_, matches)


def check(store: Store, records: Records, request: CheckRequest, as_of: date) -> StrategyCheck:
    """Flag pipeline and effort in do-not-compete cells since the strategy in force at ``as_of``."""
    strategy = applicable(records, as_of)
    dims, banned = strategy.dimensions, strategy.do_not_compete
    since = ibis.literal(strategy.decided_on)
    found: list[dict[str, Any]] = []
    if banned:
        t = deal_frame(store, as_of, dims)
        t = t.filter(_in_cells(t, banned, dims))
        created = t.filter(~t.is_closed & (t.created_on > since)).order_by("opportunity_id")
        for row in created.to_pyarrow().to_pylist():
            cell = {d: row[d] for d in dims}
            key = cell_key(cell, dims)
            found.append(
                {
                    "kind": "pipeline",
                    "key": f"v{strategy.version}/pipeline/{row['opportunity_id']}",
                    "cell": cell,
                    "cell_key": key,
                    "opportunity_id": row["opportunity_id"],
                    "owner_id": row["owner_id"],
                    "amount": float(row["amount"] or 0.0),
                    "created_on": row["created_on"],
                    "activities": 0,
                    "opportunities": 1,
                    "message": (
                        f"{row['opportunity_id']} (owner {row['owner_id']}) was created on {row['created_on']} in "
                        f"{key}, a cell the strategy of {strategy.decided_on} does not compete in; "
                        f"{amount(float(row['amount'] or 0.0))} is open."
                    ),
                }
            )
        acts = store.table("activities")
        acts = acts.filter((acts.activity_date > since) & (acts.activity_date <= ibis.literal(as_of)))
        worked = acts.join(t, "opportunity_id")
        per_deal = worked.group_by(["opportunity_id", *dims]).aggregate(
            activities=worked.count(),
            amount=ibis.ifelse(worked.is_closed, 0.0, worked.amount).max(),
        )
        effort = per_deal.group_by(dims).aggregate(
            activities=per_deal.activities.sum(),
            opportunities=per_deal.count(),
            amount=per_deal.amount.sum(),
        )
        for row in effort.order_by(dims).to_pyarrow().to_pylist():
            cell = {d: row[d] for d in dims}
            key = cell_key(cell, dims)
            found.append(
                {
                    "kind": "effort",
                    "key": f"v{strategy.version}/effort/{key}",
                    "cell": cell,
                    "cell_key": key,
                    "opportunity_id": None,
                    "owner_id": None,
                    "amount": float(row["amount"] or 0.0),
                    "created_on": None,
                    "activities": int(row["activities"]),
                    "opportunities": int(row["opportunities"]),
                    "message": (
                        f"{row['activities']} activities on {row['opportunities']} deals in {key} since "
                        f"{strategy.decided_on}, a cell the strategy does not compete in."
                    ),
                }
            )

    # Remembered per cell (one record per strategy version and cell), so a check writes a handful of records.
    previous = {r.key: r.payload for r in records.current(FLAG_KIND)}
    memory: dict[str, dict[str, Any]] = {}
    flags = []
    for f in found:
        record_key = f"v{strategy.version}/{f['cell_key']}"
        before = previous.get(record_key, {})
        remembered = memory.setdefault(
            record_key, {"cell": f["cell"], "pipeline": dict(before.get("pipeline", {})), "effort": None}
        )
        if f["kind"] == "pipeline":
            seen = before.get("pipeline", {}).get(f["opportunity_id"])
        else:
            seen = (before.get("effort") or {}).get("first_flagged")
        first = min(date.fromisoformat(seen), as_of) if seen else as_of
        if f["kind"] == "pipeline":
            remembered["pipeline"][f["opportunity_id"]] = first.isoformat()
        else:
            remembered["effort"] = {
                "first_flagged": first.isoformat(),
                **{k: f[k] for k in ("activities", "opportunities", "amount")},
            }
        flags.append(StrategyFlag(**f, first_flagged=first, new=seen is None))
    if request.remember:
        for record_key, remembered in memory.items():
            known = previous.get(record_key)
            if known is None or {k: v for k, v in known.items() if k != "as_of"} != remembered:
                payload = {**remembered, "as_of": as_of.isoformat()}
                records.put(FLAG_KIND, record_key, payload, author="strategy-check")
    pipeline = [f for f in flags if f.kind == "pipeline"]
    return StrategyCheck(
        as_of=as_of,
        strategy_version=strategy.version,
        decided_on=strategy.decided_on,
        do_not_compete=[c.key for c in banned],
        flags=flags,
        pipeline_flagged=sum(f.amount for f in pipeline),
        pipeline_deals=len(pipeline),
        activities_flagged=sum(f.activities for f in flags if f.kind == "effort"),
        new_flags=sum(1 for f in flags if f.new),
    )
