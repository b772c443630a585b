"""Turn one export into candidate history events.

Three kinds of evidence become events, each tagged with its ``source``:

* ``history`` — rows of the CRM's own history (Salesforce OpportunityHistory), as they are;
* ``created`` / ``closed`` — for opportunities without history rows: an opening event at the
  created date (open deals: their current state; closed deals: the last open stage, inferred — the
  stage deals close from)
  and, for closed deals, a closing event on the close date;
* ``owner`` — each change of owner the CRM recorded (Salesforce OpportunityFieldHistory): only the
  owner is known, the rest of the state is carried over from the event before;
* ``snapshot`` — every opportunity's state at the moment the export describes.

Every event carries the owner at its time: the latest recorded owner change at or before it, the old
owner of the first change before that, or — for deals whose owner changes were never recorded — the
owner at the snapshot, marked ``owner_inferred`` so that a later export's inference never overrides an
owner the store already knows for that moment.

The store then drops derived events that repeat the state already known just before them,
so re-ingesting an export adds nothing and consecutive exports of a CRM that keeps no
history build one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.ingest.canonical import CanonicalExport
from saleslead.ingest.convert import mask_of

__all__ = ["CANDIDATE_SCHEMA", "candidate_events"]

CANDIDATE_SCHEMA = pa.schema(
    [
        ("opportunity_id", pa.string()),
        ("changed_at", pa.timestamp("us")),
        ("stage", pa.string()),
        ("amount", pa.float64()),
        ("close_date", pa.date32()),
        ("probability", pa.float64()),
        ("forecast_category", pa.string()),
        ("owner_id", pa.string()),
        ("last_activity_date", pa.date32()),
        ("source", pa.string()),
        ("owner_inferred", pa.bool_()),
        ("deal", pa.int64()),  # the opportunity's row in the export
    ]
)


class _OwnerTimeline:
    """Who owned each opportunity at any moment, from the recorded owner changes."""

    def __init__(self, export: CanonicalExport, ids: pa.Array, current: pa.Array) -> None:
        changes = export.owner_changes
        self.size = len(ids)
        self.current = current
        position = pc.index_in(changes.column("opportunity_id"), value_set=ids)
        changes = changes.filter(pc.is_valid(position))
        pos = np.asarray(pc.index_in(changes.column("opportunity_id"), value_set=ids).to_numpy(zero_copy_only=False))
        times = _micros(changes.column("changed_at"))
        order = np.lexsort((times, pos))
        self.pos, self.times = pos[order].astype(np.int64), times[order]
        self.new = changes.column("new_owner_id").combine_chunks().take(pa.array(order))
        old = changes.column("old_owner_id").combine_chunks().take(pa.array(order))
        self.count = len(order)
        self.has = np.zeros(self.size, dtype=bool)
        self.has[self.pos] = True
        # The owner before a deal's first change: its old owner, else (not recorded) the current owner.
        first = np.r_[True, self.pos[1:] != self.pos[:-1]] if self.count else np.zeros(0, bool)
        self.before = current
        if self.count:
            first_rows = np.flatnonzero(first)
            old_first = old.take(pa.array(first_rows))
            slot = np.full(self.size, -1, dtype=np.int64)
            slot[self.pos[first_rows]] = np.arange(len(first_rows))
            picked = pc.take(old_first, pa.array(np.maximum(slot, 0)))
            self.before = pc.if_else(pa.array(slot >= 0), pc.coalesce(picked, current), current)
        # The owners ``at`` picks from in one take: before the first change (by deal), then after each change.
        self.owners = pa.concat_arrays([self.before, self.new.cast(self.before.type)]) if self.count else current
        self.stamps = np.unique(self.times)
        self.keys = self.pos * (len(self.stamps) + 1) + np.searchsorted(self.stamps, self.times, side="right")

    def at(self, pos: np.ndarray, when: np.ndarray) -> tuple[pa.Array, pa.Array]:
        """Owner of deals ``pos`` at instants ``when`` (µs), and whether it is only inferred."""
        pos = np.asarray(pos, dtype=np.int64)
        inferred = pa.array(~self.has[pos])
        if not self.count:
            return pc.take(self.current, pa.array(pos)), inferred
        key = pos * (len(self.stamps) + 1) + np.searchsorted(self.stamps, when, side="right")
        last = np.searchsorted(self.keys, key, side="right") - 1
        hit = (last >= 0) & (self.pos[np.maximum(last, 0)] == pos)
        return pc.take(self.owners, pa.array(np.where(hit, last + self.size, pos))), inferred

    def events(self, ids: pa.Array, first_time: np.ndarray) -> pa.Table | None:
        """One ``owner`` event per change made after the deal's first known event."""
        if not self.count:
            return None
        keep = self.times > first_time[self.pos]
        if not keep.any():
            return None
        rows = pa.array(np.flatnonzero(keep))
        size = int(keep.sum())
        return pa.table(
            {
                "opportunity_id": pc.take(ids, pa.array(self.pos[keep])),
                "changed_at": pa.array(self.times[keep], pa.int64()).cast(pa.timestamp("us")),
                "stage": pa.nulls(size, pa.string()),
                "amount": pa.nulls(size, pa.float64()),
                "close_date": pa.nulls(size, pa.date32()),
                "probability": pa.nulls(size, pa.float64()),
                "forecast_category": pa.nulls(size, pa.string()),
                "owner_id": pc.take(self.new, rows),
                "last_activity_date": pa.nulls(size, pa.date32()),
                "source": _repeat("owner", size),
                "owner_inferred": pa.array(np.zeros(size, dtype=bool)),
                "deal": pa.array(self.pos[keep]),
            },
            schema=CANDIDATE_SCHEMA,
        )


