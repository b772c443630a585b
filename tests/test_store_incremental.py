"""Incremental ingest: only the deals whose evidence changed are rewritten, and the store ends exactly as when
every deal of the export is merged (the path a store without stored evidence takes)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from saleslead.demo import DemoConfig, generate
from saleslead.ingest import read_export
from saleslead.ingest.canonical import CanonicalExport
from saleslead.store import Store

END = date(2025, 6, 30)
SNAPSHOT = datetime(2025, 6, 30, 23, 0)


@pytest.fixture(scope="module")
def week_one(tmp_path_factory: pytest.TempPathFactory) -> CanonicalExport:
    folder = tmp_path_factory.mktemp("incremental") / "export"
    generate(folder, DemoConfig(opportunities=400, seed=5, start=date(2024, 1, 1), end=END))
    return read_export(folder, snapshot_at=SNAPSHOT)


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, values)


def week_two(one: CanonicalExport) -> tuple[CanonicalExport, set[str]]:
    """A week later: every 9th deal re-priced, five open deals with a new CRM history row, three deals with a new
    activity, one new deal and an account renamed. Returns the export and the ids of the deals that changed."""
    opps = one.opportunities
    ids = opps.column("opportunity_id").to_pylist()
    repriced = np.arange(opps.num_rows) % 9 == 0
    amounts = pc.if_else(pa.array(repriced), pc.multiply(opps.column("amount"), 1.1), opps.column("amount"))
    opps = _set(opps, "amount", amounts)
    changed = {ids[i] for i in np.flatnonzero(repriced)}

    open_rows = [i for i in np.flatnonzero(~repriced) if not opps.column("is_closed")[int(i)].as_py()][:5]
    moved = opps.take(pa.array(open_rows))
    at = pa.array([SNAPSHOT + timedelta(days=3)] * len(open_rows), pa.timestamp("us"))
    rows = {name: moved.column(name) for name in one.history.column_names if name != "changed_at"}
    history = pa.concat_tables([one.history, pa.table({**rows, "changed_at": at}).select(one.history.column_names)])
    changed |= {ids[i] for i in open_rows}

    touched = [ids[i] for i in np.flatnonzero(~repriced)[10:13]]
    # ... and one naming a deal the export does not hold (kept as always)
    extra = pa.table(
        {"opportunity_id": [*touched, "GHOST"], "activity_date": [date(2025, 7, 2)] * 4}, one.activities.schema
    )
    changed |= set(touched)

    newcomer = _set(opps.slice(1, 1), "opportunity_id", pa.array(["NEW-1"]))
    accounts = one.accounts
    renamed = _set(accounts, "name", pa.array(["Renamed Inc", *accounts.column("name").to_pylist()[1:]]))
    two = replace(
        one,
        snapshot_at=SNAPSHOT + timedelta(days=7),
        opportunities=pa.concat_tables([opps, newcomer]),
        history=history,
        activities=pa.concat_tables([one.activities, extra]),
        accounts=renamed,
    )
    return two, changed


def _contents(store: Store) -> dict[str, list[dict[str, object]]]:
    keys = {
        "history": ["opportunity_id", "seq"],
        "opportunities": ["opportunity_id"],
        "activities": ["opportunity_id", "activity_date"],
        "accounts": ["account_id"],
        "users": ["user_id"],
        "quotas": ["owner_id", "start_date"],
        "deal_evidence": ["opportunity_id"],
    }
    return {
        name: store.table(name).to_pyarrow().sort_by([(k, "ascending") for k in key]).to_pylist()
        for name, key in keys.items()
    }


def test_only_changed_deals_are_rewritten_and_the_store_ends_as_a_whole_merge(
    week_one: CanonicalExport, tmp_path: Path
) -> None:
    two, changed = week_two(week_one)
    with Store.open(tmp_path / "incremental.duckdb") as store:
        store.ingest(week_one)
        before = store.table("history").to_pyarrow()
        outcome = store.ingest(two)
        incremental = _contents(store)
        after = store.table("history").to_pyarrow()
    assert outcome.opportunities_new == 1
    assert outcome.opportunities_updated == len(changed)
    assert outcome.opportunities_unchanged == week_one.opportunities.num_rows - len(changed)
    assert outcome.history_added > 0
    assert not outcome.unchanged
    # The deals that did not change kept their stored rows, sequence numbers included.
    untouched = pc.invert(pc.is_in(before.column("opportunity_id"), pa.array(sorted(changed | {"NEW-1"}))))
    kept = before.filter(untouched).sort_by("seq")
    assert after.filter(pc.is_in(after.column("seq"), kept.column("seq"))).sort_by("seq").equals(kept)

    with Store.open(tmp_path / "whole.duckdb") as store:
        store.ingest(week_one)
        store.backend.raw_sql("DELETE FROM deal_evidence")  # as a store migrated from before the evidence
        whole = store.ingest(two)
        assert whole.opportunities_updated == week_one.opportunities.num_rows
        assert whole.history_added == outcome.history_added
        assert _contents(store) == incremental


def test_an_unchanged_export_rewrites_nothing_and_says_so(week_one: CanonicalExport, tmp_path: Path) -> None:
    two, _ = week_two(week_one)
    with Store.open(tmp_path / "s.duckdb") as store:
        store.ingest(week_one)
        store.ingest(two)
        ingests = store.count("ingests")
        again = store.ingest(two)
        assert again.unchanged
        assert (again.opportunities_new, again.opportunities_updated, again.history_added) == (0, 0, 0)
        assert again.opportunities_unchanged == two.opportunities.num_rows
        assert store.count("ingests") == ingests
        later = store.ingest(replace(two, snapshot_at=two.snapshot_at + timedelta(days=7)))
        assert (later.opportunities_updated, later.history_added) == (0, 0)  # a later snapshot of the same deals


def test_an_older_export_after_a_newer_one_merges_every_deal(week_one: CanonicalExport, tmp_path: Path) -> None:
    """An export older than the store's newest may place events before known ones: nothing is skipped."""
    two, _ = week_two(week_one)
    with Store.open(tmp_path / "a.duckdb") as store:
        store.ingest(two)
        late = store.ingest(week_one)
        late_contents = _contents(store)
    with Store.open(tmp_path / "b.duckdb") as store:
        store.ingest(two)
        store.backend.raw_sql("DELETE FROM deal_evidence")
        assert store.ingest(week_one).history_added == late.history_added
        contents = _contents(store)
    assert contents["history"] == late_contents["history"]
