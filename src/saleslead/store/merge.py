"""Merge candidate events into the stored history of the deals they touch (vectorised with NumPy).

For each touched deal, stored and candidate events are put in one order — time, then kind
(history < created < closed < snapshot), stored before new, then stored sequence — and:

* inferred ``created`` events are kept only for deals the store has not seen, and ``closed`` events
  only when later than everything stored (a later export cannot rewrite a known past);
* a snapshot that leaves a field blank (the export lacks it) keeps the value known before it;
* a new event that repeats the state just before it is dropped (a CRM history row only when it is
  also at the same instant), so the same export ingested twice adds nothing;
* every kept event carries what point-in-time reads need without re-sorting: ``pushes`` (close-date
  moves later so far), ``stage_entered_at`` (when the current stage run began), ``valid_to`` (when
  the next event replaced it — a later fact, so readers null it past their as-of), ``prev_stage``,
  ``first_amount`` and ``first_seen`` (the deal's first event), ``activity_so_far``, and a ``seq``
  that increases with time within the deal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["STATE_FIELDS", "MergedHistory", "merge_events"]

STATE_FIELDS = ("stage", "amount", "close_date", "probability", "forecast_category", "owner_id", "last_activity_date")
_PRIORITY = {"history": 1, "created": 2, "closed": 3, "owner": 4, "snapshot": 5}
#: text columns with few distinct values
_LOW_CARDINALITY = ("stage", "forecast_category", "owner_id", "source")
#: events that know only some fields: a blank one takes the value of the event before
_CARRIED = ("owner", "snapshot")
_NONE = np.iinfo(np.int64).min

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class MergedHistory:
    """Rows to write for the deals that changed (all their events, renumbered) and how many are new.

    The rows are built slice by slice (:meth:`slices`) so a large ingest never holds them all at once.
    """

    size: int
    build: Callable[[int, int], pa.Table]  # rows [start, stop) of the result
    rewritten: pa.Array  # opportunity ids whose stored rows are replaced by the rows
    added: int

    def slices(self, rows: int = 1_000_000) -> Iterator[pa.Table]:
        for start in range(0, self.size, rows):
            yield self.build(start, min(start + rows, self.size))

    @property
    def rows(self) -> pa.Table:
        return self.build(0, self.size)


def _codes(column: pa.ChunkedArray | pa.Array) -> IntArray:
    """Equality-comparable integers for any column (nulls become a value of their own)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        encoded = pc.dictionary_encode(column)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        return np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    if pa.types.is_floating(column.type):
        values = np.asarray(pc.fill_null(column, np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
        out = values.view(np.int64).copy()
        out[np.isnan(values)] = _NONE
        return out
    if pa.types.is_date32(column.type):
        column = pc.cast(column, pa.int32())
    if pa.types.is_integer(column.type) and column.type != pa.int64():
        column = pc.cast(column, pa.int64())
    as_int = column if pa.types.is_integer(column.type) else pc.cast(column, pa.int64())
    return np.asarray(pc.fill_null(as_int, _NONE).to_numpy(zero_copy_only=False), dtype=np.int64)


def _forward_fill(index_valid: BoolArray, starts: BoolArray) -> IntArray:
    """For each row, the index of the latest row at or before it (within its deal) that is valid."""
    n = index_valid.size
    source = np.where(index_valid | starts, np.arange(n), 0)
    return np.maximum.accumulate(source)


def _filled(rows: npt.NDArray[np.integer], index_valid: BoolArray, starts: BoolArray) -> npt.NDArray[np.integer]:
    """``rows[_forward_fill(index_valid, starts)]``, touching only the rows that take an earlier value."""
    anchor = index_valid | starts
    gaps = np.flatnonzero(~anchor)
    if gaps.size == 0:
        return rows
    anchors = np.flatnonzero(anchor)
    out = rows.copy()
    out[gaps] = rows[anchors[np.searchsorted(anchors, gaps, side="right") - 1]]
    return out


def _running_max_by_group(values: IntArray, starts: BoolArray) -> IntArray:
    """Running maximum of ``values`` that restarts where ``starts`` is true (groups are contiguous)."""
    group = np.cumsum(starts) - 1
    # Lift each group above every earlier one so one global running max never leaks across groups.
    span = int(values.max()) - int(values.min()) + 1 if values.size else 1
    low = int(values.min()) if values.size else 0
    lifted = (values - low) + group.astype(np.int64) * span
    return np.maximum.accumulate(lifted) - group.astype(np.int64) * span + low


def _prio(source: pa.ChunkedArray | pa.Array) -> IntArray:
    """Sort rank of each event kind (unknown kinds last)."""
    kinds = pa.array(list(_PRIORITY), pa.string())
    position = pc.index_in(source, value_set=kinds)
    ranks = np.asarray([*_PRIORITY.values(), 9], dtype=np.int64)
    return ranks[np.asarray(position.fill_null(len(_PRIORITY)).to_numpy(zero_copy_only=False), dtype=np.int64)]


def _flags(table: pa.Table, name: str) -> BoolArray:
    """A boolean column as a mask (false when the column is absent or null)."""
    if name not in table.column_names:
        return np.zeros(table.num_rows, dtype=bool)
    values = pc.fill_null(table.column(name), False).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=bool)


def _indices(encoded: pa.DictionaryArray) -> IntArray:
    """The codes of dictionary-encoded text as :func:`_codes` gives them (nulls: -1)."""
    return np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _encoded(column: pa.ChunkedArray) -> pa.DictionaryArray:
    encoded = pc.dictionary_encode(column.combine_chunks())
    assert isinstance(encoded, pa.DictionaryArray)
    return encoded


def merge_events(stored: pa.Table, candidates: pa.Table, next_seq: int, ingest_id: int) -> MergedHistory:
    """Merge ``candidates`` (new events) into ``stored`` (all stored events of the deals they touch)."""
    if stored.num_rows:
        candidates = _without_rewritten_past(stored, candidates)
    both = _together(stored, candidates)
    if both.num_rows == 0:
        return MergedHistory(0, lambda start, stop: both, pa.array([], pa.string()), 0)
    rows = _sorted(stored, candidates, both, ingest_id)
    # Few distinct values: encoded once, compared by code in the merge and written as dictionary indices.
    encoded = {name: _encoded(both.column(name)) for name in _LOW_CARDINALITY}
    fields = _fields(both, rows, encoded)
    kept = ~((_repeats(rows, fields) | _orphans(rows)) & rows.is_new)
    keep_rows, added = _rewritten(rows, kept)
    derived = _derive(rows, fields, keep_rows)
    del rows, fields, kept, keep_rows  # only what the rows are built from stays
    build = _builder(both, derived, next_seq, encoded)
    rewritten = both.column("opportunity_id").take(pa.array(derived.picked[np.flatnonzero(derived.starts)]))
    return MergedHistory(derived.picked.size, build, rewritten.combine_chunks(), added)


def _without_rewritten_past(stored: pa.Table, candidates: pa.Table) -> pa.Table:
    """Inferred ``created`` events only for deals not stored, ``closed`` ones only when later than anything
    stored of the deal: a later export cannot rewrite a known past."""
    last_stored = stored.group_by("opportunity_id").aggregate([("changed_at", "max")])
    position = pc.index_in(candidates.column("opportunity_id"), value_set=last_stored.column("opportunity_id"))
    seen = pc.is_valid(position)
    last_time = pc.take(last_stored.column("changed_at_max"), position)
    later = pc.fill_null(pc.greater(candidates.column("changed_at"), last_time), True)
    source = candidates.column("source")
    keep = pc.or_(
        pc.is_in(source, value_set=pa.array(["history", "owner", "snapshot"])),
        pc.or_(pc.invert(seen), pc.and_(pc.equal(source, "closed"), later)),
    )
    return candidates.filter(keep)


def _together(stored: pa.Table, candidates: pa.Table) -> pa.Table:
    """Stored events, then the candidates, in the stored rows' types."""
    columns = ["opportunity_id", "changed_at", *STATE_FIELDS, "source"]
    if not stored.num_rows:
        return candidates.select(columns)
    kept = stored.select(columns)
    return pa.concat_tables([kept, candidates.select(columns).cast(kept.schema)])


@dataclass
class _Sorted:
    """Every event of ``both`` in merge order (``order``: its row in ``both``), with what the merge compares."""

    order: npt.NDArray[np.integer]
    deal: IntArray
    when: IntArray
    prio: IntArray
    is_new: BoolArray
    starts: BoolArray  # first event of its deal
    carried: BoolArray  # knows only some fields (owner change, snapshot)
    owner_free: BoolArray  # a new event whose owner is only inferred
    ingest: IntArray  # by row of ``both``: the ingest that wrote it


def _sorted(stored: pa.Table, candidates: pa.Table, both: pa.Table, ingest_id: int) -> _Sorted:
    """Sort by deal, time, kind — stored before new within ties, then stored sequence."""
    size_stored, size_new = stored.num_rows, candidates.num_rows
    is_new0 = np.r_[np.zeros(size_stored, bool), np.ones(size_new, bool)]
    old_seq0 = np.r_[_ints(stored, "seq"), np.zeros(size_new, np.int64)]
    ingest0 = np.r_[_ints(stored, "ingest_id"), np.full(size_new, ingest_id, np.int64)]
    inferred0 = np.r_[np.zeros(size_stored, bool), _flags(candidates, "owner_inferred")]
    # Deal codes: the candidates' own (their row in the export) when nothing is stored, else one encoding of both.
    if not size_stored and "deal" in candidates.column_names:
        deal = np.asarray(candidates.column("deal").to_numpy(), dtype=np.int64)
    else:
        deal = _codes(both.column("opportunity_id"))
    when = _codes(both.column("changed_at"))
    prio = _prio(both.column("source"))
    order = _order(deal, when, prio, is_new0, old_seq0, tie_break=bool(size_stored))
    deal, when, prio, is_new = deal[order], when[order], prio[order], is_new0[order]
    return _Sorted(
        order=order,
        deal=deal,
        when=when,
        prio=prio,
        is_new=is_new,
        starts=np.r_[True, deal[1:] != deal[:-1]],
        carried=np.isin(prio, [_PRIORITY[kind] for kind in _CARRIED]),
        owner_free=is_new & inferred0[order],
        ingest=ingest0,
    )


def _ints(table: pa.Table, name: str) -> IntArray:
    if not table.num_rows:
        return np.zeros(0, np.int64)
    return np.asarray(table.column(name).to_numpy(), dtype=np.int64)


def _order(
    deal: IntArray, when: IntArray, prio: IntArray, is_new: BoolArray, old_seq: IntArray, *, tie_break: bool
) -> npt.NDArray[np.integer]:
    """Rows in merge order; stored rows come first within ties (with nothing stored those keys are left out)."""
    names = ["deal", "when", "prio", "is_new", "old_seq"] if tie_break else ["deal", "when", "prio"]
    keys = pa.table(dict(zip(names, (deal, when, prio, is_new, old_seq), strict=False)))
    # Arrow's stable multi-key sort (radix on integers): several times cheaper than numpy's lexsort here.
    order = np.asarray(pc.sort_indices(keys, [(name, "ascending") for name in names]).to_numpy(), dtype=np.int64)
    if order.size < 2**31:
        return order.astype(np.int32)  # row numbers: half the memory of the default
    return order


@dataclass
class _Fields:
    """Each state field once snapshot blanks are filled forward: the row of ``both`` its value comes from."""

    source_row: dict[str, npt.NDArray[np.integer]]
    codes: dict[str, IntArray]  # stage, close date, activity: comparable codes in merge order
    same: BoolArray  # every field but the owner equals the event before (same deal)
    owner: npt.NDArray[np.integer]  # owner code in merge order


def _fields(both: pa.Table, rows: _Sorted, encoded: dict[str, pa.DictionaryArray]) -> _Fields:
    source_row: dict[str, npt.NDArray[np.integer]] = {}
    codes: dict[str, IntArray] = {}
    same = ~rows.starts
    owner: npt.NDArray[np.integer] = np.zeros(0, np.int64)
    for name in STATE_FIELDS:
        column = both.column(name)
        filled: npt.NDArray[np.integer]
        if column.null_count == 0:
            filled = rows.order
        else:
            valid = np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False), dtype=bool)[rows.order]
            filled = _filled(rows.order, valid | ~rows.carried, rows.starts)
        source_row[name] = filled
        code = (_indices(encoded[name]) if name in encoded else _codes(column))[filled]
        if name in ("stage", "close_date", "last_activity_date"):
            codes[name] = code
        if name == "owner_id":
            owner = code
            continue
        same &= np.r_[False, code[1:] == code[:-1]]
    return _Fields(source_row, codes, same, owner)


