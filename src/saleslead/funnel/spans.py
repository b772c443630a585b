"""History as validity spans, and every deal's outcome as of a date: the base the funnel core reads.

:func:`spans` turns the history known at the end of ``as_of`` into one row per recorded state with the
instant it stopped being true (``valid_to``, null while it still holds). A deal's state at any earlier
instant ``t`` is the span with ``changed_at < t <= valid_to``; that one range join gives the pipeline
of many past snapshots in a single engine query. :func:`deals` is one row per deal: its state at the
end of ``as_of``, the furthest open stage it reached (by the learned ``stage_order``, never by name) and
the amount it was created with. Grouping columns are the deal's ``segment``, ``motion``, ``channel`` and
``owner_id``.

The measures themselves read the stored events directly: :class:`Ladder` writes the learned stage ladder
into the query as literals (filters without ``COALESCE`` so the engine applies them in the scan),
:func:`holding` is the state of every deal at a cut, and :func:`attach` joins only the deal attributes a
measure groups by, to the rows it keeps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from saleslead.errors import InputError
from saleslead.funnel.state import end_of, history_until, stored
from saleslead.store import Store

__all__ = [
    "DIMENSIONS",
    "Ladder",
    "attach",
    "check_by",
    "cohort_deals",
    "deal_attributes",
    "deals",
    "group_of",
    "holding",
    "known_events",
    "spans",
    "spans_until",
    "with_attributes",
]

#: The columns results may be grouped by (``team`` is the owner: an owner's deals are their team's).
DIMENSIONS = ("segment", "motion", "channel", "owner_id")


def check_by(by: Sequence[str]) -> tuple[str, ...]:
    """Validate grouping columns (``team`` is accepted for ``owner_id``)."""
    cleaned = tuple("owner_id" if b in ("team", "owner") else b for b in by)
    unknown = [b for b in cleaned if b not in DIMENSIONS]
    if unknown:
        raise InputError(f"cannot group by {', '.join(unknown)}", hint=f"one of {', '.join(DIMENSIONS)}")
    return cleaned


def group_of(row: Mapping[str, Any], by: Sequence[str]) -> dict[str, str]:
    """The group a result row belongs to, as ``{column: value}`` (empty: all deals)."""
    return {b: str(row[b]) for b in by}


def spans(store: Store, as_of: date) -> ir.Table:
    """Every recorded state known at the end of ``as_of``, with when it stopped holding.

    Columns: opportunity_id, seq, changed_at, valid_to (null: still holds), stage, prev_stage, stage_order, is_closed,
    is_won, amount, close_date, first_amount, first_seen, created_at, segment, motion, channel, owner_id.
    """
    h = history_until(store, as_of)
    # The store keeps each event's successor time and its deal's first event (see store.merge), so no
    # re-sorting is needed; a successor after ``as_of`` is not known yet and reads as "still holds".
    cut = ibis.literal(end_of(as_of))
    h = h.mutate(valid_to=ibis.ifelse(h.valid_to >= cut, ibis.null("timestamp"), h.valid_to))
    stages = stored(store, "stages")
    opps = stored(store, "opportunities")
    joined = h.left_join(stages, h.stage == stages.name).left_join(opps, "opportunity_id")
    created = ibis.least(ibis.coalesce(joined.created_at, joined.first_seen), joined.first_seen)
    return joined.select(
        opportunity_id=joined.opportunity_id,
        seq=joined.seq,
        changed_at=joined.changed_at,
        valid_to=joined.valid_to,
        stage=joined.stage,
        prev_stage=joined.prev_stage,
        stage_order=joined.stage_order.fill_null(999),
        is_closed=joined.is_closed.fill_null(False),
        is_won=joined.is_won.fill_null(False),
        amount=joined.amount.fill_null(0.0),
        close_date=joined.close_date,
        first_amount=joined.first_amount.fill_null(0.0),
        first_seen=joined.first_seen,
        created_at=created,
        segment=joined.segment.fill_null("Unassigned"),
        motion=joined.motion.fill_null("Unknown"),
        channel=joined.channel.fill_null("Unknown"),
        owner_id=ibis.coalesce(joined.owner_id, joined.owner_id_right).fill_null("Unknown"),
    )


def known_events(store: Store, as_of: date) -> ir.Table:
    """Every history event known at the end of ``as_of`` with its stage's place on the ladder — no deal attributes.

    Columns: opportunity_id, changed_at, valid_to (null: still holds at ``as_of``), stage, prev_stage,
    stage_entered_at, stage_order, is_closed, is_won, amount, close_date, first_amount, first_seen, owner_id
    (the event's, may be null). Measures filter and aggregate this narrow table first and join the deal
    attributes (:func:`with_attributes`) only to the rows they keep.
    """
    h = history_until(store, as_of)
    cut = ibis.literal(end_of(as_of))
    ladder = Ladder.read(store)
    return h.select(
        opportunity_id=h.opportunity_id,
        changed_at=h.changed_at,
        valid_to=ibis.ifelse(h.valid_to >= cut, ibis.null("timestamp"), h.valid_to),
        stage=h.stage,
        prev_stage=h.prev_stage,
        stage_entered_at=h.stage_entered_at,
        stage_order=ladder.order(h.stage),
        is_closed=ladder.closed(h.stage),
        is_won=ladder.won(h.stage),
        amount=h.amount.fill_null(0.0),
        close_date=h.close_date,
        first_amount=h.first_amount.fill_null(0.0),
        first_seen=h.first_seen,
        owner_id=h.owner_id,
    )


@dataclass(frozen=True)
class Ladder:
    """The learned stage ladder, read once: ``(name, stage_order, is_closed, is_won)`` per stage.

    The ladder is a handful of rows: writing it into a query as literals spares the engine a join
    against every history event. A stage missing from the ladder is open, order 999.
    """

    stages: tuple[tuple[str, int, bool, bool], ...]

    @classmethod
    def read(cls, store: Store) -> Ladder:
        rows = stored(store, "stages").to_pyarrow().to_pylist()
        return cls(
            tuple(
                (
                    str(r["name"]),
                    int(r["stage_order"]) if r["stage_order"] is not None else 999,
                    bool(r["is_closed"]),
                    bool(r["is_won"]),
                )
                for r in rows
            )
        )

    def order(self, stage: ir.StringValue) -> ir.IntegerValue:
        if not self.stages:
            return ibis.literal(999, "int64")
        return stage.cases(*[(name, order) for name, order, _, _ in self.stages], else_=999).cast("int64")

    def open_order(self, stage: ir.StringValue) -> ir.IntegerValue:
        """``stage_order`` of an open stage, null for a closed one: ``max()`` of it is the furthest open stage."""
        if not self.stages:
            return ibis.literal(999, "int64")
        cases = [
            (name, ibis.null("int64") if closed else ibis.literal(order, "int64"))
            for name, order, closed, _ in self.stages
        ]
        return stage.cases(*cases, else_=ibis.literal(999, "int64"))

    def closed(self, stage: ir.StringValue) -> ir.BooleanValue:
        return self._among(stage, [name for name, _, closed, _ in self.stages if closed])

    def won(self, stage: ir.StringValue) -> ir.BooleanValue:
        return self._among(stage, [name for name, _, _, won in self.stages if won])

    def states(self, t: ir.Table, *columns: str) -> ir.Table:
        """Stored events ``t`` as states: ``columns`` as stored, with is_closed, is_won and amount (blank: 0)."""
        return t.select(
            *columns, is_closed=self.closed(t.stage), is_won=self.won(t.stage), amount=t.amount.fill_null(0.0)
        )

    # Filters: the same tests without ``COALESCE`` around ``IN``, so that the engine applies them in the scan.
    def where_closed(self, stage: ir.StringValue) -> ir.BooleanValue:
        names = [name for name, _, closed, _ in self.stages if closed]
        return stage.isin(names) if names else ibis.literal(False)

    def where_open(self, stage: ir.StringValue) -> ir.BooleanValue:
        names = [name for name, _, closed, _ in self.stages if closed]
        return stage.isnull() | stage.notin(names) if names else ibis.literal(True)

    def where_won(self, stage: ir.StringValue) -> ir.BooleanValue:
        names = [name for name, _, _, won in self.stages if won]
        return stage.isin(names) if names else ibis.literal(False)

    @staticmethod
    def _among(stage: ir.StringValue, names: list[str]) -> ir.BooleanValue:
        return stage.isin(names).fill_null(False) if names else ibis.literal(False)


def deal_attributes(store: Store) -> ir.Table:
    """The static attributes results are grouped by, one row per deal (``opp_*``: to combine with the history)."""
    opps = stored(store, "opportunities")
    return opps.select(
        opportunity_id=opps.opportunity_id,
        opp_created_at=opps.created_at,
        segment=opps.segment.fill_null("Unassigned"),
        motion=opps.motion.fill_null("Unknown"),
        channel=opps.channel.fill_null("Unknown"),
        opp_owner_id=opps.owner_id,
    )


def with_attributes(store: Store, table: ir.Table) -> ir.Table:
    """``table`` (opportunity_id, first_seen, owner_id, ...) with created_at, created_day, segment, motion, channel.

    ``created_at`` is the deal's creation, never later than its first evidence; ``owner_id`` is the
    event's owner, else the deal's, else ``Unknown`` — the same rules as :func:`spans`.
    """
    attrs = deal_attributes(store)
    j = table.left_join(attrs, table.opportunity_id == attrs.opportunity_id)
    created = ibis.least(ibis.coalesce(j.opp_created_at, j.first_seen), j.first_seen)
    keep = [c for c in table.columns if c not in ("owner_id", "created_at", "created_day")]
    return j.select(
        *[j[c] for c in keep],
        created_at=created,
        created_day=created.date(),
        segment=j.segment,
        motion=j.motion,
        channel=j.channel,
        owner_id=ibis.coalesce(j.owner_id, j.opp_owner_id).fill_null("Unknown"),
    )


def attach(store: Store, table: ir.Table, keys: Sequence[str], *, created: bool = False) -> ir.Table:
    """``table`` (opportunity_id, owner_id: the event's, may be null, ...) with its deal's grouping columns ``keys``.

    Only what is asked for is joined (nothing: ``table`` as it is); ``owner_id`` is the event's owner, else the
    deal's, else ``Unknown``; ``created`` adds ``created_day`` (``table`` has ``first_seen``) — the same rules
    as :func:`with_attributes`.
    """
    if not keys and not created:
        return table
    opps = stored(store, "opportunities")
    wanted: dict[str, ir.Value] = {"opportunity_id": opps.opportunity_id}
    defaults = {"segment": "Unassigned", "motion": "Unknown", "channel": "Unknown"}
    wanted.update({k: opps[k].fill_null(defaults[k]) for k in keys if k != "owner_id"})
    if "owner_id" in keys:
        wanted["opp_owner_id"] = opps.owner_id
    if created:
        wanted["opp_created_at"] = opps.created_at
    attrs = opps.select(**wanted)
    j = table.left_join(attrs, table.opportunity_id == attrs.opportunity_id)
    added: dict[str, ir.Value] = {k: j[k] for k in keys if k != "owner_id"}
    if "owner_id" in keys:
        added["owner_id"] = ibis.coalesce(j.owner_id, j.opp_owner_id).fill_null("Unknown")
    if created:
        added["created_day"] = ibis.least(ibis.coalesce(j.opp_created_at, j.first_seen), j.first_seen).date()
    return j.select(*[j[c] for c in table.columns if c not in added], **added)


def holding(store: Store, as_of: date) -> ir.Table:
    """The stored history events still holding at the end of ``as_of`` — one per deal known then, as stored.

    The filter is on the stored columns only (the engine prunes on them); ``valid_to`` is left as stored.
    """
    h = stored(store, "history")
    cut = ibis.literal(end_of(as_of))
    return h.filter(h.changed_at < cut, h.valid_to.isnull() | (h.valid_to >= cut))


def deals(store: Store, as_of: date, span_table: ir.Table | None = None) -> ir.Table:
    """One row per deal known at the end of ``as_of``: its state then, ``reached`` and ``created_day``.

    ``reached`` is the highest ``stage_order`` of an *open* stage the deal was ever in (null if it was
    never open); a won deal counts as having passed every open stage (see ``funnel.conversion``).
    Without ``span_table`` it is one aggregation of :func:`known_events` per deal (no window, no spans).
    """
    if span_table is None:
        return with_attributes(store, _deal_rows(known_events(store, as_of)))
    s = span_table
    reach = s.group_by("opportunity_id").aggregate(
        reached=s.stage_order.max(where=~s.is_closed),
    )
    last = s.filter(s.valid_to.isnull())
    both = last.join(reach, "opportunity_id")
    return both.select(
        *[both[c] for c in last.columns if c not in ("valid_to", "seq", "prev_stage")],
        reached=both.reached,
        created_day=both.created_at.date(),
    )


def _deal_rows(e: ir.Table) -> ir.Table:
    """One row per deal of known events ``e``: the state still holding (null ``valid_to``) and ``reached``."""
    now = e.valid_to.isnull()
    return e.group_by("opportunity_id").aggregate(
        changed_at=e.changed_at.max(where=now),
        stage=e.stage.max(where=now),
        stage_order=e.stage_order.max(where=now),
        is_closed=e.is_closed.any(where=now),
        is_won=e.is_won.any(where=now),
        amount=e.amount.max(where=now),
        close_date=e.close_date.max(where=now),
        first_amount=e.first_amount.max(),
        first_seen=e.first_seen.min(),
        owner_id=e.owner_id.max(where=now),
        reached=e.stage_order.max(where=~e.is_closed),
    )


def cohort_deals(store: Store, as_of: date, created_after: date, keys: Sequence[str] = ()) -> ir.Table:
    """Deals known at ``as_of`` created after ``created_after``: their state then, ``reached`` and ``created_day``.

    Columns: opportunity_id, is_closed, is_won, amount (as of ``as_of``), reached (see :func:`deals`),
    created_day and the grouping columns ``keys``. A deal's creation is never later than its first event,
    so the history is pruned to the deals first seen after the day before the per-deal aggregation.
    """
    h = history_until(store, as_of)
    h = h.filter(h.first_seen >= ibis.literal(end_of(created_after)))
    ladder = Ladder.read(store)
    cut = ibis.literal(end_of(as_of))
    now = h.valid_to.isnull() | (h.valid_to >= cut)
    owner = {"owner_id": h.owner_id.max(where=now)} if "owner_id" in keys else {}
    # the stage and amount of the one event holding at the cut; what they mean is worked out per deal after
    rows = h.group_by("opportunity_id").aggregate(
        reached=ladder.open_order(h.stage).max(),
        stage=h.stage.max(where=now),
        amount=h.amount.max(where=now),
        first_seen=h.first_seen.min(),
        **owner,
    )
    rows = rows.mutate(
        is_closed=ladder.closed(rows.stage), is_won=ladder.won(rows.stage), amount=rows.amount.fill_null(0.0)
    )
    d = attach(store, rows, keys, created=True)
    return d.filter(d.created_day > ibis.literal(created_after))


def spans_until(span_table: ir.Table, as_of: date) -> ir.Table:
    """The spans as known at the end of ``as_of``, cut from spans known at a later date (no recomputation)."""
    cut = ibis.literal(end_of(as_of))
    s = span_table.filter(span_table.changed_at < cut)
    return s.mutate(valid_to=ibis.ifelse(s.valid_to >= cut, ibis.null("timestamp"), s.valid_to))
