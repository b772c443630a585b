"""Checks across fields and files, made once the export's date and stage ladder are known.

Refused (strict) or quarantined (``--quarantine``), each naming file, line and column:

* a close date more than :data:`CLOSE_HORIZON_YEARS` years after the export's date;
* a created date, or a history event, later than the export's date (the export cannot know it);
* ``IsWon`` true on a deal that is not closed, or ``IsClosed``/``IsWon`` contradicting its stage.

Accepted, with a note naming the rows (Salesforce allows them and real orgs have them):

* a close date before the created date (deals entered after the fact);
* an owner the User file does not list (users deactivated or left out of the export).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from saleslead.ingest.build import ROW
from saleslead.ingest.canonical import StageInfo
from saleslead.ingest.convert import Problems, mask_of
from saleslead.ingest.source import RawTable

__all__ = ["CLOSE_HORIZON_YEARS", "check_history", "check_opportunities", "drop_orphans"]

CLOSE_HORIZON_YEARS = 20
#: A timestamp may run this far past the export's date (time zones, a snapshot given as a day).
_SLACK = timedelta(days=1)
_LISTED = 10


def _raw_mask(table: pa.Table, raw: RawTable, rows: np.ndarray) -> np.ndarray:
    mask = np.zeros(raw.num_rows, dtype=bool)
    mask[table.column(ROW).to_numpy()[rows]] = True
    return mask


def _flag(
    table: pa.Table, raw: RawTable, bad: np.ndarray, column: str, reason: str, hint: str, problems: Problems
) -> np.ndarray:
    if bad.any():
        problems.flag(raw, _raw_mask(table, raw, bad), raw.find(column) or column, reason, hint)
    return bad


def _first(table: pa.Table, column: str, mask: np.ndarray) -> object:
    return table.column(column)[int(np.flatnonzero(mask)[0])].as_py()


def check_opportunities(
    opps: pa.Table,
    raw: RawTable,
    snapshot: datetime,
    stages: tuple[StageInfo, ...],
    users: pa.Table | None,
    problems: Problems,
    notes: list[str],
) -> pa.Table:
    """Refuse or quarantine impossible deals; note the merely odd ones. Returns the deals kept."""
    bad = np.zeros(opps.num_rows, dtype=bool)
    horizon = snapshot.date().replace(year=snapshot.year + CLOSE_HORIZON_YEARS)
    late = mask_of(pc.greater(opps.column("close_date"), pa.scalar(horizon, pa.date32())))
    bad |= _flag(
        opps, raw, late, "CloseDate",
        f"CloseDate {_first(opps, 'close_date', late) if late.any() else ''} is more than "
        f"{CLOSE_HORIZON_YEARS} years after the export's date {snapshot.date()}",
        "expected a planned close date within the next few years", problems,
    )  # fmt: skip
    future = mask_of(pc.greater(opps.column("created_at"), pa.scalar(snapshot + _SLACK, pa.timestamp("us")))) & ~bad
    bad |= _flag(
        opps, raw, future, "CreatedDate",
        f"CreatedDate {_first(opps, 'created_at', future) if future.any() else ''} is after the export's date "
        f"{snapshot:%Y-%m-%d %H:%M}",
        "expected deals created before the export was taken (check the snapshot date)", problems,
    )  # fmt: skip
    won = pc.fill_null(opps.column("is_won"), False)
    open_won = mask_of(pc.and_(won, pc.invert(pc.fill_null(opps.column("is_closed"), True)))) & ~bad
    bad |= _flag(
        opps, raw, open_won, "IsWon", "IsWon is true but IsClosed is false",
        "expected a won deal to be closed", problems,
    )  # fmt: skip
    bad |= _contradicting(opps, raw, stages, bad, problems)
    _note_close_before_created(opps, raw, bad, notes)
    _note_unknown_owners(opps, raw, users, bad, notes)
    return opps.filter(pa.array(~bad)) if bad.any() else opps


def _contradicting(
    opps: pa.Table, raw: RawTable, stages: tuple[StageInfo, ...], bad: np.ndarray, problems: Problems
) -> np.ndarray:
    """Deals whose IsClosed/IsWon say the opposite of what their stage is."""
    if not stages:
        return np.zeros(opps.num_rows, dtype=bool)
    names = pa.array([s.name for s in stages])
    position = pc.index_in(opps.column("stage"), value_set=names)
    found = bad.copy()
    for flag, column in (("is_closed", "IsClosed"), ("is_won", "IsWon")):
        ladder = pc.take(pa.array([getattr(s, flag) for s in stages]), position)
        differs = mask_of(pc.not_equal(opps.column(flag), ladder)) & ~found
        if differs.any():
            row = int(np.flatnonzero(differs)[0])
            stage = opps.column("stage")[row].as_py()
            given = opps.column(flag)[row].as_py()
            info = next(s for s in stages if s.name == stage)
            kind = "won" if info.is_won else ("lost" if info.is_closed else "open")
            problems.flag(
                raw,
                _raw_mask(opps, raw, differs),
                raw.find(column) or column,
                f"{column} is {str(given).lower()} but the stage {stage!r} is a {kind} stage",
                "expected IsClosed/IsWon to agree with the stage (most deals at that stage say it is "
                f"{kind}); correct the flags or the stage",
            )
            found |= differs
    return np.asarray(found & ~bad, dtype=bool)


def _lines(opps: pa.Table, raw: RawTable, mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)
    lines = raw.lines(opps.column(ROW).to_numpy()[rows[:_LISTED]])
    more = f" and {rows.size - _LISTED:,} more" if rows.size > _LISTED else ""
    return ", ".join(str(line) for line in lines) + more


def _note_close_before_created(opps: pa.Table, raw: RawTable, bad: np.ndarray, notes: list[str]) -> None:
    created = pc.cast(opps.column("created_at"), pa.date32())
    early = mask_of(pc.less(opps.column("close_date"), created)) & ~bad
    if early.any():
        notes.append(
            f"{raw.name}: CloseDate before CreatedDate on {int(early.sum()):,} deal(s), lines "
            f"{_lines(opps, raw, early)}: kept as given (deals entered after they closed)"
        )


def _note_unknown_owners(
    opps: pa.Table, raw: RawTable, users: pa.Table | None, bad: np.ndarray, notes: list[str]
) -> None:
    if users is None or users.num_rows == 0:
        return
    owners = opps.column("owner_id")
    unknown = mask_of(pc.and_(pc.is_valid(owners), pc.invert(pc.is_in(owners, value_set=users.column("user_id")))))
    unknown &= ~bad
    if unknown.any():
        missing = sorted({str(v) for v in pc.filter(owners, pa.array(unknown)).to_pylist()})
        shown = ", ".join(missing[:_LISTED]) + (f" and {len(missing) - _LISTED} more" if len(missing) > _LISTED else "")
        notes.append(
            f"{raw.name}: OwnerId not in the User file on {int(unknown.sum()):,} deal(s), lines "
            f"{_lines(opps, raw, unknown)} (owners {shown}): kept; they have no name, manager or start date"
        )


def check_history(
    history: pa.Table | None, raw: RawTable | None, snapshot: datetime, problems: Problems
) -> pa.Table | None:
    """Refuse or quarantine history events dated after the export's date."""
    if history is None or raw is None or history.num_rows == 0:
        return history
    limit = pa.scalar(snapshot + _SLACK, pa.timestamp("us"))
    future = mask_of(pc.greater(history.column("changed_at"), limit))
    if not future.any():
        return history
    when = _first(history, "changed_at", future)
    _flag(
        history, raw, future, "CreatedDate",
        f"a history event dated {when} is after the export's date {snapshot:%Y-%m-%d %H:%M}",
        "expected history up to the moment the export was taken (check the snapshot date)", problems,
    )  # fmt: skip
    return history.filter(pa.array(~future))


def drop_orphans(table: pa.Table | None, opps: pa.Table) -> pa.Table | None:
    """Rows of a deal quarantined by the checks above go with it (its own line names the reason)."""
    if table is None or table.num_rows == 0:
        return table
    known = pc.is_in(table.column("opportunity_id"), value_set=opps.column("opportunity_id"))
    return table if pc.all(known).as_py() else table.filter(known)