def _repeats(rows: _Sorted, fields: _Fields) -> BoolArray:
    """Events that repeat the state just before them (a CRM history row only when also at the same instant)."""
    same_time = np.r_[False, rows.when[1:] == rows.when[:-1]] & ~rows.starts
    again = (rows.prio != _PRIORITY["history"]) | same_time
    # A new event whose owner is only inferred repeats the one before whatever owner it infers: the owner
    # already known at that moment stands, and the events after it compare with that owner.
    deferring = rows.owner_free & fields.same & again
    owner_known = _filled(fields.owner, ~deferring, rows.starts)
    repeat: BoolArray = fields.same & np.r_[False, owner_known[1:] == owner_known[:-1]] & again
    return repeat


def _orphans(rows: _Sorted) -> BoolArray:
    """An owner change before anything else is known of the deal: it has no state to carry."""
    orphan: BoolArray = rows.starts & (rows.prio == _PRIORITY["owner"])
    return orphan


def _rewritten(rows: _Sorted, kept: BoolArray) -> tuple[IntArray, int]:
    """The rows (in merge order) to write: every kept event of a deal with a kept new one; and how many are new."""
    changed = np.zeros(int(rows.deal.max()) + 1, dtype=bool)
    changed[rows.deal[rows.is_new & kept]] = True
    return np.flatnonzero(changed[rows.deal] & kept), int(np.count_nonzero(rows.is_new & kept))


