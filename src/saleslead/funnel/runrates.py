"""Bookings and pipeline of a period as of a date, and what pipeline at the same point of earlier periods became.

*Now* (:func:`period_position`): closed-won so far (won deals dated in the period, close date on or
before ``as_of``) and the open pipeline dated in the period (open deals whose close date falls in it).

*Same point of earlier periods* (:func:`same_point_yield`): for each earlier period Q of the same length
that had ended by ``as_of``, the snapshot is the same day offset into Q as ``as_of`` is into the period.
At the end of that snapshot day:

* ``open_value`` — open pipeline dated in Q (amounts then);
* ``won_from_open_value`` — what of those same deals was won dated in Q (amounts when won);
* ``booked_before`` — bookings of Q already won at the snapshot; ``bookings_after`` — the rest of Q's
  bookings, split by where they came from: ``from_open`` (the dated pipeline), ``created_after`` (deals
  that did not exist at the snapshot), ``pulled_in`` (open then but dated outside Q) and ``other``
  (closed lost then, reopened).

One engine query does it: the open states holding at each snapshot (a range join of the stored events
with the few snapshots), the deals won dated in each period (their state at the end), one keyed range
join for what each of those was at its snapshot, and one outer join of the two sides per (deal, period).
The most recent ``periods`` earlier periods are measured first; older ones only when one of those had
no pipeline at its snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict

from saleslead.funnel.spans import Ladder, attach, check_by, group_of, holding
from saleslead.funnel.state import end_of, stored
from saleslead.periods import Period
from saleslead.store import Store

__all__ = ["PeriodPosition", "SamePoint", "period_position", "same_point_yield", "snapshot_of"]


class PeriodPosition(BaseModel):
    """Where a group stands in a period as of a date."""

    model_config = ConfigDict(frozen=True)

    group: dict[str, str]
    closed_won: float
    closed_won_deals: int
    open_pipeline: float
    open_deals: int


class SamePoint(BaseModel):
    """One earlier period seen from the same point: its pipeline then, and what became of it."""

    model_config = ConfigDict(frozen=True)

    group: dict[str, str]
    period: str
    snapshot: date
    open_deals: int
    open_value: float
    open_value_sq: float
    won_from_open_deals: int
    won_from_open_value: float
    booked_before: float
    bookings_after: float
    bookings_after_sq: float
    from_open: float
    created_after: float
    pulled_in: float
    other: float


def snapshot_of(period: Period, as_of: date, earlier: Period) -> date:
    """The day of ``earlier`` at the same offset as ``as_of`` is into ``period`` (clipped to ``earlier``)."""
    day = earlier.start + (as_of - period.start)
    return min(day, earlier.last_day)


def period_position(
    store: Store, period: Period, as_of: date, by: Sequence[str] = (), *, span_table: ir.Table | None = None
) -> list[PeriodPosition]:
    """Closed-won so far and open pipeline dated in ``period``, per group, as of ``as_of``."""
    keys = check_by(by)
    start, end, day = ibis.literal(period.start), ibis.literal(period.end), ibis.literal(as_of)
    if span_table is None:
        h = holding(store, as_of)
        ladder = Ladder.read(store)
        h = h.filter(
            h.close_date >= start,
            h.close_date < end,
            (ladder.where_won(h.stage) & (h.close_date <= day)) | ladder.where_open(h.stage),
        )
        now = attach(store, ladder.states(h, "opportunity_id", "close_date", "owner_id"), keys)
    else:
        now = span_table.filter(span_table.valid_to.isnull())
        dated = (now.close_date >= start) & (now.close_date < end)
        now = now.filter(dated & ((now.is_won & (now.close_date <= day)) | ~now.is_closed))
    won = now.is_won & (now.close_date <= ibis.literal(as_of))
    open_ = ~now.is_closed
    metrics = {
        "closed_won": now.amount.sum(where=won),
        "closed_won_deals": now.count(where=won),
        "open_pipeline": now.amount.sum(where=open_),
        "open_deals": now.count(where=open_),
    }
    agg = now.group_by(list(keys)).aggregate(**metrics) if keys else now.aggregate(**metrics)
    rows = agg.to_pyarrow().to_pylist()
    return sorted(
        (
            PeriodPosition(
                group=group_of(r, keys),
                closed_won=float(r["closed_won"] or 0.0),
                closed_won_deals=int(r["closed_won_deals"] or 0),
                open_pipeline=float(r["open_pipeline"] or 0.0),
                open_deals=int(r["open_deals"] or 0),
            )
            for r in rows
        ),
        key=lambda p: tuple(p.group.values()),
    )


def same_point_yield(
    store: Store,
    period: Period,
    as_of: date,
    by: Sequence[str] = (),
    *,
    periods: int = 4,
    span_table: ir.Table | None = None,
) -> list[SamePoint]:
    """What pipeline open at the same point of the last ``periods`` finished earlier periods became.

    Only periods that had ended by ``as_of`` and had open pipeline at their snapshot count; the most
    recent ``periods`` of them are returned (all groups), oldest first.
    """
    keys = check_by(by)
    candidates = [period.shift(-i) for i in range(1, periods + 3)]
    candidates = [q for q in candidates if q.last_day <= as_of]
    if not candidates or periods < 1:
        return []
    # The most recent ``periods`` first; the older candidates only when some of those had no pipeline then
    # (each period's figures are its own, whichever others are measured with it).
    found = _same_point_sums(_fates(store, period, as_of, candidates[:periods], keys, span_table), keys)
    with_pipeline = {p for (p, _), r in found.items() if float(r["open_value"] or 0.0) > 0}
    if len(with_pipeline) < periods < len(candidates):
        found = _same_point_sums(_fates(store, period, as_of, candidates, keys, span_table), keys)
        with_pipeline = {p for (p, _), r in found.items() if float(r["open_value"] or 0.0) > 0}
    chosen = [q for q in candidates if q.name in with_pipeline][:periods]
    out: list[SamePoint] = []
    for q in reversed(chosen):
        for g in sorted(g for p, g in found if p == q.name):
            r = found[(q.name, g)]
            total, before_v = _f(r["booked_total"]), _f(r["booked_before"])
            out.append(
                SamePoint(
                    group=dict(zip(keys, g, strict=True)),
                    period=q.name,
                    snapshot=snapshot_of(period, as_of, q),
                    open_deals=int(r["open_deals"] or 0),
                    open_value=_f(r["open_value"]),
                    open_value_sq=_f(r["open_value_sq"]),
                    won_from_open_deals=int(r["won_from_open_deals"] or 0),
                    won_from_open_value=_f(r["won_from_open_value"]),
                    booked_before=before_v,
                    bookings_after=total - before_v,
                    bookings_after_sq=_f(r["after_sq"]),
                    from_open=_f(r["from_open"]),
                    created_after=_f(r["created_after"]),
                    pulled_in=_f(r["pulled_in"]),
                    other=_f(r["other"]),
                )
            )
    return out


def _same_point_sums(rows: ir.Table, keys: tuple[str, ...]) -> dict[tuple[str, tuple[str, ...]], dict[str, Any]]:
    """The engine's sums per (earlier period, group) of :func:`_fates` rows: pipeline then, what of it was won,
    the bookings by source."""
    pipe, book, v = rows.in_pipe, rows.booked, rows.won_amount
    agg = rows.group_by(["period", *keys]).aggregate(
        open_deals=rows.count(where=pipe),
        open_value=rows.then_amount.sum(where=pipe),
        open_value_sq=(rows.then_amount * rows.then_amount).sum(where=pipe),
        won_from_open_deals=rows.count(where=pipe & rows.hit),
        won_from_open_value=v.sum(where=pipe & rows.hit),
        booked_total=v.sum(where=book),
        booked_before=v.sum(where=book & rows.before),
        after_sq=(v * v).sum(where=book & ~rows.before),
        from_open=v.sum(where=book & rows.from_open),
        created_after=v.sum(where=book & rows.created_after),
        pulled_in=v.sum(where=book & rows.pulled_in),
        other=v.sum(where=book & rows.other),
    )
    return {(r["period"], tuple(str(r[k]) for k in keys)): r for r in agg.to_pyarrow().to_pylist()}


def _fates(
    store: Store,
    period: Period,
    as_of: date,
    candidates: list[Period],
    keys: tuple[str, ...],
    span_table: ir.Table | None,
) -> ir.Table:
    """One row per (deal, earlier period) that counts: its pipeline then (``in_pipe``), its booking, or both.

    A pipeline row is a deal open at the snapshot and dated in the period (``then_amount``), ``hit`` when it
    was finally won dated in the period (``won_amount``). A booking row is a deal won dated in the period,
    flagged by what it was at the snapshot: the deal's final event already held then (won before), or it
    did not exist yet, or the event holding then is found by one keyed join among the replaced events.
    """
    cut = ibis.literal(end_of(as_of))
    if span_table is None:
        # The stored events, ``valid_to`` as stored: a successor after as_of is after every snapshot and the
        # cut too. Stage tests are written so that the engine applies them in the scan.
        e = stored(store, "history")
        ladder = Ladder.read(store)
        is_won, is_open, is_closed = ladder.where_won(e.stage), ladder.where_open(e.stage), ladder.where_closed(e.stage)
        carry = ["owner_id"] if "owner_id" in keys else []

        def events(t: ir.Table) -> ir.Table:
            return ladder.states(t, "opportunity_id", "changed_at", "valid_to", "close_date", "owner_id")

    else:
        e, carry = span_table, list(keys)
        is_won, is_open, is_closed = e.is_won, ~e.is_closed, e.is_closed

        def events(t: ir.Table) -> ir.Table:
            return t

    snap_ends = [end_of(snapshot_of(period, as_of, q)) for q in candidates]
    snaps = ibis.memtable(
        {
            "period": [q.name for q in candidates],
            "q_start": [q.start for q in candidates],
            "q_end": [q.end for q in candidates],
            "snap_end": snap_ends,
        }
    )
    low, high = ibis.literal(min(snap_ends)), ibis.literal(max(snap_ends))
    first, last = ibis.literal(min(q.start for q in candidates)), ibis.literal(max(q.end for q in candidates))
    # Bookings: deals won dated in a period, as known at as_of.
    won = e.filter(
        e.changed_at < cut,
        e.valid_to.isnull() | (e.valid_to >= cut),
        is_won,
        e.close_date >= first,
        e.close_date < last,
    )
    won = events(won)
    won = won.join(snaps, [won.close_date >= snaps.q_start, won.close_date < snaps.q_end])
    # What a booking was at the snapshot: its final event holds from its own time on (``held``: won then); an
    # open state then is among the open states below; a closed one (won earlier, or lost, then reopened) is a
    # closed event replaced by as_of — few, found by a keyed range join.
    reopened = events(e.filter(e.changed_at < high, e.valid_to >= low, e.valid_to < cut, is_closed))
    books = won.left_join(
        reopened,
        [
            won.opportunity_id == reopened.opportunity_id,
            reopened.changed_at < won.snap_end,
            reopened.valid_to >= won.snap_end,
        ],
    )
    books = books.select(
        b_id=won.opportunity_id,
        b_period=won.period,
        **{f"b_{c}": won[c] for c in carry},
        won_amount=won.amount,
        held=won.changed_at < won.snap_end,
        closed_then=reopened.opportunity_id.notnull(),
        won_then=reopened.is_won.fill_null(False),
    )
    # The open states holding at each snapshot: the pipeline when dated in the period, else (for a booking of
    # the period) a deal pulled in.
    opened = events(e.filter(e.changed_at < high, e.valid_to.isnull() | (e.valid_to >= low), is_open))
    at = opened.join(
        snaps,
        [opened.changed_at < snaps.snap_end, opened.valid_to.isnull() | (opened.valid_to >= snaps.snap_end)],
    )
    at = at.select(
        "opportunity_id",
        "period",
        *carry,
        then_amount=at.amount,
        dated=((at.close_date >= at.q_start) & (at.close_date < at.q_end)).fill_null(False),
    )
    # One row per (deal, period) in the pipeline then, among the bookings, or both.
    both = at.outer_join(books, [at.opportunity_id == books.b_id, at.period == books.b_period])
    both = both.filter(both.dated.fill_null(False) | both.b_id.notnull())
    open_then, booked = both.opportunity_id.notnull(), both.b_id.notnull()
    in_pipe = open_then & both.dated.fill_null(False)
    held, closed_then = both.held.fill_null(False), both.closed_then.fill_null(False)
    before = held | (closed_then & both.won_then.fill_null(False))
    rows = both.select(
        opportunity_id=ibis.coalesce(both.opportunity_id, both.b_id),
        period=ibis.coalesce(both.period, both.b_period),
        # a deal's attributes are the same on both sides; its owner then and at the end may differ (see below)
        **{c: both[c] if c == "owner_id" else ibis.coalesce(both[c], both[f"b_{c}"]) for c in carry},
        **{f"b_{c}": both[f"b_{c}"] for c in carry if c == "owner_id"},
        in_pipe=in_pipe,
        booked=booked,
        hit=in_pipe & booked,
        then_amount=both.then_amount,
        won_amount=both.won_amount,
        before=before,
        from_open=in_pipe,
        created_after=~held & ~open_then & ~closed_then,
        pulled_in=open_then & ~in_pipe,
        other=closed_then & ~before,
    )
    if "owner_id" in carry:
        # The pipeline is the owner's then, the booking the owner's at the end: a deal in both counts once in each.
        roles = ibis.memtable({"as_pipe": [True, False]})
        split = rows.cross_join(roles)
        split = split.filter(ibis.ifelse(split.as_pipe, split.in_pipe, split.booked))
        rows = split.select(
            *[c for c in rows.columns if c not in ("in_pipe", "booked", "owner_id") and not c.startswith("b_")],
            owner_id=ibis.ifelse(split.as_pipe, split.owner_id, split.b_owner_id),
            in_pipe=split.as_pipe,
            booked=~split.as_pipe,
        )
    # (a view: the outer join's projection is a relation of its own before the deal attributes are joined)
    return attach(store, rows.view(), keys) if span_table is None else rows


def _f(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
