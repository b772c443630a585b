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


def _encoded(column: pa.ChunkedArray) -> pa.DictionaryArray:
    encoded = pc.dictionary_encode(column.combine_chunks())
    assert isinstance(encoded, pa.DictionaryArray)
    return encoded


def merge_events(stored: pa.Table, candidates: pa.Table, next_seq: int, ingest_id: int) -> MergedHistory:
    """Merge ``candidates`` (new events) into ``stored`` (all stored events of the deals they touch)."""
    if stored.num_rows:
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
        candidates = candidates.filter(keep)
    columns = ["opportunity_id", "changed_at", *STATE_FIELDS, "source"]
    size_stored, size_new = stored.num_rows, candidates.num_rows
    if size_stored:
        both = pa.concat_tables(
            [stored.select(columns), candidates.select(columns).cast(stored.select(columns).schema)]
        )
    else:
        both = candidates.select(columns)
    if both.num_rows == 0:
        return MergedHistory(0, lambda start, stop: both, pa.array([], pa.string()), 0)
    is_new0 = np.r_[np.zeros(size_stored, bool), np.ones(size_new, bool)]
    old_seq0 = np.r_[
        np.asarray(stored.column("seq").to_numpy(), dtype=np.int64) if size_stored else np.zeros(0, np.int64),
        np.zeros(size_new, np.int64),
    ]
    ingest0 = np.r_[
        np.asarray(stored.column("ingest_id").to_numpy(), dtype=np.int64) if size_stored else np.zeros(0, np.int64),
        np.full(size_new, ingest_id, np.int64),
    ]
    inferred0 = np.r_[np.zeros(size_stored, bool), _flags(candidates, "owner_inferred")]

    # Deal codes: the candidates' own (their row in the export) when nothing is stored, else one encoding of both.
    if not size_stored and "deal" in candidates.column_names:
        deal = np.asarray(candidates.column("deal").to_numpy(), dtype=np.int64)
    else:
        deal = _codes(both.column("opportunity_id"))
    when = _codes(both.column("changed_at"))
    prio = _prio(both.column("source"))
    # Stored rows come first within ties; with nothing stored those two keys are constant and left out.
    names = ["deal", "when", "prio", "is_new", "old_seq"] if size_stored else ["deal", "when", "prio"]
    keys = pa.table(dict(zip(names, (deal, when, prio, is_new0, old_seq0), strict=False)))
    # Arrow's stable multi-key sort (radix on integers): several times cheaper than numpy's lexsort here.
    order = np.asarray(pc.sort_indices(keys, [(name, "ascending") for name in names]).to_numpy(), dtype=np.int64)
    del keys
    if order.size < 2**31:
        order = order.astype(np.int32)  # row numbers: half the memory of the default
    deal, when, prio, is_new = deal[order], when[order], prio[order], is_new0[order]
    starts = np.r_[True, deal[1:] != deal[:-1]]
    carried = np.isin(prio, [_PRIORITY[kind] for kind in _CARRIED])
    # A new event whose owner is only inferred never contradicts an owner already known at that moment.
    owner_free = is_new & inferred0[order]

    # Each state field: the (original) row its value comes from once snapshot blanks are filled forward.
    source_row: dict[str, npt.NDArray[np.integer]] = {}
    codes: dict[str, IntArray] = {}
    same = ~starts
    owner_code: npt.NDArray[np.integer] = np.zeros(0, np.int64)
    for name in STATE_FIELDS:
        column = both.column(name)
        rows: npt.NDArray[np.integer]
        if column.null_count == 0:
            rows = order
        else:
            valid = np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False), dtype=bool)[order]
            rows = _filled(order, valid | ~carried, starts)
        source_row[name] = rows
        code = _codes(column)[rows]
        if name in ("stage", "close_date", "last_activity_date"):
            codes[name] = code
        if name == "owner_id":
            owner_code = code
            continue
        same &= np.r_[False, code[1:] == code[:-1]]
    same_time = np.r_[False, when[1:] == when[:-1]] & ~starts
    again = (prio != _PRIORITY["history"]) | same_time
    # A new event whose owner is only inferred repeats the one before whatever owner it infers: the owner
    # already known at that moment stands, and the events after it compare with that owner.
    deferring = owner_free & same & again
    owner_known = _filled(owner_code, ~deferring, starts)
    same &= np.r_[False, owner_known[1:] == owner_known[:-1]]
    repeat = same & again
    # An owner change before anything else is known of the deal has no state to carry: it is dropped.
    orphan = starts & (prio == _PRIORITY["owner"])
    kept = ~((repeat | orphan) & is_new)
    changed = np.zeros(int(deal.max()) + 1, dtype=bool)
    changed[deal[is_new & kept]] = True
    keep_rows = np.flatnonzero(changed[deal] & kept)
    added = int(np.count_nonzero(is_new & kept))
    picked = order[keep_rows]
    # Fields without blanks take their values from the event's own row: one shared array, not seven.
    source_row = {name: picked if rows is order else rows[keep_rows] for name, rows in source_row.items()}
    codes = {name: code[keep_rows] for name, code in codes.items()}
    deal_r = deal[keep_rows]
    n = deal_r.size
    starts_r = np.r_[True, deal_r[1:] != deal_r[:-1]] if n else np.zeros(0, bool)
    stage = codes["stage"]
    moved = starts_r | np.r_[True, stage[1:] != stage[:-1]] if n else np.zeros(0, bool)
    entered = when[keep_rows]
    stage_entered = entered[_forward_fill(moved, starts_r)] if n else entered
    close = codes["close_date"]
    pushed = (~starts_r) & (close != _NONE) & np.r_[False, (close[1:] > close[:-1]) & (close[:-1] != _NONE)]
    total = np.cumsum(pushed)
    first_row = np.maximum.accumulate(np.where(starts_r, np.arange(n), 0)) if n else np.zeros(0, np.int64)
    pushes = (total - (total - pushed)[first_row] if n else total).astype(np.int32)
    ends = np.r_[starts_r[1:], True] if n else starts_r
    next_time = np.r_[entered[1:], 0] if n else entered
    prev_take = np.where(starts_r, 0, np.arange(n) - 1) if n else np.zeros(0, np.int64)
    if n < 2**31:  # row numbers: half the memory
        first_row, prev_take = first_row.astype(np.int32), prev_take.astype(np.int32)
    # Latest activity known so far within the deal: a running maximum that restarts at each deal.
    unknown = -(10**7)  # days before 1970: below any real date
    activity = codes["last_activity_date"]
    best = _running_max_by_group(np.where(activity == _NONE, unknown, activity), starts_r).astype(np.int32)
    ingest_r = ingest0[picked]
    del codes, activity, stage, close, total, pushed, moved, ingest0, deal, when, prio, is_new, entered

    # Few distinct values: taken as dictionary indices (the engine receives dictionary-encoded text).
    encoded = {name: _encoded(both.column(name)) for name in _LOW_CARDINALITY}

    def build(start: int, stop: int) -> pa.Table:
        part = slice(start, stop)

        def take(name: str, rows: npt.NDArray[np.integer]) -> pa.Array | pa.ChunkedArray:
            if name in encoded:
                return encoded[name].take(pa.array(rows[part]))
            return both.column(name).take(pa.array(rows[part]))

        first = first_row[part]
        first_stage = starts_r[part]
        stages = encoded["stage"]
        before = np.asarray(stages.indices.take(pa.array(source_row["stage"][prev_take[part]])).to_numpy(False))
        prev_stage = pa.DictionaryArray.from_arrays(pa.array(before, mask=first_stage), stages.dictionary)
        so_far = best[part]
        return pa.table(
            {
                "seq": pa.array(np.arange(next_seq + start, next_seq + stop, dtype=np.int64)),
                "opportunity_id": take("opportunity_id", picked),
                "changed_at": take("changed_at", picked),
                **{name: take(name, source_row[name]) for name in STATE_FIELDS},
                "source": take("source", picked),
                "ingest_id": pa.array(ingest_r[part]),
                "pushes": pa.array(pushes[part].astype(np.int64)),
                "stage_entered_at": pa.array(stage_entered[part], pa.int64()).cast(pa.timestamp("us")),
                # When this state stopped holding: the next event of the same deal (null for the newest).
                "valid_to": pa.array(next_time[part], pa.int64(), mask=ends[part]).cast(pa.timestamp("us")),
                "prev_stage": prev_stage,
                "first_amount": both.column("amount").take(pa.array(source_row["amount"][first])),
                "first_seen": both.column("changed_at").take(pa.array(picked[first])),
                "activity_so_far": pa.array(so_far, pa.int64(), mask=so_far <= unknown)
                .cast(pa.int32())
                .cast(pa.date32()),
            }
        )

    rewritten = both.column("opportunity_id").take(pa.array(picked[np.flatnonzero(starts_r)]))
    return MergedHistory(n, build, rewritten.combine_chunks(), added)