@dataclass
class _Derived:
    """What point-in-time reads need of each written event, in write order."""

    picked: npt.NDArray[np.integer]  # row of ``both``
    source_row: dict[str, npt.NDArray[np.integer]]
    starts: BoolArray
    ends: BoolArray
    stage_entered: IntArray
    next_time: IntArray
    pushes: npt.NDArray[np.int32]
    first_row: npt.NDArray[np.integer]
    prev_take: npt.NDArray[np.integer]
    activity: npt.NDArray[np.int32]  # latest activity day so far (``_UNKNOWN_DAY``: none)
    ingest: IntArray


_UNKNOWN_DAY = -(10**7)  # days before 1970: below any real date


def _derive(rows: _Sorted, fields: _Fields, keep_rows: IntArray) -> _Derived:
    picked = rows.order[keep_rows]
    # Fields without blanks take their values from the event's own row: one shared array, not seven.
    source_row = {
        name: picked if filled is rows.order else filled[keep_rows] for name, filled in fields.source_row.items()
    }
    deal = rows.deal[keep_rows]
    n = deal.size
    starts = np.r_[True, deal[1:] != deal[:-1]] if n else np.zeros(0, bool)
    entered = rows.when[keep_rows]
    first_row = np.maximum.accumulate(np.where(starts, np.arange(n), 0)) if n else np.zeros(0, np.int64)
    prev_take = np.where(starts, 0, np.arange(n) - 1) if n else np.zeros(0, np.int64)
    if n < 2**31:  # row numbers: half the memory
        first_row, prev_take = first_row.astype(np.int32), prev_take.astype(np.int32)
    activity = fields.codes["last_activity_date"][keep_rows]
    return _Derived(
        picked=picked,
        source_row=source_row,
        starts=starts,
        ends=np.r_[starts[1:], True] if n else starts,
        stage_entered=_stage_entered(fields.codes["stage"][keep_rows], entered, starts),
        next_time=np.r_[entered[1:], 0] if n else entered,
        pushes=_pushes(fields.codes["close_date"][keep_rows], starts, first_row),
        first_row=first_row,
        prev_take=prev_take,
        activity=_running_max_by_group(np.where(activity == _NONE, _UNKNOWN_DAY, activity), starts).astype(np.int32),
        ingest=rows.ingest[picked],
    )


