"""The forecast grid: the weekly call meeting on one page — every node of the hierarchy in one row.

Per node (the company, each manager, each rep): quota for the period, closed-won, the CRM categories
(commit, best case, pipeline), the seat's P50 with its P10–P90, the call its owner submitted (and who),
the manager's override with its reason, the honesty guard's verdict on the number the node stands on
(the override if there is one, else the call), the gap from the P50 to quota, and what moved since the
same day a week before (closed-won, commit, best case, pipeline, and the call).

Everything is as of the end of ``as_of``: calls are read by the date they were made for (``as_of`` of
the call), so a grid as of last week shows last week's calls. A call is the newest version a person made
for their own node; an *override* is a newer version made by someone else (a manager's adjustment, which
must carry a reason). Every version stays in the records (``saleslead call list --history``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from saleslead.csvsafe import csv_text
from saleslead.forecast.calibrate import won_in
from saleslead.forecast.calls import CALL
from saleslead.forecast.guard import TOTAL, node_scenarios, verdict
from saleslead.forecast.outlook import Outlook, forecast_result
from saleslead.forecast.panel import day_number
from saleslead.forecast.rollup import category_field
from saleslead.names import Directory
from saleslead.settings import Settings
from saleslead.store import Store
from saleslead.store.records import Record, Records

__all__ = [
    "GRID_COLUMNS",
    "BookingPoint",
    "GridChange",
    "GridRequest",
    "GridResult",
    "GridRow",
    "bookings_curves",
    "build_grid",
    "grid_csv",
    "node_quotas",
    "segment_quotas",
]

Floats = npt.NDArray[np.float64]
_FIELDS = ("closed_won", "commit", "best_case", "pipeline")


class GridRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str | None = None  # default: the quarter of as_of
    as_of: date | None = None  # default: the end of the store's last snapshot
    team: str | None = None  # a manager (name or id): only their subtree
    scenarios: int | None = Field(None, ge=100)


class GridChange(BaseModel):
    """What moved between the end of ``since`` and the end of ``as_of`` (positive: up)."""

    model_config = ConfigDict(frozen=True)

    closed_won: float
    commit: float
    best_case: float
    pipeline: float
    call: float | None  # the number the node stands on now, less the one it stood on then (None: none then)


class GridRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    node: str  # a user id, or "total"
    name: str
    title: str
    level: int
    parent_id: str | None
    quota: float | None  # Σ quotas starting in the period of the node's people (None: none in the store)
    closed_won: float
    attainment: float | None  # closed-won ÷ quota
    commit: float
    best_case: float
    pipeline: float
    open_deals: int
    p10: float
    p50: float
    p90: float
    call: float | None
    call_author: str | None
    call_category: str | None
    call_version: int | None
    override: float | None
    override_author: str | None
    override_reason: str | None
    stands_on: float | None  # the override if there is one, else the call
    verdict: str | None  # the honesty guard's verdict on ``stands_on`` against this forecast
    p_at_least: float | None  # P(outcome ≥ stands_on)
    gap_to_quota: float | None  # quota − P50 (positive: the number falls short of quota)
    change: GridChange


class BookingPoint(BaseModel):
    """Closed-won booked from the period's first day up to and including ``day`` (days since the start)."""

    model_config = ConfigDict(frozen=True)

    day: int
    amount: float


class GridResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str
    as_of: date
    since: date
    scenarios: int
    rows: list[GridRow]  # the company first, then each manager before their team
    note: str
    segment_quota: dict[str, float] = {}  # Σ quota starting in the period by the owner's segment
    bookings: list[BookingPoint] = []  # this period, day by day up to as_of
    last_period: str | None = None
    last_bookings: list[BookingPoint] = []  # the period before, over its whole length (known at as_of)


def node_quotas(
    store: Store, period_start: date, period_end: date, people: Directory, nodes: list[str]
) -> dict[str, float]:
    """Σ quota starting inside the period of each node's people (the node and everyone under it)."""
    q = store.table("quotas")
    rows = (
        q.filter((q.start_date >= period_start) & (q.start_date < period_end))
        .group_by("owner_id")
        .aggregate(amount=q.amount.sum())
        .to_pyarrow()
        .to_pylist()
    )
    per_owner = {str(r["owner_id"]): float(r["amount"] or 0.0) for r in rows}
    out: dict[str, float] = {}
    if not per_owner:
        return out
    out[TOTAL] = sum(per_owner.values())
    for node in nodes:
        team = people.team(node)
        total = sum(v for k, v in per_owner.items() if k in team)
        if total > 0:
            out[node] = total
    return out


