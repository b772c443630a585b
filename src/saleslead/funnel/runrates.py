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

One range join of the history spans against all snapshots does it, in the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict

from saleslead.funnel.spans import check_by, current_deals, group_of, known_events, with_attributes
from saleslead.funnel.state import end_of
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
    now = current_deals(store, as_of) if span_table is None else span_table.filter(span_table.valid_to.isnull())
    dated = (now.close_date >= ibis.literal(period.start)) & (now.close_date < ibis.literal(period.end))
    now = now.filter(dated & ((now.is_won & (now.close_date <= ibis.literal(as_of))) | ~now.is_closed))
    if span_table is None and keys:
        now = with_attributes(store, now)
    won = now.is_won & (now.close_date <= ibis.literal(as_of))
    open_ = ~now.is_closed
    metrics = {
        "closed_won": now.amount.sum(where=won),
        "closed_won_deals": won.cast("int64").sum(),
        "open_pipeline": now.amount.sum(where=open_),
        "open_deals": open_.cast("int64").sum(),
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
    if not candidates:
        return []
    # From a span table the grouping columns are on every row; from the stored events they are joined
    # to the few rows that survive the filters (the event's owner and first evidence are carried for that).
    s = span_table if span_table is not None else known_events(store, as_of)
    carry = list(keys) if span_table is not None else ["first_seen", "owner_id"]

    def attach(t: ir.Table) -> ir.Table:
        return with_attributes(store, t) if span_table is None and keys else t

    snaps = ibis.memtable(
        {
            "period": [q.name for q in candidates],
            "q_start": [q.start for q in candidates],
            "q_end": [q.end for q in candidates],
            "snapshot": [snapshot_of(period, as_of, q) for q in candidates],
            "snap_end": [end_of(snapshot_of(period, as_of, q)) for q in candidates],
        }
    )
    cuts = [end_of(snapshot_of(period, as_of, q)) for q in candidates]
    near = s.filter(
        (s.changed_at < ibis.literal(max(cuts))) & (s.valid_to.isnull() | (s.valid_to >= ibis.literal(min(cuts))))
    )
    at = near.join(
        snaps, (near.changed_at < snaps.snap_end) & (near.valid_to.isnull() | (near.valid_to >= snaps.snap_end))
    )
    at = at.select(
        "opportunity_id",
        "period",
        "q_start",
        "q_end",
        "snapshot",
        *carry,
        then_closed=at.is_closed,
        then_won=at.is_won,
        then_close=at.close_date,
        then_amount=at.amount,
    )
    final = s.filter(s.valid_to.isnull())
    final = final.select(
        "opportunity_id",
        *carry,
        won=final.is_won,
        won_close=final.close_date,
        won_amount=final.amount,
    )
    in_q = (at.then_close >= at.q_start) & (at.then_close < at.q_end)
    open_at = at.filter(~at.then_closed & in_q)
    fate = open_at.left_join(final.select("opportunity_id", "won", "won_close", "won_amount"), "opportunity_id")
    fate = attach(fate.select(*open_at.columns, "won", "won_close", "won_amount"))
    hit = fate.won.fill_null(False) & (fate.won_close >= fate.q_start) & (fate.won_close < fate.q_end)
    pipe = fate.group_by(["period", *keys]).aggregate(
        open_deals=fate.count(),
        open_value=fate.then_amount.sum(),
        open_value_sq=(fate.then_amount * fate.then_amount).sum(),
        won_from_open_deals=hit.cast("int64").sum(),
        won_from_open_value=fate.won_amount.sum(where=hit),
    )
    won = final.filter(final.won)
    won_q = won.join(snaps, (won.won_close >= snaps.q_start) & (won.won_close < snaps.q_end))
    won_q = won_q.select("opportunity_id", "period", "q_start", "q_end", "snap_end", "won_amount", *carry)
    # The state then of the deals won in each period only: one keyed join, not every deal at every snapshot.
    ev = near.select("opportunity_id", "changed_at", "valid_to", "is_closed", "is_won", "close_date")
    pairs = won_q.select("opportunity_id", "period", "snap_end")
    then = pairs.join(
        ev,
        [
            pairs.opportunity_id == ev.opportunity_id,
            ev.changed_at < pairs.snap_end,
            ev.valid_to.isnull() | (ev.valid_to >= pairs.snap_end),
        ],
    )
    then = then.select(
        "opportunity_id", "period", then_closed=then.is_closed, then_won=then.is_won, then_close=then.close_date
    )
    won_q = attach(won_q.drop("snap_end"))
    src = won_q.left_join(then, ["opportunity_id", "period"])
    missing = src.then_closed.isnull()
    before = src.then_won.fill_null(False)
    was_open = ~src.then_closed.fill_null(True)
    dated = (src.then_close >= src.q_start) & (src.then_close < src.q_end)
    v = src.won_amount
    books = src.group_by(["period", *keys]).aggregate(
        booked_total=v.sum(),
        booked_before=v.sum(where=before),
        after_sq=(v * v).sum(where=~before),
        from_open=v.sum(where=was_open & dated),
        created_after=v.sum(where=missing),
        pulled_in=v.sum(where=was_open & ~dated.fill_null(False)),
        other=v.sum(where=~missing & src.then_closed.fill_null(False) & ~before),
    )
    rows = {(r["period"], tuple(str(r[k]) for k in keys)): r for r in pipe.to_pyarrow().to_pylist()}
    book_rows = {(r["period"], tuple(str(r[k]) for k in keys)): r for r in books.to_pyarrow().to_pylist()}
    with_pipeline = {p for p, _ in rows if float(rows[(p, _)]["open_value"] or 0.0) > 0}
    chosen = [q for q in candidates if q.name in with_pipeline][:periods]
    out: list[SamePoint] = []
    for q in reversed(chosen):
        groups = sorted({g for p, g in (*rows, *book_rows) if p == q.name})
        for g in groups:
            r = rows.get((q.name, g), {})
            b = book_rows.get((q.name, g), {})
            total, before_v = _f(b.get("booked_total")), _f(b.get("booked_before"))
            out.append(
                SamePoint(
                    group=dict(zip(keys, g, strict=True)),
                    period=q.name,
                    snapshot=snapshot_of(period, as_of, q),
                    open_deals=int(r.get("open_deals") or 0),
                    open_value=_f(r.get("open_value")),
                    open_value_sq=_f(r.get("open_value_sq")),
                    won_from_open_deals=int(r.get("won_from_open_deals") or 0),
                    won_from_open_value=_f(r.get("won_from_open_value")),
                    booked_before=before_v,
                    bookings_after=total - before_v,
                    bookings_after_sq=_f(b.get("after_sq")),
                    from_open=_f(b.get("from_open")),
                    created_after=_f(b.get("created_after")),
                    pulled_in=_f(b.get("pulled_in")),
                    other=_f(b.get("other")),
                )
            )
    return out


def _f(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def weeks_left(period: Period, as_of: date) -> float:
    """Whole and part weeks from the end of ``as_of`` to the end of the period (0 once it is over)."""
    return max((period.end - (as_of + timedelta(days=1))).days, 0) / 7.0