def _stage_entered(stage: IntArray, entered: IntArray, starts: BoolArray) -> IntArray:
    """When the current stage run of each event began."""
    if not stage.size:
        return entered
    moved = starts | np.r_[True, stage[1:] != stage[:-1]]
    return entered[_forward_fill(moved, starts)]


def _pushes(close: IntArray, starts: BoolArray, first_row: npt.NDArray[np.integer]) -> npt.NDArray[np.int32]:
    """How many times the close date moved later so far within the deal."""
    pushed = (~starts) & (close != _NONE) & np.r_[False, (close[1:] > close[:-1]) & (close[:-1] != _NONE)]
    total = np.cumsum(pushed)
    if not close.size:
        return total.astype(np.int32)
    so_far: npt.NDArray[np.int32] = (total - (total - pushed)[first_row]).astype(np.int32)
    return so_far


def _builder(
    both: pa.Table, derived: _Derived, next_seq: int, encoded: dict[str, pa.DictionaryArray]
) -> Callable[[int, int], pa.Table]:
    """Rows ``[start, stop)`` of the written history, built on demand (``encoded`` text as dictionary indices:
    the engine receives dictionary-encoded text)."""
    d = derived

    def build(start: int, stop: int) -> pa.Table:
        part = slice(start, stop)

        def take(name: str, rows: npt.NDArray[np.integer]) -> pa.Array | pa.ChunkedArray:
            if name in encoded:
                return encoded[name].take(pa.array(rows[part]))
            return both.column(name).take(pa.array(rows[part]))

        first = d.first_row[part]
        stages = encoded["stage"]
        before = np.asarray(stages.indices.take(pa.array(d.source_row["stage"][d.prev_take[part]])).to_numpy(False))
        prev_stage = pa.DictionaryArray.from_arrays(pa.array(before, mask=d.starts[part]), stages.dictionary)
        so_far = d.activity[part]
        return pa.table(
            {
                "seq": pa.array(np.arange(next_seq + start, next_seq + stop, dtype=np.int64)),
                "opportunity_id": take("opportunity_id", d.picked),
                "changed_at": take("changed_at", d.picked),
                **{name: take(name, d.source_row[name]) for name in STATE_FIELDS},
                "source": take("source", d.picked),
                "ingest_id": pa.array(d.ingest[part]),
                "pushes": pa.array(d.pushes[part].astype(np.int64)),
                "stage_entered_at": pa.array(d.stage_entered[part], pa.int64()).cast(pa.timestamp("us")),
                # When this state stopped holding: the next event of the same deal (null for the newest).
                "valid_to": pa.array(d.next_time[part], pa.int64(), mask=d.ends[part]).cast(pa.timestamp("us")),
                "prev_stage": prev_stage,
                "first_amount": both.column("amount").take(pa.array(d.source_row["amount"][first])),
                "first_seen": both.column("changed_at").take(pa.array(d.picked[first])),
                "activity_so_far": pa.array(so_far, pa.int64(), mask=so_far <= _UNKNOWN_DAY)
                .cast(pa.int32())
                .cast(pa.date32()),
            }
        )

    return build