def segment_quotas(store: Store, period_start: date, period_end: date) -> dict[str, float]:
    """Σ quota starting inside the period by the owner's segment (``users.segment``; Unassigned when none)."""
    q = store.table("quotas")
    users = store.table("users").select("user_id", "segment")
    q = q.filter((q.start_date >= period_start) & (q.start_date < period_end))
    q = q.left_join(users, q.owner_id == users.user_id)
    q = q.mutate(segment=q.segment.fill_null("Unassigned"))
    rows = q.group_by("segment").aggregate(amount=q.amount.sum()).to_pyarrow().to_pylist()
    return {str(r["segment"]): round(float(r["amount"] or 0.0), 2) for r in rows if (r["amount"] or 0.0) > 0}


def _categories_at(o: Outlook, day: int) -> tuple[Floats, Floats]:
    """(nodes × (closed-won, commit, best case, pipeline), total row) as the book stood at the end of ``day``."""
    st = o.book.states_at(day)
    local = {name: i for i, name in enumerate(o.owners)}
    owner_local = np.asarray([local.get(o.book.owners[int(x)], -1) for x in st.owner], dtype=np.int64)
    per_owner = np.zeros((len(o.owners), len(_FIELDS)))
    total = np.zeros(len(_FIELDS))
    start, end = day_number(o.period.start), day_number(o.period.end)
    won = won_in(st, o.period)
    inside = ~st.is_closed & (st.close_day >= start) & (st.close_day < end)
    field_of = np.asarray(
        [_FIELDS.index(f) if (f := category_field(c)) in _FIELDS else -1 for c in o.book.categories], dtype=np.int64
    )
    column = np.where(won, 0, np.where(inside, field_of[st.forecast_category], -1))
    keep = column >= 0
    np.add.at(total, column[keep], st.amount[keep])
    keep &= owner_local >= 0
    np.add.at(per_owner, (owner_local[keep], column[keep]), st.amount[keep])
    return np.asarray(o.hierarchy.rollup.T @ per_owner), total


def bookings_curves(o: Outlook) -> tuple[list[BookingPoint], list[BookingPoint]]:
    """Cumulative closed-won by day of this period up to ``as_of``, and of the period before over its length."""
    d = day_number(o.as_of)
    st = o.book.states_at(d)
    out = []
    for period, last in ((o.period, d), (o.period.shift(-1), day_number(o.period.start) - 1)):
        start = day_number(period.start)
        won = won_in(st, period)
        days = np.clip(st.close_day[won] - start, 0, None)
        span = max(last - start + 1, 0)
        per_day = np.bincount(days[days < span], weights=st.amount[won][days < span], minlength=span)
        total = np.cumsum(per_day)
        out.append([BookingPoint(day=i, amount=round(float(v), 2)) for i, v in enumerate(total)])
    return out[0], out[1]


def _versions(records: Records, period: str, as_of: date) -> dict[str, list[Record]]:
    """Every call version per node for the period, made for a date up to ``as_of``, oldest first."""
    out: dict[str, list[Record]] = {}
    for current in records.current(CALL):
        if current.payload.get("period") != period:
            continue
        made = [r for r in records.history(CALL, current.key) if date.fromisoformat(str(r.payload["as_of"])) <= as_of]
        if made:
            out[str(current.payload["node"])] = made
    return out


def _standing(versions: list[Record], on: date) -> tuple[Record | None, Record | None]:
    """(the call, the override) standing at the end of ``on``: the newest own version, and a newer other's."""
    seen = [r for r in versions if date.fromisoformat(str(r.payload["as_of"])) <= on]
    if not seen:
        return None, None
    last = seen[-1]
    own = [r for r in seen if not r.payload.get("adjustment")]
    base = own[-1] if own else seen[0]
    if last.author == base.author:
        return last, None
    return base, last