def _micros(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Timestamps as int64 microseconds (null: the smallest int64)."""
    as_int = pc.cast(pc.cast(values, pa.timestamp("us")), pa.int64())
    return np.asarray(pc.fill_null(as_int, np.iinfo(np.int64).min).to_numpy(zero_copy_only=False), dtype=np.int64)


def _last_open_stage(export: CanonicalExport) -> tuple[str | None, float | None]:
    """The open stage a closed deal without history is taken to have been in: the one closes come from."""
    open_stages = sorted((s for s in export.stages if not s.is_closed), key=lambda s: s.order)
    if not open_stages:
        return None, None
    return open_stages[-1].name, open_stages[-1].probability


def _column(table: pa.Table, name: str, rows: pa.Array | None = None) -> pa.Array:
    column = table.column(name).combine_chunks()
    return column if rows is None else pc.take(column, rows)


def _repeat(value: str, size: int) -> pa.Array:
    """One value on every row, without a Python list of ``size`` items."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(size, np.int32)), pa.array([value])).cast(pa.string())


@dataclass
class _DealMarks:
    """What the events found so far say of each deal (by its row): its first and last event (µs), whether the CRM
    kept history for it, and whether that history ends closed."""

    first_time: np.ndarray
    last_time: np.ndarray
    with_history: np.ndarray
    last_closed: np.ndarray

    @classmethod
    def nothing(cls, n: int) -> _DealMarks:
        big = np.iinfo(np.int64)
        return cls(
            first_time=np.full(n, big.max, dtype=np.int64),
            last_time=np.full(n, big.min, dtype=np.int64),
            with_history=np.zeros(n, dtype=bool),
            last_closed=np.zeros(n, dtype=bool),
        )


def candidate_events(export: CanonicalExport) -> pa.Table:
    """All candidate events of ``export`` in :data:`CANDIDATE_SCHEMA`, unsorted."""
    opps = export.opportunities
    ids = _column(opps, "opportunity_id")
    owners = _OwnerTimeline(export, ids, _column(opps, "owner_id"))
    seen = _DealMarks.nothing(opps.num_rows)
    parts: list[pa.Table] = []
    if export.history.num_rows:
        parts.append(_history_events(export, ids, owners, seen))
    is_closed = np.asarray(_column(opps, "is_closed").fill_null(False).to_numpy(zero_copy_only=False))
    created_us = _micros(_column(opps, "created_at"))
    snapshot = int(np.datetime64(export.snapshot_at.replace(tzinfo=None), "us").astype(np.int64))
    parts += _opening_events(export, ids, owners, seen, is_closed, created_us)
    parts += _closing_events(opps, owners, seen, is_closed, created_us, snapshot)
    changes = owners.events(ids, seen.first_time)
    if changes is not None:
        parts.append(changes)
    parts.append(_snapshot_events(opps, snapshot))
    return pa.concat_tables(parts)


def _history_events(export: CanonicalExport, ids: pa.Array, owners: _OwnerTimeline, seen: _DealMarks) -> pa.Table:
    """The CRM's own history rows of the export's deals, each with its owner at the time; notes what they show."""
    history = export.history
    position = pc.index_in(history.column("opportunity_id"), value_set=ids)
    if position.null_count:
        history = history.filter(pc.is_valid(position))
        position = pc.index_in(history.column("opportunity_id"), value_set=ids)
    pos = np.asarray(position.to_numpy(zero_copy_only=False), dtype=np.int64)
    seen.with_history[pos] = True
    times = _micros(history.column("changed_at"))
    owner, inferred = owners.at(pos, times)
    events = pa.table(
        {
            "opportunity_id": history.column("opportunity_id"),
            "changed_at": history.column("changed_at"),
            "stage": history.column("stage"),
            "amount": history.column("amount"),
            "close_date": history.column("close_date"),
            "probability": history.column("probability"),
            "forecast_category": history.column("forecast_category"),
            "owner_id": owner,
            "last_activity_date": pa.nulls(history.num_rows, pa.date32()),
            "source": _repeat("history", history.num_rows),
            "owner_inferred": inferred,
            "deal": pa.array(pos),
        },
        schema=CANDIDATE_SCHEMA,
    )
    closed_names = {s.name for s in export.stages if s.is_closed}
    closed_row = mask_of(pc.is_in(history.column("stage"), value_set=pa.array(sorted(closed_names), pa.string())))
    # Each deal's first and last history row: Arrow's stable sort by deal, then time.
    keys = pa.table({"deal": pos, "when": times})
    order = np.asarray(pc.sort_indices(keys, [("deal", "ascending"), ("when", "ascending")]).to_numpy())
    sorted_pos = pos[order]
    first_of = order[np.r_[True, sorted_pos[1:] != sorted_pos[:-1]]]
    last_of = order[np.r_[sorted_pos[1:] != sorted_pos[:-1], True]]
    seen.first_time[pos[first_of]] = times[first_of]
    seen.last_time[pos[last_of]] = times[last_of]
    seen.last_closed[pos[last_of]] = closed_row[last_of]
    return events


def _opening_events(
    export: CanonicalExport,
    ids: pa.Array,
    owners: _OwnerTimeline,
    seen: _DealMarks,
    is_closed: np.ndarray,
    created_us: np.ndarray,
) -> list[pa.Table]:
    """Opening events at the created date for the deals the CRM kept no history for (none, or one table)."""
    opps = export.opportunities
    created = _column(opps, "created_at")
    has_created = np.asarray(pc.is_valid(created).to_numpy(zero_copy_only=False))
    rows = np.flatnonzero(~seen.with_history & has_created)
    if not rows.size:
        return []
    first_stage, first_probability = _last_open_stage(export)
    take = pa.array(rows)
    closed_here = is_closed[rows]
    stage = _column(opps, "stage", take).to_numpy(zero_copy_only=False).astype(object)
    probability = _column(opps, "probability", take).to_numpy(zero_copy_only=False).astype(float)
    category = _column(opps, "forecast_category", take).to_numpy(zero_copy_only=False).astype(object)
    if first_stage is not None:
        stage[closed_here] = first_stage
        probability[closed_here] = np.nan if first_probability is None else first_probability
        category[closed_here] = None
    owner, inferred = owners.at(rows, created_us[rows])
    seen.first_time[rows] = created_us[rows]
    return [
        pa.table(
            {
                "opportunity_id": pc.take(ids, take),
                "changed_at": pc.take(created, take),
                "stage": pa.array(stage, pa.string()),
                "amount": _column(opps, "amount", take),
                "close_date": _column(opps, "close_date", take),
                "probability": pa.array(probability, pa.float64(), from_pandas=True),
                "forecast_category": pa.array(category, pa.string()),
                "owner_id": owner,
                "last_activity_date": pa.nulls(rows.size, pa.date32()),
                "source": _repeat("created", rows.size),
                "owner_inferred": inferred,
                "deal": pa.array(rows.astype(np.int64)),
            },
            schema=CANDIDATE_SCHEMA,
        )
    ]


def _closing_events(
    opps: pa.Table,
    owners: _OwnerTimeline,
    seen: _DealMarks,
    is_closed: np.ndarray,
    created_us: np.ndarray,
    snapshot: int,
) -> list[pa.Table]:
    """Closing events on the close date of closed deals whose history does not already end closed."""
    close_ts = pc.cast(_column(opps, "close_date"), pa.timestamp("us"))
    close_us = close_ts.cast(pa.int64()).fill_null(np.iinfo(np.int64).max).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(is_closed & ~seen.last_closed & (close_us <= snapshot))
    if not rows.size:
        return []
    when = np.maximum.reduce([close_us[rows], created_us[rows], seen.last_time[rows]])
    owner, inferred = owners.at(rows, when)
    stamps = pa.array(when, pa.int64()).cast(pa.timestamp("us"))
    return [_state_events(opps, pa.array(rows), stamps, "closed", owner, inferred)]


def _snapshot_events(opps: pa.Table, snapshot: int) -> pa.Table:
    """Every deal's state at the moment the export describes, with its owner then."""
    n = opps.num_rows
    everyone = pa.array(np.arange(n))
    when_all = pa.array(np.full(n, snapshot, dtype=np.int64)).cast(pa.timestamp("us"))
    known = pa.array(np.zeros(n, dtype=bool))
    return _state_events(opps, everyone, when_all, "snapshot", _column(opps, "owner_id"), known)


def _state_events(
    opps: pa.Table, take: pa.Array, when: pa.Array, source: str, owner: pa.Array, inferred: pa.Array
) -> pa.Table:
    size = len(take)
    return pa.table(
        {
            "opportunity_id": _column(opps, "opportunity_id", take),
            "changed_at": when,
            "stage": _column(opps, "stage", take),
            "amount": _column(opps, "amount", take),
            "close_date": _column(opps, "close_date", take),
            "probability": _column(opps, "probability", take),
            "forecast_category": _column(opps, "forecast_category", take),
            "owner_id": owner,
            # A closing event knows nothing of later activity; the snapshot carries it.
            "last_activity_date": (
                _column(opps, "last_activity_date", take) if source == "snapshot" else pa.nulls(size, pa.date32())
            ),
            "source": _repeat(source, size),
            "owner_inferred": inferred,
            "deal": pc.cast(take, pa.int64()),
        },
        schema=CANDIDATE_SCHEMA,
    )
