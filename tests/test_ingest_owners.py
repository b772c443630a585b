"""Owner changes (Salesforce OpportunityFieldHistory, Field = Owner): every past event knows its owner."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from saleslead.demo.people import Roster, owner_as_of, owner_changes
from saleslead.errors import InputError, SchemaError
from saleslead.funnel import state_as_of
from saleslead.ingest import read_export
from saleslead.seat import IngestRequest, open_seat

USERS = (
    "Id,Name,Title,ManagerId,IsActive,CreatedDate\n"
    "005000000000001AAA,Ann Lee,AE,,true,2023-01-02T08:00:00Z\n"
    "005000000000002AAA,Bob Roy,AE,,true,2023-01-02T08:00:00Z\n"
    "005000000000003AAA,Cy Dunn,AE,,true,2023-01-02T08:00:00Z\n"
    "005000000000004AAA,Cy Dunn,AE,,true,2023-01-02T08:00:00Z\n"
)
ANN, BOB, CY = "005000000000001AAA", "005000000000002AAA", "005000000000003AAA"
OPPS = (
    "Id,OwnerId,Name,Amount,StageName,Probability,CloseDate,CreatedDate,IsClosed,IsWon\n"
    f"o1,{CY},One,1000,Propose,50,2024-06-30,2024-01-05T09:00:00Z,false,false\n"
    f"o2,{BOB},Two,2000,Discover,10,2024-06-30,2024-01-06T09:00:00Z,false,false\n"
    f"o3,{ANN},Three,3000,Discover,10,2024-06-30,2024-01-07T09:00:00Z,false,false\n"
)
HISTORY = (
    "OpportunityId,CreatedDate,StageName,Amount,CloseDate,Probability,ForecastCategory\n"
    "o1,2024-01-05T09:00:00Z,Discover,1000,2024-06-30,10,Pipeline\n"
    "o1,2024-02-20T09:00:00Z,Propose,1000,2024-06-30,50,Pipeline\n"
    "o2,2024-01-06T09:00:00Z,Discover,2000,2024-06-30,10,Pipeline\n"
    "o3,2024-01-07T09:00:00Z,Discover,3000,2024-06-30,10,Pipeline\n"
)
FIELD_HEADER = "Id,OpportunityId,CreatedDate,Field,DataType,OldValue,NewValue\n"
# o1: Ann → Bob on 2024-02-01 (id row and name row), Bob → Cy on 2024-03-01 (15-character ids only);
# o2: Ann → Bob on 2024-01-10, written with names only; a row for another field.
FIELDS = (
    FIELD_HEADER + f"f1,o1,2024-02-01T10:00:00Z,Owner,EntityId,{ANN},{BOB}\n"
    "f2,o1,2024-02-01T10:00:00Z,Owner,Text,Ann Lee,Bob Roy\n"
    f"f3,o1,2024-03-01T10:00:00Z,Owner,EntityId,{BOB[:15]},{CY[:15]}\n"
    "f4,o2,2024-01-10T10:00:00Z,Owner,Text,Ann Lee,Bob Roy\n"
    "f5,o2,2024-01-12T10:00:00Z,StageName,Text,Discover,Discover\n"
)


def export(folder: Path, fields: str | None = FIELDS, opps: str = OPPS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "User.csv").write_text(USERS)
    (folder / "Opportunity.csv").write_text(opps)
    (folder / "OpportunityHistory.csv").write_text(HISTORY)
    if fields is not None:
        (folder / "OpportunityFieldHistory.csv").write_text(fields)
    return folder


def owners(store_path: Path, day: date) -> dict[str, str]:
    with open_seat(store_path) as seat:
        rows = state_as_of(seat.store, day).select("opportunity_id", "owner_id").to_pyarrow().to_pylist()
    return {r["opportunity_id"]: r["owner_id"] for r in rows}


def test_the_owner_as_of_a_date_follows_the_recorded_changes(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    with open_seat(store) as seat:
        report = seat.ingest(IngestRequest(path=export(tmp_path / "x")))
    assert report.rows_read["owner_changes"] == 3
    assert any("rows for fields other than the owner" in note for note in report.notes)
    assert any("repeat an owner change with names" in note for note in report.notes)
    assert owners(store, date(2024, 1, 8)) == {"o1": ANN, "o2": ANN, "o3": ANN}
    assert owners(store, date(2024, 1, 31)) == {"o1": ANN, "o2": BOB, "o3": ANN}
    # The stage change of 2024-02-20 happened while Bob held o1; the 15-character ids map to the User file's.
    assert owners(store, date(2024, 2, 25)) == {"o1": BOB, "o2": BOB, "o3": ANN}
    assert owners(store, date(2024, 3, 1)) == {"o1": CY, "o2": BOB, "o3": ANN}
    with open_seat(store) as seat:
        events = seat.store.table("history").filter(lambda t: t.opportunity_id == "o1").order_by("seq")
        rows = events.select("changed_at", "stage", "owner_id", "source").to_pyarrow().to_pylist()
    assert [(r["stage"], r["owner_id"], r["source"]) for r in rows[:4]] == [
        ("Discover", ANN, "history"),
        ("Discover", BOB, "owner"),
        ("Propose", BOB, "history"),
        ("Propose", CY, "owner"),
    ]


def test_the_same_export_again_adds_nothing(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    folder = export(tmp_path / "x")
    with open_seat(store) as seat:
        seat.ingest(IngestRequest(path=folder))
        before = seat.store.count("history")
        again = seat.ingest(IngestRequest(path=folder))
        assert again.history_added == 0
        assert seat.store.count("history") == before


def test_without_field_history_a_reassignment_does_not_rewrite_the_past(tmp_path: Path) -> None:
    """Two exports, the deal handed from Ann to Bob in between: the stored events keep the owner they had."""
    store = tmp_path / "s.duckdb"
    first = export(tmp_path / "jan", fields=None)
    second = export(tmp_path / "feb", fields=None, opps=OPPS.replace(f"o3,{ANN},Three", f"o3,{BOB},Three"))
    with open_seat(store) as seat:
        seat.ingest(IngestRequest(path=first, snapshot_at=datetime(2024, 3, 1)))
        before = seat.store.count("history")
        report = seat.ingest(IngestRequest(path=second, snapshot_at=datetime(2024, 4, 1)))
        # Only the new snapshot of o3 (its owner changed) is new: no history row is written again.
        assert report.history_added == 1
        assert seat.store.count("history") == before + 1
    assert owners(store, date(2024, 3, 15))["o3"] == ANN
    assert owners(store, date(2024, 4, 1))["o3"] == BOB


def test_names_that_match_no_single_user_are_reported_not_used(tmp_path: Path) -> None:
    fields = FIELD_HEADER + "f1,o3,2024-02-01T10:00:00Z,Owner,Text,Ann Lee,Cy Dunn\n"
    exported = read_export(export(tmp_path / "x", fields=fields))
    assert exported.owner_changes.num_rows == 0
    assert any("name no known user" in note for note in exported.notes)


def test_a_change_for_an_unknown_opportunity_names_file_line_and_column(tmp_path: Path) -> None:
    fields = FIELDS + f"f9,o9,2024-02-01T10:00:00Z,Owner,EntityId,{ANN},{BOB}\n"
    folder = export(tmp_path / "x", fields=fields)
    with pytest.raises(InputError) as caught:
        read_export(folder)
    assert caught.value.file == "OpportunityFieldHistory.csv"
    assert caught.value.line == 7
    assert caught.value.column == "OpportunityId"
    assert "unknown opportunity 'o9'" in caught.value.message
    lenient = read_export(folder, strict=False)
    assert lenient.owner_changes.num_rows == 3
    assert [(r[0], r[1]) for r in lenient.rejected] == [("OpportunityFieldHistory.csv", 7)]


def test_a_field_history_without_new_values_is_refused(tmp_path: Path) -> None:
    folder = export(tmp_path / "x", fields="Id,OpportunityId,CreatedDate,Field,OldValue\nf1,o1,2024-02-01,Owner,x\n")
    with pytest.raises(SchemaError, match="NewValue"):
        read_export(folder)


def test_demo_owner_changes_replay_owner_as_of_at_every_moment() -> None:
    """The demo's field history, applied up to any instant, gives the owner its export at that instant shows."""
    day = 86_400
    never = np.iinfo(np.int64).max // 4
    # 0 CRO; 1 manager; 2 AE leaves end of day 10, backfill 3 starts day 30; 3 leaves end of day 60 with
    # no backfill; 4 AE stays.
    roster = Roster(
        role=np.array([0, 2, 3, 3, 3], dtype=np.int8),
        title=["CRO", "Manager", "AE", "AE", "AE"],
        segment=np.zeros(5, dtype=np.int64),
        manager=np.array([-1, 0, 1, 1, 1]),
        hire_day=np.array([0, 0, 0, 30, 0]),
        end_day=np.array([never, never, 11, 61, never]),
        successor=np.array([-1, -1, 3, -1, -1]),
        ramp_days=np.zeros(5, dtype=np.int64),
    )
    owner = np.array([2, 2, 4, 3], dtype=np.int64)
    until = np.array([never, 20 * day, never, never], dtype=np.int64)  # deal 1 closes on day 20
    created = np.array([1, 2, 3, 35], dtype=np.int64) * day
    cut = 100 * day
    record, when, old, new = owner_changes(roster, owner, until, created, cut)
    assert list(zip(record.tolist(), (when // 3600).tolist(), old.tolist(), new.tolist(), strict=True)) == [
        (0, 10 * 24 + 18, 2, 1),  # Ann leaves: her manager holds the deal ...
        (0, 30 * 24, 1, 3),  # ... until her backfill starts
        (0, 60 * 24 + 18, 3, 1),  # the backfill leaves without one
        (1, 10 * 24 + 18, 2, 1),  # closed on day 20, before the backfill came: it stays with the manager
        (3, 60 * 24 + 18, 3, 1),
    ]
    for at in range(0, cut, 7_919):
        holder = owner.copy()
        for r, w, n in zip(record, when, new, strict=True):
            if w <= at and created[r] <= at:
                holder[r] = n
        live = created <= at
        assert (holder[live] == owner_as_of(roster, owner, until, at)[live]).all(), at


def test_a_field_history_with_a_header_and_no_rows_means_no_changes(tmp_path: Path) -> None:
    exported = read_export(export(tmp_path / "x", fields=FIELD_HEADER))
    assert exported.owner_changes.num_rows == 0
    assert "OpportunityFieldHistory.csv" in exported.files
