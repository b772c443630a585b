"""Shared last steps for every input shape: link tables, derive segments, stages and the snapshot."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.errors import InputError
from saleslead.ingest.build import ROW
from saleslead.ingest.canonical import (
    ACCOUNTS,
    ACTIVITIES,
    HISTORY,
    OPPORTUNITIES,
    OWNER_CHANGES,
    QUOTAS,
    USERS,
    CanonicalExport,
    StageInfo,
)
from saleslead.ingest.checks import check_history, check_opportunities, drop_orphans
from saleslead.ingest.convert import Problems, mask_of
from saleslead.ingest.settings import StageSetting
from saleslead.ingest.source import RawTable
from saleslead.ingest.stages import learn_stages

__all__ = ["UNASSIGNED", "UNKNOWN", "Parts", "band_segments", "finish", "lookup", "snapshot_of"]

UNKNOWN = "Unknown"
UNASSIGNED = "Unassigned"
_TS = pa.timestamp("us")


@dataclass
class Parts:
    """Typed tables (with ``_row``) and the raw files they came from, before the last steps."""

    source: str
    opportunities: pa.Table
    opportunities_raw: RawTable
    history: pa.Table | None = None
    history_raw: RawTable | None = None
    users: pa.Table | None = None
    accounts: pa.Table | None = None
    quotas: pa.Table | None = None
    activities: pa.Table | None = None
    owner_changes: pa.Table | None = None
    owner_changes_raw: RawTable | None = None
    files: tuple[str, ...] = ()
    #: report lines on what was read but not used
    notes: list[str] = field(default_factory=list)
    #: header spelling of the close-date column, for error reports
    close_date_column: str | None = None


def lookup(keys: pa.Array | pa.ChunkedArray, table: pa.Table, key: str, value: str) -> pa.Array:
    """``table[value]`` for each of ``keys`` matched on ``table[key]`` (null when absent)."""
    if table.num_rows == 0:
        return pa.nulls(len(keys), table.schema.field(value).type)
    positions = pc.index_in(keys, value_set=table.column(key).combine_chunks())
    return pc.take(table.column(value).combine_chunks(), positions)


def band_segments(employees: pa.Array | pa.ChunkedArray, bands: Mapping[str, tuple[int, int | None]]) -> pa.Array:
    """Segment name of each employee count by ``[min, max)`` bands; null outside every band."""
    result = pa.nulls(len(employees), pa.string())
    for name, (low, high) in bands.items():
        inside = pc.greater_equal(employees, low)
        if high is not None:
            inside = pc.and_(inside, pc.less(employees, high))
        result = pc.if_else(pc.and_(pc.is_null(result), pc.fill_null(inside, False)), name, result)
    return result


def _fill(values: pa.Array | pa.ChunkedArray, default: str) -> pa.Array | pa.ChunkedArray:
    return pc.fill_null(values, default)


def _set(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def _conform(table: pa.Table | None, schema: pa.Schema) -> pa.Table:
    if table is None:
        return schema.empty_table()
    return pa.table({f.name: pc.cast(table.column(f.name), f.type) for f in schema}, schema=schema)


def _max_timestamp(*values: pa.Array | pa.ChunkedArray | None) -> datetime | None:
    best: datetime | None = None
    for array in values:
        if array is None or len(array) == 0:
            continue
        top = pc.max(pc.cast(array, _TS)).as_py()
        if top is not None and (best is None or top > best):
            best = top
    return best


def snapshot_of(parts: Parts, modified: Sequence[pa.Array | pa.ChunkedArray]) -> datetime:
    """Latest modification stamp, else the latest date the data has already lived through."""
    stamped = _max_timestamp(*modified)
    if stamped is not None:
        return stamped
    opps = parts.opportunities
    closed = pc.fill_null(opps.column("is_closed"), False)
    seen = _max_timestamp(
        opps.column("created_at"),
        pc.filter(opps.column("close_date"), closed),
        opps.column("last_activity_date"),
        parts.history.column("changed_at") if parts.history is not None else None,
        parts.activities.column("activity_date") if parts.activities is not None else None,
        parts.owner_changes.column("changed_at") if parts.owner_changes is not None else None,
    )
    if seen is None:
        raise InputError(
            "cannot tell when this export was taken: it holds no dates",
            file=parts.opportunities_raw.name,
            hint="pass snapshot_at explicitly",
        )
    return seen


def _known_only(
    table: pa.Table | None, raw: RawTable | None, opps: pa.Table, what: str, problems: Problems
) -> pa.Table | None:
    """Rows of ``table`` whose opportunity is in the Opportunity file; the others are reported, never loaded."""
    if table is None or raw is None:
        return table
    known = pc.is_in(table.column("opportunity_id"), value_set=opps.column("opportunity_id"))
    unknown = mask_of(pc.invert(known))
    if not unknown.any():
        return table
    rows = table.column(ROW).to_numpy()[unknown]
    mask = np.zeros(raw.num_rows, dtype=bool)
    mask[rows] = True
    column = raw.find("OpportunityId") or raw.table.column_names[0]
    value = table.column("opportunity_id")[int(np.flatnonzero(unknown)[0])].as_py()
    problems.flag(
        raw,
        mask,
        column,
        f"{what} row for unknown opportunity {value!r}",
        f"expected each {what} row to name an opportunity of the Opportunity file; such rows are never loaded",
    )
    return table.filter(pa.array(~unknown))


def finish(
    parts: Parts,
    *,
    problems: Problems,
    configured: Sequence[StageSetting],
    bands: Mapping[str, tuple[int, int | None]],
    snapshot_at: datetime | None,
    modified: Sequence[pa.Array | pa.ChunkedArray] = (),
    adjust: Callable[[pa.Table, datetime], pa.Table] | None = None,
) -> CanonicalExport:
    """Link, derive and check; return the canonical export."""
    parts.history = _known_only(parts.history, parts.history_raw, parts.opportunities, "history", problems)
    parts.owner_changes = _known_only(
        parts.owner_changes, parts.owner_changes_raw, parts.opportunities, "owner change", problems
    )
    opps = parts.opportunities
    known = opps.column("opportunity_id")
    if parts.activities is not None:
        parts.activities = parts.activities.filter(
            pc.and_(
                pc.is_in(parts.activities.column("opportunity_id"), value_set=known),
                pc.is_valid(parts.activities.column("activity_date")),
            )
        )
    accounts = parts.accounts
    if accounts is not None:
        accounts = _set(
            accounts,
            "segment",
            pc.coalesce(accounts.column("segment"), band_segments(accounts.column("employees"), bands)),
        )
        parts.accounts = accounts
    segment = opps.column("segment")
    if accounts is not None:
        segment = pc.coalesce(segment, lookup(opps.column("account_id"), accounts, "account_id", "segment"))
    opps = _set(opps, "segment", _fill(segment, UNASSIGNED))
    opps = _set(opps, "motion", _fill(opps.column("motion"), UNKNOWN))
    opps = _set(opps, "channel", _fill(opps.column("channel"), UNKNOWN))
    history = parts.history if parts.history is not None else HISTORY.empty_table()
    stages = learn_stages(opps, history, configured)
    opps = _stage_flags(opps, stages)
    parts.opportunities = opps
    snapshot = snapshot_at if snapshot_at is not None else snapshot_of(parts, modified)
    if snapshot.tzinfo is not None:
        snapshot = snapshot.astimezone(UTC).replace(tzinfo=None)
    if adjust is not None:
        opps = adjust(opps, snapshot)
    opps = _require_close_dates(opps, parts.opportunities_raw, parts.close_date_column, problems)
    opps = check_opportunities(opps, parts.opportunities_raw, snapshot, stages, parts.users, problems, parts.notes)
    parts.history = drop_orphans(check_history(parts.history, parts.history_raw, snapshot, problems), opps)
    parts.owner_changes = drop_orphans(parts.owner_changes, opps)
    parts.activities = drop_orphans(parts.activities, opps)
    return CanonicalExport(
        source=parts.source,
        snapshot_at=snapshot,
        opportunities=_conform(opps, OPPORTUNITIES),
        history=_conform(parts.history, HISTORY),
        users=_conform(parts.users, USERS),
        accounts=_conform(parts.accounts, ACCOUNTS),
        quotas=_conform(parts.quotas, QUOTAS),
        activities=_conform(parts.activities, ACTIVITIES),
        owner_changes=_conform(parts.owner_changes, OWNER_CHANGES),
        stages=stages,
        has_history=parts.history is not None and parts.history.num_rows > 0,
        files=parts.files,
        rejected=tuple(problems.rejected),
        notes=tuple(parts.notes),
    )


def _stage_flags(opps: pa.Table, stages: tuple[StageInfo, ...]) -> pa.Table:
    """Fill IsClosed/IsWon from the stage ladder where the file did not say."""
    if not stages:
        return opps
    ladder = pa.table(
        {
            "stage": [s.name for s in stages],
            "is_closed": [s.is_closed for s in stages],
            "is_won": [s.is_won for s in stages],
        }
    )
    for flag in ("is_closed", "is_won"):
        filled = pc.coalesce(opps.column(flag), lookup(opps.column("stage"), ladder, "stage", flag))
        opps = _set(opps, flag, filled)
    return opps


def _require_close_dates(opps: pa.Table, raw: RawTable, column: str | None, problems: Problems) -> pa.Table:
    """Every opportunity must end up with a close date (open ones: the expected close)."""
    blank = mask_of(pc.is_null(opps.column("close_date")))
    if not blank.any():
        return opps
    mask = np.zeros(raw.num_rows, dtype=bool)
    mask[opps.column(ROW).to_numpy()[blank]] = True
    problems.flag(raw, mask, column, "close date is blank", "expected a close date on every opportunity")
    return opps.filter(pa.array(~blank))
