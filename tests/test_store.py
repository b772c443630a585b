"""The store: migrations, all-or-nothing idempotent ingest, history built from snapshots, records."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from saleslead.errors import NotFoundError, StoreError
from saleslead.store import Store
from saleslead.store.location import SCHEMA_VERSION
from saleslead.store.records import Records
from saleslead.store.schema import MIGRATIONS

from .builders import export

OPEN_A = {
    "opportunity_id": "A",
    "created_at": datetime(2025, 1, 1),
    "stage": "Propose",
    "amount": 100.0,
    "close_date": date(2025, 3, 31),
    "is_closed": False,
    "is_won": False,
    "owner_id": "u1",
}
WON_B = {
    "opportunity_id": "B",
    "created_at": datetime(2025, 1, 5),
    "stage": "Won",
    "amount": 50.0,
    "close_date": date(2025, 2, 10),
    "is_closed": True,
    "is_won": True,
    "owner_id": "u1",
}


@pytest.fixture
def store(any_store: Store) -> Store:
    return any_store


def test_the_schema_version_counts_the_migrations() -> None:
    assert len(MIGRATIONS) == SCHEMA_VERSION


def test_new_store_is_migrated_to_current_version(store: Store) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    assert store.count("history") == 0


def test_store_newer_than_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store.open(path).close()
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        Store.open(path)


def test_same_export_twice_changes_nothing(store: Store) -> None:
    first = store.ingest(export(datetime(2025, 3, 1), [OPEN_A, WON_B]))
    assert first.opportunities_new == 2
    # A: opened on its created date; B: opened (inferred: the last open stage) and closed on its close date.
    assert first.history_added == 3
    rows_before = store.count("history")
    again = store.ingest(export(datetime(2025, 3, 1), [OPEN_A, WON_B]))
    assert again.history_added == 0
    assert again.opportunities_new == 0
    assert again.unchanged
    assert store.count("history") == rows_before
    assert store.count("opportunities") == 2


def test_consecutive_snapshots_become_history(store: Store) -> None:
    store.ingest(export(datetime(2025, 3, 1), [OPEN_A, WON_B]))
    later_a = dict(OPEN_A, amount=120.0, close_date=date(2025, 4, 30))
    new_c = {
        "opportunity_id": "C",
        "stage": "Qualify",
        "amount": 10.0,
        "close_date": date(2025, 5, 30),
        "is_closed": False,
        "is_won": False,
    }
    outcome = store.ingest(export(datetime(2025, 3, 8), [later_a, WON_B, new_c]))
    assert outcome.opportunities_new == 1
    assert outcome.history_added == 2  # A changed at the second snapshot; C first seen then
    events = store.table("history").order_by("seq").to_pyarrow().to_pylist()
    a_events = [e for e in events if e["opportunity_id"] == "A"]
    assert [(e["amount"], e["source"]) for e in a_events] == [(100.0, "created"), (120.0, "snapshot")]
    assert a_events[1]["changed_at"] == datetime(2025, 3, 8)
    # The earlier, inferred past of A is not rewritten by the later export.
    assert a_events[0]["close_date"] == date(2025, 3, 31)
    first_seen = store.table("opportunities").filter(lambda t: t.opportunity_id == "C").to_pyarrow().to_pylist()
    assert first_seen[0]["created_at"] is None
    assert first_seen[0]["first_seen_at"] == datetime(2025, 3, 8)


def test_failed_ingest_leaves_store_unchanged(store: Store) -> None:
    store.ingest(export(datetime(2025, 3, 1), [OPEN_A]))
    before = (store.count("opportunities"), store.count("history"), store.count("ingests"))
    bad = export(datetime(2025, 3, 8), [dict(OPEN_A, amount=999.0), WON_B])
    # Users whose table does not fit the store's schema fail after the deals were written.
    broken = type(bad)(**{**bad.__dict__, "users": pa.table({"user_id": ["u1"]})})
    with pytest.raises(KeyError):
        store.ingest(broken)
    after = (store.count("opportunities"), store.count("history"), store.count("ingests"))
    assert after == before
    amounts = store.table("history").amount.to_pyarrow().to_pylist()
    assert 999.0 not in amounts


def test_crm_history_rows_are_kept_and_not_duplicated(store: Store) -> None:
    history = [
        {
            "opportunity_id": "A",
            "changed_at": datetime(2025, 1, 1),
            "stage": "Qualify",
            "amount": 80.0,
            "close_date": date(2025, 3, 1),
        },
        {
            "opportunity_id": "A",
            "changed_at": datetime(2025, 2, 1),
            "stage": "Propose",
            "amount": 100.0,
            "close_date": date(2025, 3, 31),
        },
    ]
    store.ingest(export(datetime(2025, 3, 1), [OPEN_A], history))
    # The snapshot repeats the last history row, so it adds nothing.
    assert store.count("history") == 2
    store.ingest(export(datetime(2025, 3, 1), [OPEN_A], history))
    assert store.count("history") == 2


def test_records_are_versioned_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store.open(path) as store:
        records = Records(store, "acme")
        records.put("plan", "2026-Q1", {"goal": 100}, author="cro")
        records.put("plan", "2026-Q1", {"goal": 120}, author="cro")
        Records(store, "other").put("plan", "2026-Q1", {"goal": 1}, author="x")
    with Store.open(path) as store:
        records = Records(store, "acme")
        versions = records.history("plan", "2026-Q1")
        assert [v.payload["goal"] for v in versions] == [100, 120]
        assert [v.version for v in versions] == [1, 2]
        assert records.get("plan", "2026-Q1").payload == {"goal": 120}
        acked = records.set_status("plan", "2026-Q1", "done", author="cro")
        assert acked.status == "done"
        assert acked.record_id == versions[-1].record_id
        assert len(records.current("plan")) == 1
        with pytest.raises(NotFoundError):
            records.get("plan", "2027-Q1")


def test_events_at_the_same_moment_are_not_written_again(store: Store) -> None:
    """Two changes recorded in the same second: an export read again adds neither (whatever their file order)."""
    base = {"opportunity_id": "A", "stage": "Propose", "amount": 100.0}
    history = [
        dict(base, changed_at=datetime(2025, 1, 1), close_date=date(2025, 3, 1)),
        dict(base, changed_at=datetime(2025, 2, 1, 9), close_date=date(2025, 3, 1), amount=90.0),
        dict(base, changed_at=datetime(2025, 2, 1, 9), close_date=date(2025, 3, 31), amount=90.0),
    ]
    deal = dict(OPEN_A, amount=90.0)
    store.ingest(export(datetime(2025, 3, 1), [deal], history))
    before = store.count("history")
    again = store.ingest(export(datetime(2025, 3, 1), [deal], history))
    assert again.history_added == 0
    assert again.unchanged
    swapped = store.ingest(export(datetime(2025, 3, 1), [deal], [history[0], history[2], history[1]]))
    assert swapped.history_added == 0
    assert store.count("history") == before
    later = store.ingest(export(datetime(2025, 3, 8), [dict(deal, stage="Won", is_closed=True, is_won=True)], history))
    assert later.history_added == 1  # the deal closed: one snapshot event, nothing of the past again
    assert store.count("history") == before + 1