def build_grid(o: Outlook, settings: Settings, store: Store, records: Records, people: Directory) -> GridResult:
    """The grid as of ``o.as_of`` for ``o.period`` (see the module)."""
    result = forecast_result(o, settings, None, False)
    d = day_number(o.as_of)
    since = o.as_of - timedelta(days=7)
    then_nodes, then_total = _categories_at(o, day_number(since))
    now_nodes, now_total = _categories_at(o, d)
    quotas = node_quotas(store, o.period.start, o.period.end, people, [n.id for n in result.nodes])
    versions = _versions(records, o.period.name, o.as_of)
    index = {node_id: i for i, node_id in enumerate(o.hierarchy.ids)}
    roots = [i for i, p in enumerate(o.hierarchy.parent) if p < 0]
    t = result.total
    top = [n for n in result.nodes if n.level == 0]
    company = {
        "node": TOTAL, "name": "total (the company)", "title": "", "level": 0, "parent_id": None,
        "quota": quotas.get(TOTAL), "closed_won": t.closed_won, "open_deals": sum(n.open_deals for n in top),
        "p10": t.p10, "p50": t.p50, "p90": t.p90,
        **{f: float(sum(getattr(n, f) for n in top)) for f in ("commit", "best_case", "pipeline")},
    }  # fmt: skip
    rows = [_row(o, settings, company, versions.get(TOTAL, []), since, now_total - then_total)]
    for n in result.nodes:
        i = index[n.id]
        base = n.model_dump(include={"name", "title", "closed_won", "commit", "best_case", "pipeline", "open_deals",
                                     "p10", "p50", "p90"})  # fmt: skip
        base.update(node=n.id, level=n.level + 1, parent_id=n.parent_id or TOTAL, quota=quotas.get(n.id))
        rows.append(_row(o, settings, base, versions.get(n.id, []), since, now_nodes[i] - then_nodes[i]))
    calls = sum(1 for r in rows if r.stands_on is not None)
    this, last = bookings_curves(o)
    return GridResult(
        segment_quota=segment_quotas(store, o.period.start, o.period.end),
        bookings=this,
        last_period=o.period.shift(-1).name,
        last_bookings=last,
        period=o.period.name,
        as_of=o.as_of,
        since=since,
        scenarios=o.sim.scenarios,
        rows=rows,
        note=(
            f"{len(rows)} nodes ({len(roots)} at the top), {calls} with a call; P50 and range from "
            f"{o.sim.scenarios:,} scenarios; verdicts by the honesty guard against this forecast; change since "
            f"the end of {since} (closed-won and CRM categories replayed from history; the P50 is not re-run)"
        ),
    )


def _row(
    o: Outlook, settings: Settings, base: dict[str, Any], versions: list[Record], since: date, delta: Floats
) -> GridRow:
    call, override = _standing(versions, o.as_of)
    then_call, then_override = _standing(versions, since)
    stands = override or call
    stood = then_override or then_call
    amount = float(stands.payload["amount"]) if stands else None
    p = v = None
    if amount is not None:
        scenarios, _, _ = node_scenarios(o, str(base["node"]))
        p = round(float(np.mean(scenarios >= amount)), 4) if len(scenarios) else 0.0
        below = bool(len(scenarios)) and amount < float(np.quantile(scenarios.astype(np.float64), 0.1))
        v = verdict(p, settings.guard, below)
    quota = base.pop("quota")
    return GridRow(
        **base,
        quota=round(quota, 2) if quota else None,
        attainment=round(base["closed_won"] / quota, 4) if quota else None,
        call=float(call.payload["amount"]) if call else None,
        call_author=call.author if call else None,
        call_category=str(call.payload.get("category")) if call else None,
        call_version=call.version if call else None,
        override=float(override.payload["amount"]) if override else None,
        override_author=override.author if override else None,
        override_reason=override.payload.get("reason") if override else None,
        stands_on=amount,
        verdict=v,
        p_at_least=p,
        gap_to_quota=round(quota - base["p50"], 2) if quota else None,
        change=GridChange(
            closed_won=round(float(delta[0]), 2),
            commit=round(float(delta[1]), 2),
            best_case=round(float(delta[2]), 2),
            pipeline=round(float(delta[3]), 2),
            call=round(amount - float(stood.payload["amount"]), 2) if amount is not None and stood else None,
        ),
    )


GRID_COLUMNS = (
    "node", "level", "name", "title", "quota", "closed_won", "attainment", "commit", "best_case", "pipeline",
    "open_deals", "p10", "p50", "p90", "call", "call_author", "override", "override_author", "override_reason",
    "stands_on", "verdict", "p_at_least", "gap_to_quota", "change_closed_won", "change_commit", "change_best_case",
    "change_pipeline", "change_call",
)  # fmt: skip


def grid_csv(grid: GridResult) -> str:
    """The grid as CSV, one row per node (every field; the week's changes as change_* columns)."""
    rows = []
    for r in grid.rows:
        body = r.model_dump()
        change = body.pop("change")
        body.update({f"change_{k}": v for k, v in change.items()})
        rows.append([body[c] for c in GRID_COLUMNS])
    return csv_text(GRID_COLUMNS, rows)
