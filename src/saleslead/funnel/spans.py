"""History as validity spans, and every deal's outcome as of a date: the base the funnel core reads.

:func:`spans` turns the history known at the end of ``as_of`` into one row per recorded state with the
instant it stopped being true (``valid_to``, null while it still holds). A deal's state at any earlier
instant ``t`` is the span with ``changed_at < t <= valid_to``; that one range join gives the pipeline
of many past snapshots in a single engine query. :func:`deals` is one row per deal: its state at the
end of ``as_of``, the furthest open stage it reached (by the learned ``stage_order``, never by name) and
the amount it was created with. Grouping columns are the deal's ``segment``, ``motion``, ``channel`` and
``owner_id``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from saleslead.errors import InputError
from saleslead.funnel.state import end_of, history_until
from saleslead.store import Store

__all__ = ["DIMENSIONS", "check_by", "deals", "group_of", "spans", "spans_until"]

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
    stages = store.table("stages")
    opps = store.table("opportunities")
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


def deals(store: Store, as_of: date, span_table: ir.Table | None = None) -> ir.Table:
    """One row per deal known at the end of ``as_of``: its state then, ``reached`` and ``created_day``.

    ``reached`` is the highest ``stage_order`` of an *open* stage the deal was ever in (null if it was
    never open); a won deal counts as having passed every open stage (see ``funnel.conversion``).
    """
    s = span_table if span_table is not None else spans(store, as_of)
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


def spans_until(span_table: ir.Table, as_of: date) -> ir.Table:
    """The spans as known at the end of ``as_of``, cut from spans known at a later date (no recomputation)."""
    cut = ibis.literal(end_of(as_of))
    s = span_table.filter(span_table.changed_at < cut)
    return s.mutate(valid_to=ibis.ifelse(s.valid_to >= cut, ibis.null("timestamp"), s.valid_to))
